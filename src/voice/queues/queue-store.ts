import { Errors, TwilioError, newSid } from '../../core/index.js';
import type { Kysely, Store } from '../../store/index.js';
import type { MemberRow, QueueRow, QueueTables } from './tables.js';

/** Twilio's defaults and bounds for a queue's MaxSize. */
export const DEFAULT_MAX_SIZE = 1000;
export const MAX_MAX_SIZE = 5000;
export const MAX_NAME_LENGTH = 64;

export type JoinResult =
  | { readonly kind: 'joined'; readonly queue: QueueRow; readonly member: MemberRow }
  | { readonly kind: 'full'; readonly queue: QueueRow };

export interface QueueStats {
  /** Members waiting now. */
  readonly size: number;
  /** Average seconds the current members have waited (0 when empty). */
  readonly averageWaitS: number;
}

/**
 * Queues and their members in the SQL store, shared by every node. The size check, the
 * position counter and membership change in one transaction, and a member leaves the queue by
 * deleting its row: whoever deletes it (a dequeuing agent on any node, the API, the caller
 * leaving) owns that exit, so a member is taken at most once on SQLite and on PostgreSQL.
 */
export class QueueStore {
  readonly db: Kysely<QueueTables>;
  private readonly dialect: Store['dialect'];

  constructor(store: Store) {
    this.db = store.kysely<QueueTables>();
    this.dialect = store.dialect;
  }

  // ------------------------------------------------------------------ queues

