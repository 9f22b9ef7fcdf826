import type { Kysely, Store } from '../../store/index.js';
import type { RecordingRow, RecordingTables } from './tables.js';

/** Durable records of recordings: a call's, a <Record>'s, a <Dial>'s or a conference's. */
export class RecordingStore {
  readonly db: Kysely<RecordingTables>;
  /** Told of each recording stored as completed (the call-recordings port's onCompleted). */
  private readonly completedListeners = new Set<(sid: string, accountSid: string) => void>();

  constructor(store: Store) {
    this.db = store.kysely<RecordingTables>();
  }

  async insert(row: RecordingRow): Promise<void> {
    await this.db.insertInto('recordings').values(row).execute();
    if (row.status === 'completed') this.completed(row.sid, row.account_sid);
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
    if (changes.status !== 'completed' || this.completedListeners.size === 0) return;
    const done = await this.db
      .selectFrom('recordings')
      .select('account_sid')
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (done) this.completed(sid, done.account_sid);
  }

  /** Calls `listener` after each recording is stored as completed; returns the unsubscribe. */
  onCompleted(listener: (sid: string, accountSid: string) => void): () => void {
    this.completedListeners.add(listener);
    return () => this.completedListeners.delete(listener);
  }

  private completed(sid: string, accountSid: string): void {
    for (const l of this.completedListeners) l(sid, accountSid);
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
