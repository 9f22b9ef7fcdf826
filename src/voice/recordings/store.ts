import type { Kysely, Store } from '../../store/index.js';
import type { RecordingRow, RecordingTables } from './tables.js';

/** Durable records of recordings: a call's, a <Record>'s, a <Dial>'s or a conference's. */
export class RecordingStore {
  readonly db: Kysely<RecordingTables>;

  constructor(store: Store) {
    this.db = store.kysely<RecordingTables>();
  }

  async insert(row: RecordingRow): Promise<void> {
    await this.db.insertInto('recordings').values(row).execute();
  }

  async update(
    sid: string,
    changes: Partial<Pick<RecordingRow, 'status' | 'duration_ms'>>,
  ): Promise<void> {
    await this.db
      .updateTable('recordings')
      .set({ ...changes, date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
  }

  async get(accountSid: string, sid: string): Promise<RecordingRow | undefined> {
    return this.db
      .selectFrom('recordings')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  async delete(sid: string): Promise<void> {
    await this.db.deleteFrom('recordings').where('sid', '=', sid).execute();
  }
}
