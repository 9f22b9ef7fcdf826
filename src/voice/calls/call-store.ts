import { newSid } from '../../core/index.js';
import type { Kysely, Store } from '../../store/index.js';
import type { CallRow, CallTables, NotificationRow } from './tables.js';

/** Durable records of calls and their notifications (errors). */
export class CallStore {
  readonly db: Kysely<CallTables>;

  /** `nodeId`: this process, recorded on the calls it runs. */
  constructor(
    store: Store,
    private readonly nodeId: string | null = null,
  ) {
    this.db = store.kysely<CallTables>();
  }

  async insert(row: CallRow): Promise<void> {
    await this.db
      .insertInto('calls')
      .values({ ...row, node_id: this.nodeId })
      .execute();
  }

  /** The other nodes that run calls not answered yet (queued or ringing). */
  async nodesWithUnanswered(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('calls')
      .select('node_id')
      .distinct()
      .where('status', 'in', ['queued', 'ringing'])
      .where('node_id', 'is not', null)
      .where('node_id', '!=', this.nodeId ?? '')
      .execute();
    return rows.map((r) => r.node_id ?? '').filter((id) => id !== '');
  }

  /** The calls of a node that died which were not answered yet: failed at `atMs`. */
  async failUnansweredOf(nodeId: string, atMs: number): Promise<CallRow[]> {
    return this.db
      .updateTable('calls')
      .set({ status: 'failed', end_time: atMs, date_updated: Date.now() })
      .where('node_id', '=', nodeId)
      .where('status', 'in', ['queued', 'ringing'])
      .returningAll()
      .execute();
  }

  async update(sid: string, changes: Partial<Omit<CallRow, 'sid' | 'account_sid'>>): Promise<void> {
    await this.db
      .updateTable('calls')
      .set({ ...changes, date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
  }

  async get(accountSid: string, sid: string): Promise<CallRow | undefined> {
    return this.db
      .selectFrom('calls')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  async notify(
    call: Pick<CallRow, 'sid' | 'account_sid'>,
    code: number,
    message: string,
    requestUrl: string | null,
    log: 0 | 1 = 0,
  ): Promise<void> {
    const row: NotificationRow = {
      sid: newSid('NO'),
      account_sid: call.account_sid,
      call_sid: call.sid,
      error_code: code,
      log,
      message_text: message,
      request_url: requestUrl,
      date_created: Date.now(),
    };
    await this.db.insertInto('call_notifications').values(row).execute();
  }

  /**
   * Calls left live by a node that stopped: they are over; marks them so (an unanswered one
   * failed, an answered one completed) and returns them as they now are.
   */
  async failOrphans(now: number): Promise<CallRow[]> {
    const live = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('status', 'in', ['queued', 'ringing', 'in-progress'])
      .execute();
    if (live.length === 0) return [];
    // Nothing else runs yet (the node is starting): the rows read are the rows ended.
    const end = (status: 'failed' | 'completed', from: CallRow['status'][]) =>
      this.db
        .updateTable('calls')
        .set({ status, end_time: now, date_updated: now })
        .where('status', 'in', from)
        .execute();
    if (live.some((r) => r.status !== 'in-progress')) await end('failed', ['queued', 'ringing']);
    if (live.some((r) => r.status === 'in-progress')) await end('completed', ['in-progress']);
    return live.map((r) => ({
      ...r,
      status: r.status === 'in-progress' ? 'completed' : 'failed',
      end_time: now,
      date_updated: now,
    }));
  }

  /**
   * A call whose node died (its metering went silent, see Billing.recoverOpenSegments): over
   * at `atMs`, its last known moment, unless it ended meanwhile. Returns the row as it now is,
   * or undefined when the call was no longer live.
   */
  async endAbandoned(sid: string, atMs: number): Promise<CallRow | undefined> {
    const end = (status: 'failed' | 'completed', from: CallRow['status'][]) =>
      this.db
        .updateTable('calls')
        .set({ status, end_time: atMs, date_updated: Date.now() })
        .where('sid', '=', sid)
        .where('status', 'in', from)
        .returningAll()
        .executeTakeFirst();
    return (
      (await end('completed', ['in-progress'])) ?? (await end('failed', ['queued', 'ringing']))
    );
  }
}
