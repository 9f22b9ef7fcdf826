// The Messages resource once a message is stored: read, list (newest first, as Twilio), redact
// and delete. Readers flush the pending status writes first, so they see every status reported.
import type { Kysely } from 'kysely';
import { fail } from '../core/index.js';
import { NEWEST_FIRST, selectPage, type KeysetPage, type PageCursor } from '../store/index.js';
import type { MessageRow, MessageStatus, MessagingTables } from './tables.js';
import type { MessageWrites } from './writes.js';

export interface MessageFilters {
  to?: string | undefined;
  from?: string | undefined;
  sentBefore?: number | undefined;
  sentAfter?: number | undefined;
  sentOn?: number | undefined;
}

/** Statuses after which a message is no longer in flight (it may be redacted or deleted). */
const FINAL: readonly MessageStatus[] = [
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'received',
  'canceled',
];

export class Messages {
  constructor(
    private readonly db: Kysely<MessagingTables>,
    private readonly writes: MessageWrites,
  ) {}

  async get(accountSid: string, sid: string): Promise<MessageRow> {
    await this.writes.flush();
    const row = await this.db
      .selectFrom('messaging_messages')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Message ${sid}`);
    return row;
  }

  async list(
    accountSid: string,
    filters: MessageFilters,
    cursor: PageCursor,
  ): Promise<KeysetPage<MessageRow>> {
    await this.writes.flush();
    let q = this.db
      .selectFrom('messaging_messages')
      .selectAll()
      .where('account_sid', '=', accountSid);
    if (filters.to) q = q.where('to_addr', '=', filters.to);
    if (filters.from) q = q.where('from_addr', '=', filters.from);
    if (filters.sentBefore !== undefined) q = q.where('date_created', '<', filters.sentBefore);
    if (filters.sentAfter !== undefined) q = q.where('date_created', '>=', filters.sentAfter);
    if (filters.sentOn !== undefined) {
      q = q
        .where('date_created', '>=', filters.sentOn)
        .where('date_created', '<', filters.sentOn + 86_400_000);
    }
    // Twilio lists newest first.
    return selectPage(q, cursor, NEWEST_FIRST);
  }

  /** Body="" redacts a message once it is no longer in flight. */
  async redact(accountSid: string, sid: string): Promise<MessageRow> {
    const row = await this.get(accountSid, sid);
    if (!FINAL.includes(row.status)) fail('messageNotRedactable', row.status);
    await this.db
      .updateTable('messaging_messages')
      .set({ body: '', date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
    return { ...row, body: '' };
  }

  async delete(accountSid: string, sid: string): Promise<void> {
    const row = await this.get(accountSid, sid);
    if (!FINAL.includes(row.status)) fail('messageNotRedactable', row.status);
    await this.db.deleteFrom('messaging_messages').where('sid', '=', sid).execute();
    await this.db.deleteFrom('messaging_parts').where('message_sid', '=', sid).execute();
    await this.db.deleteFrom('messaging_media').where('message_sid', '=', sid).execute();
  }
}
