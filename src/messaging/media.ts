// MMS media: Twilio's limits on MediaUrl (up to 10 http(s) URLs), the Media subresource rows
// (ME…) of a message and their JSON. Switchboard does not fetch the files (the carrier does),
// so an outbound file's content type is inferred from its URL.
import { fail, newSid, rfc2822 } from '../core/index.js';
import type { InboundMedia } from './carriers/carrier.js';
import type { Kysely } from 'kysely';
import { OLDEST_FIRST, selectPage, type KeysetPage, type PageCursor } from '../store/index.js';
import type { MediaRow, MessagingTables } from './tables.js';

export const MAX_MEDIA = 10;

/** Validates MediaUrl values (21623 too many, 21620 not an http(s) URL). */
export function checkMediaUrls(urls: readonly string[]): void {
  if (urls.length > MAX_MEDIA) {
    fail('tooManyMedia', `${urls.length} MediaUrl given; at most ${MAX_MEDIA}`);
  }
  for (const u of urls) {
    const parsed = URL.canParse(u) ? new URL(u) : undefined;
    const ok =
      parsed !== undefined &&
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      u.length <= 2048;
    if (!ok) fail('invalidMediaUrl', u.slice(0, 100));
  }
}

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  amr: 'audio/amr',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  mov: 'video/quicktime',
  pdf: 'application/pdf',
  vcf: 'text/vcard',
  txt: 'text/plain',
};

export function contentTypeOf(url: string): string {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return (ext && TYPES[ext]) ?? 'application/octet-stream';
}

export function mediaRows(
  accountSid: string,
  messageSid: string,
  media: readonly InboundMedia[],
  now: number,
): MediaRow[] {
  return media.map((m, i) => ({
    sid: newSid('ME'),
    account_sid: accountSid,
    message_sid: messageSid,
    url: m.url,
    content_type: m.contentType ?? contentTypeOf(m.url),
    // Distinct times keep the files in the order given.
    date_created: now + i,
  }));
}

export function mediaJson(row: MediaRow): Record<string, unknown> {
  return {
    account_sid: row.account_sid,
    content_type: row.content_type,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_created),
    parent_sid: row.message_sid,
    sid: row.sid,
    uri: `/2010-04-01/Accounts/${row.account_sid}/Messages/${row.message_sid}/Media/${row.sid}.json`,
    // Switchboard extension: where the file is.
    media_url: row.url,
  };
}

/** The Media subresource of a message (its rows are written with the message). */
export class MessageMedia {
  constructor(
    private readonly db: Kysely<MessagingTables>,
    /** The message, or notFound: its media are reached through it. */
    private readonly message: (accountSid: string, sid: string) => Promise<unknown>,
  ) {}

  async list(
    accountSid: string,
    messageSid: string,
    cursor: PageCursor,
  ): Promise<KeysetPage<MediaRow>> {
    await this.message(accountSid, messageSid);
    const q = this.db
      .selectFrom('messaging_media')
      .selectAll()
      .where('message_sid', '=', messageSid)
      .where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async get(accountSid: string, messageSid: string, sid: string): Promise<MediaRow> {
    const row = await this.db
      .selectFrom('messaging_media')
      .selectAll()
      .where('sid', '=', sid)
      .where('message_sid', '=', messageSid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Media ${sid.slice(0, 40)}`);
    return row;
  }

  async delete(accountSid: string, messageSid: string, sid: string): Promise<void> {
    await this.get(accountSid, messageSid, sid);
    await this.db.deleteFrom('messaging_media').where('sid', '=', sid).execute();
  }

  /** Stores the rows of an outbound message's media URLs. */
  async store(accountSid: string, messageSid: string, urls: readonly string[], at: number) {
    const files = urls.map((url) => ({ url, contentType: contentTypeOf(url) }));
    await this.db
      .insertInto('messaging_media')
      .values(mediaRows(accountSid, messageSid, files, at))
      .execute();
  }

  /** The media URLs of messages, in order (scheduled messages read theirs when due). */
  async urlsOf(messageSids: readonly string[]): Promise<Map<string, string[]>> {
    const media = new Map<string, string[]>();
    if (!messageSids.length) return media;
    const files = await this.db
      .selectFrom('messaging_media')
      .select(['message_sid', 'url'])
      .where('message_sid', 'in', [...messageSids])
      .orderBy('date_created')
      .orderBy('sid')
      .execute();
    for (const f of files) media.set(f.message_sid, [...(media.get(f.message_sid) ?? []), f.url]);
    return media;
  }
}