  async create(accountSid: string, friendlyName: string, maxSize: number): Promise<QueueRow> {
    const now = Date.now();
    const row: QueueRow = {
      sid: newSid('QU'),
      account_sid: accountSid,
      friendly_name: friendlyName,
      max_size: maxSize,
      current_size: 0,
      last_seq: 0,
      date_created: now,
      date_updated: now,
    };
    const inserted = await this.db
      .insertInto('call_queues')
      .values(row)
      .onConflict((oc) => oc.columns(['account_sid', 'friendly_name']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
      throw new TwilioError(
        Errors.queueNameInUse,
        `a queue named "${friendlyName}" already exists in this account`,
      );
    return row;
  }

  /** The queue with this name, created (MaxSize 1000) when it does not exist: <Enqueue>. */
  /** The account's queue of that name, created with `maxSize` members at most on first use. */
  async ensure(
    accountSid: string,
    friendlyName: string,
    maxSize = DEFAULT_MAX_SIZE,
  ): Promise<QueueRow> {
    const existing = await this.byName(accountSid, friendlyName);
    if (existing) return existing;
    const now = Date.now();
    await this.db
      .insertInto('call_queues')
      .values({
        sid: newSid('QU'),
        account_sid: accountSid,
        friendly_name: friendlyName,
        max_size: maxSize,
        current_size: 0,
        last_seq: 0,
        date_created: now,
        date_updated: now,
      })
      // Two calls creating the same queue at once: one insert wins, both use its row.
      .onConflict((oc) => oc.columns(['account_sid', 'friendly_name']).doNothing())
      .execute();
    const row = await this.byName(accountSid, friendlyName);
    if (!row) throw new Error(`queue ${friendlyName} vanished while being created`);
    return row;
  }

  async byName(accountSid: string, friendlyName: string): Promise<QueueRow | undefined> {
    return this.db
      .selectFrom('call_queues')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('friendly_name', '=', friendlyName)
      .executeTakeFirst();
  }

  async get(accountSid: string, sid: string): Promise<QueueRow | undefined> {
    return this.db
      .selectFrom('call_queues')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  async update(
    row: QueueRow,
    changes: { friendlyName?: string | undefined; maxSize?: number | undefined },
  ): Promise<QueueRow> {
    const set: Partial<QueueRow> = { date_updated: Date.now() };
    if (changes.friendlyName !== undefined) set.friendly_name = changes.friendlyName;
    if (changes.maxSize !== undefined) set.max_size = changes.maxSize;
    if (set.friendly_name !== undefined && set.friendly_name !== row.friendly_name) {
      const clash = await this.byName(row.account_sid, set.friendly_name);
      if (clash)
        throw new TwilioError(
          Errors.queueNameInUse,
          `a queue named "${set.friendly_name}" already exists in this account`,
        );
    }
    await this.db.updateTable('call_queues').set(set).where('sid', '=', row.sid).execute();
    return (await this.get(row.account_sid, row.sid)) ?? { ...row, ...set };
  }

  /** Deletes an empty queue; false when it still has members (checked in the same statement). */
  async deleteIfEmpty(row: QueueRow): Promise<boolean> {
    const res = await this.db
      .deleteFrom('call_queues')
      .where('sid', '=', row.sid)
      .where('current_size', '=', 0)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ------------------------------------------------------------------ members

  /** Adds a call at the back of the queue, unless the queue is full. */
  async join(queue: QueueRow, callSid: string, nodeId: string, now: number): Promise<JoinResult> {
    return this.db.transaction().execute(async (trx) => {
      const taken = await trx
        .updateTable('call_queues')
        .set((eb) => ({
          current_size: eb('current_size', '+', 1),
          last_seq: eb('last_seq', '+', 1),
          date_updated: now,
        }))
        .where('sid', '=', queue.sid)
        .whereRef('current_size', '<', 'max_size')
        .returningAll()
        .executeTakeFirst();
      if (!taken) return { kind: 'full', queue } as const;
      const member: MemberRow = {
        call_sid: callSid,
        queue_sid: queue.sid,
        account_sid: queue.account_sid,
        seq: Number(taken.last_seq),
        date_enqueued: now,
        node_id: nodeId,
        last_seen: now,
      };
      await trx.insertInto('call_queue_members').values(member).execute();
      return { kind: 'joined', queue: taken, member } as const;
    });
  }

  /**
   * Takes a call out of its queue. Returns its row when this caller removed it, undefined when
   * it was not (or no longer) waiting: someone else took it first.
   */
  async remove(callSid: string, queueSid?: string): Promise<MemberRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.deleteFrom('call_queue_members').where('call_sid', '=', callSid);
      if (queueSid) q = q.where('queue_sid', '=', queueSid);
      const gone = await q.returningAll().executeTakeFirst();
      if (!gone) return undefined;
      await trx
        .updateTable('call_queues')
        .set((eb) => ({ current_size: eb('current_size', '-', 1), date_updated: Date.now() }))
        .where('sid', '=', gone.queue_sid)
        .execute();
      return gone;
    });
  }

  /** A node says it still holds its waiting calls. */
  async touch(nodeId: string, now: number): Promise<void> {
    await this.db
      .updateTable('call_queue_members')
      .set({ last_seen: now })
      .where('node_id', '=', nodeId)
      .execute();
  }

  /** Takes out members whose node has not touched them since `before` (it crashed). */
  async purgeStale(before: number): Promise<MemberRow[]> {
    const stale = await this.db
      .selectFrom('call_queue_members')
      .selectAll()
      .where('last_seen', '<', before)
      .execute();
    const removed: MemberRow[] = [];
    for (const m of stale) {
      const gone = await this.remove(m.call_sid, m.queue_sid);
      if (gone) removed.push(gone);
    }
    return removed;
  }

  /** Forgets every member (a single node restarting: their calls ended with the old process). */
  async clearMembers(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('call_queue_members').execute();
      await trx.updateTable('call_queues').set({ current_size: 0 }).execute();
    });
  }

  /**
   * Puts a member taken by a dequeue that could not complete back at its old position (even
   * if the queue filled up meanwhile: it was counted before).
   */
  async restore(member: MemberRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('call_queue_members')
        .values({ ...member, last_seen: Date.now() })
        .execute();
      await trx
        .updateTable('call_queues')
        .set((eb) => ({ current_size: eb('current_size', '+', 1), date_updated: Date.now() }))
        .where('sid', '=', member.queue_sid)
        .execute();
    });
  }

  /**
   * Takes the front member (smallest position) out of the queue; undefined when empty. With
   * `nodeId`, only members held by that node are candidates.
   */
  async claimFront(queueSid: string, nodeId?: string): Promise<MemberRow | undefined> {
    if (this.dialect === 'postgres') {
      // SKIP LOCKED with LIMIT may find nothing while rows remain (each locked by a claimer
      // that is about to take it, or deleted under it): then look again, plainly.
      for (let attempt = 0; attempt < 20; attempt++) {
        const taken = await this.claimFrontLocked(queueSid, nodeId);
        if (taken || !(await this.front(queueSid, nodeId))) return taken;
      }
      return undefined;
    }
    // SQLite has one writer at a time. A lost race means another claimer took that member, so
    // every retry follows someone's progress and the loop ends when the queue is empty.
    for (;;) {
      const front = await this.front(queueSid, nodeId);
      if (!front) return undefined;
      const taken = await this.remove(front.call_sid, queueSid);
      if (taken) return taken;
    }
  }

  /**
   * PostgreSQL: concurrent claimers lock distinct rows (SKIP LOCKED) instead of all racing for
   * the same front row and retrying.
   */
  private async claimFrontLocked(
    queueSid: string,
    nodeId: string | undefined,
  ): Promise<MemberRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('call_queue_members').selectAll().where('queue_sid', '=', queueSid);
      if (nodeId) q = q.where('node_id', '=', nodeId);
      const front = await q.orderBy('seq').limit(1).forUpdate().skipLocked().executeTakeFirst();
      if (!front) return undefined;
      await trx.deleteFrom('call_queue_members').where('call_sid', '=', front.call_sid).execute();
      await trx
        .updateTable('call_queues')
        .set((eb) => ({ current_size: eb('current_size', '-', 1), date_updated: Date.now() }))
        .where('sid', '=', queueSid)
        .execute();
      return front;
    });
  }

  async front(queueSid: string, nodeId?: string): Promise<MemberRow | undefined> {
    let q = this.db.selectFrom('call_queue_members').selectAll().where('queue_sid', '=', queueSid);
    if (nodeId) q = q.where('node_id', '=', nodeId);
    return q.orderBy('seq').limit(1).executeTakeFirst();
  }

  async member(queueSid: string, callSid: string): Promise<MemberRow | undefined> {
    return this.db
      .selectFrom('call_queue_members')
      .selectAll()
      .where('queue_sid', '=', queueSid)
      .where('call_sid', '=', callSid)
      .executeTakeFirst();
  }

  /** Members in position order, starting after position `afterSeq`. */
  async members(queueSid: string, afterSeq: number, limit: number): Promise<MemberRow[]> {
    return this.db
      .selectFrom('call_queue_members')
      .selectAll()
      .where('queue_sid', '=', queueSid)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** 1-based position of a member: how many wait ahead of it, plus one. */
  async position(member: MemberRow): Promise<number> {
    const r = await this.db
      .selectFrom('call_queue_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('queue_sid', '=', member.queue_sid)
      .where('seq', '<=', member.seq)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async stats(queueSid: string, now: number): Promise<QueueStats> {
    const r = await this.db
      .selectFrom('call_queue_members')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('date_enqueued').as('total'),
      ])
      .where('queue_sid', '=', queueSid)
      .executeTakeFirstOrThrow();
    const n = Number(r.n);
    if (n === 0) return { size: 0, averageWaitS: 0 };
    const avgEnqueued = Number(r.total) / n;
    return { size: n, averageWaitS: Math.max(0, Math.round((now - avgEnqueued) / 1000)) };
  }
}
