// The trackers' rows: create, read, list (keyset by creation time), update, delete (with the
// figures counted for them).
import { newSid } from '../core/index.js';
import {
  OLDEST_FIRST,
  selectPage,
  type KeysetPage,
  type Kysely,
  type PageCursor,
} from '../store/index.js';
import type { TrackerRow, TrackingTables } from './tables.js';
import type { BucketSize, Measure } from './trackers.js';

export interface TrackerInput {
  readonly friendlyName: string;
  readonly tags: readonly string[];
  readonly match: 'all' | 'any';
  readonly eventKinds: readonly string[] | null;
  readonly measures: readonly Measure[];
  readonly bucket: BucketSize;
}

export class TrackerStore {
  constructor(private readonly db: Kysely<TrackingTables>) {}

  async create(accountSid: string, input: TrackerInput): Promise<TrackerRow> {
    const now = Date.now();
    const row: TrackerRow = {
      sid: newSid('TK'),
      account_sid: accountSid,
      friendly_name: input.friendlyName,
      tags: JSON.stringify(input.tags),
      match: input.match,
      event_kinds: input.eventKinds ? JSON.stringify(input.eventKinds) : null,
      measures: JSON.stringify(input.measures),
      bucket: input.bucket,
      date_created: now,
      date_updated: now,
    };
    await this.db.insertInto('trackers').values(row).execute();
    return row;
  }

  async get(accountSid: string, sid: string): Promise<TrackerRow | undefined> {
    return this.db
      .selectFrom('trackers')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  async list(accountSid: string, cursor: PageCursor): Promise<KeysetPage<TrackerRow>> {
    const q = this.db.selectFrom('trackers').selectAll().where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async update(
    accountSid: string,
    sid: string,
    input: Partial<TrackerInput>,
  ): Promise<TrackerRow | undefined> {
    const set: Partial<TrackerRow> = { date_updated: Date.now() };
    if (input.friendlyName !== undefined) set.friendly_name = input.friendlyName;
    if (input.tags !== undefined) set.tags = JSON.stringify(input.tags);
    if (input.match !== undefined) set.match = input.match;
    if (input.eventKinds !== undefined)
      set.event_kinds = input.eventKinds ? JSON.stringify(input.eventKinds) : null;
    if (input.measures !== undefined) set.measures = JSON.stringify(input.measures);
    if (input.bucket !== undefined) set.bucket = input.bucket;
    await this.db
      .updateTable('trackers')
      .set(set)
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .execute();
    return this.get(accountSid, sid);
  }

  async delete(accountSid: string, sid: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('trackers')
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    for (const table of ['tracker_buckets', 'tracker_bins', 'tracker_interactions'] as const)
      await this.db.deleteFrom(table).where('tracker_sid', '=', sid).execute();
    return true;
  }
}
