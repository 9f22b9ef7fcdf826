import { sql, type Transaction } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { SharedCache } from '../cache/index.js';
import { fail, newSid, type Logger } from '../core/index.js';
import {
  OLDEST_FIRST,
  selectPage,
  sortBy,
  type KeysetPage,
  type Kysely,
  type PageCursor,
  type Store,
} from '../store/index.js';
import { firstUsageDay, usageRecords, type UsageQuery, type UsageRecord } from './usage.js';
import { msUntilPrice, rate, type UsagePlan } from './money.js';
import type {
  BalanceRow,
  BillingTables,
  LedgerEntryRow,
  SegmentRow,
  SpendLimitRow,
} from './tables.js';

export interface OpenSegmentInput {
  readonly callSid: string;
  /** The module in control; null when the call runs a plain URL (no module, no charge). */
  readonly moduleSid: string | null;
  readonly moduleCode?: string | null;
  /** The module's publisher (credited); the user account itself when there is no module. */
  readonly publisherAccountSid: string;
  /** The account the call belongs to (debited). */
  readonly userAccountSid: string;
  /** Call direction: inbound, outbound-api, outbound-dial (for usage categories). */
  readonly direction: string;
  /** The module's usage plan, copied into the segment. */
  readonly plan: UsagePlan;
  readonly startedMs: number;
  /** Why control came here: start (default), redirect, dial… */
  readonly reason?: string;
  /** Invocations counted by this segment (default 1). */
  readonly invocations?: number;
  /** The call was just created and has no segment yet: this one is numbered 1 without a read. */
  readonly first?: boolean;
  readonly nodeId?: string;
}

export interface SpendCheck {
  /** True when the call must stop (or be handed to the spend-limit module). */
  readonly reached: boolean;
  /** Which limit: the account's allotted cost or the call's own limit. */
  readonly limit: 'account' | 'call' | null;
  /** Cost of the whole call so far (closed segments + the open one at `nowMs`). */
  readonly callCostMicros: number;
  /** What the account has spent, including this call's cost so far. */
  readonly accountSpentMicros: number;
  readonly accountLimitMicros: number | null;
  /** The module the account's limit hands a call to (SpendLimit HandoffModule), if any. */
  readonly accountHandoffModule: string | null;
  readonly currency: string;
  /**
   * From `nowMs`, how long until the open segment's price reaches the tighter limit (ms);
   * undefined when it never will (free plan, no limit). 0 when reached.
   */
  readonly msUntilLimit: number | undefined;
}

export interface BillingOptions {
  readonly store: Store;
  readonly logger?: Logger;
  /** Post ledger entries as each segment closes (default true; tests turn it off). */
  readonly autoAccount?: boolean;
  /** Told of each segment this process closes (the platform records it in the event log). */
  readonly onClosed?: (segment: SegmentRow) => void;
  /** Told of the ledger entries this process posted, once committed (also logged as events). */
  readonly onPosted?: (entries: readonly LedgerEntryRow[]) => void;
  /**
   * Where accounts' spend limits are kept between changes: the policy and every live call's
   * spend check read them, and an account without one (most) then costs no query at all.
   */
  readonly cache?: SharedCache;
}

// Free-form but bounded: `call-start`, `redirect:acme.ivr`, `redirect-from:AP…`, `hangup`…
// A label never fails a call: anything else is sanitised, not refused.
function cleanReason(reason: string): string {
  const r = reason.replace(/[^A-Za-z0-9:._-]/g, '-').slice(0, 160);
  return r === '' ? 'unspecified' : r;
}

/**
 * Segments and money: the metering of each module's time in control of a call, and the
 * ledger that turns closed segments into debits and credits exactly once.
 */
/** A call's segments, in the order they happened. */
const BY_SEQ = sortBy('asc', ['seq', 'number']);

export class Billing {
  private readonly db: Kysely<BillingTables>;
  private readonly logger: Logger | undefined;
  private readonly autoAccount: boolean;
  private readonly onClosed: ((segment: SegmentRow) => void) | undefined;
  private readonly onPosted: ((entries: readonly LedgerEntryRow[]) => void) | undefined;
  private readonly cache: SharedCache | undefined;
  // Segments this process opened and has not closed (one per live call it runs), and the last
  // sequence number per call: they spare a read on each open and close. A call runs on one
  // node; the unique (call_sid, seq) index catches anything else, and we then re-read.
  private readonly openRows = new Map<string, SegmentRow>();
  private readonly lastSeq = new LRUCache<string, number>({ max: 100_000 });

  constructor(options: BillingOptions) {
    this.db = options.store.kysely<BillingTables>();
    this.logger = options.logger;
    this.autoAccount = options.autoAccount ?? true;
    this.onClosed = options.onClosed;
    this.onPosted = options.onPosted;
    this.cache = options.cache;
  }

  // ---------------------------------------------------------------- metering

  /** Opens the next segment of a call (durably, before control passes to the module). */
  async openSegment(input: OpenSegmentInput): Promise<SegmentRow> {
    const reason = cleanReason(input.reason ?? 'start');
    const now = Date.now();
    const cached = input.first ? 0 : this.lastSeq.get(input.callSid);
    const row: SegmentRow = {
      sid: newSid('SG'),
      call_sid: input.callSid,
      seq: (cached ?? (await this.maxSeq(input.callSid))) + 1,
      module_sid: input.moduleSid,
      module_code: input.moduleCode ?? null,
      publisher_account_sid: input.publisherAccountSid,
      user_account_sid: input.userAccountSid,
      direction: input.direction,
      status: 'open',
      started_ms: input.startedMs,
      last_seen_ms: input.startedMs,
      ended_ms: null,
      duration_ms: 0,
      start_reason: reason,
      transition_reason: null,
      billable_units: 0,
      invocations: input.invocations ?? 1,
      rate_micros: input.plan.perMinuteMicros,
      increment_s: input.plan.incrementSeconds,
      fee_micros: input.plan.perInvocationMicros,
      currency: input.plan.currency,
      price_micros: 0,
      node_id: input.nodeId ?? null,
      accounted_ms: null,
      date_created: now,
      date_updated: now,
    };
    try {
      await this.db.insertInto('billing_segments').values(row).execute();
    } catch (err) {
      if (cached === undefined) throw err;
      // Another writer numbered this call meanwhile: number from the table.
      row.seq = (await this.maxSeq(input.callSid)) + 1;
      await this.db.insertInto('billing_segments').values(row).execute();
    }
    this.lastSeq.set(row.call_sid, row.seq);
    this.openRows.set(row.sid, row);
    return row;
  }

  private async maxSeq(callSid: string): Promise<number> {
    const last = await this.db
      .selectFrom('billing_segments')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('call_sid', '=', callSid)
      .executeTakeFirst();
    return Number(last?.seq ?? 0);
  }

  /** Heartbeat: records that these open segments were alive at `nowMs` (one statement). */
  async touch(segmentSids: readonly string[], nowMs: number): Promise<void> {
    if (segmentSids.length === 0) return;
    await this.db
      .updateTable('billing_segments')
      .set({ last_seen_ms: nowMs })
      .where('sid', 'in', segmentSids)
      .where('status', '=', 'open')
      .where('last_seen_ms', '<', nowMs)
      .execute();
  }

  /**
   * Closes a segment at `endedMs`, rating it by its plan, in one durable write. Closing a
   * closed segment returns it unchanged. Ledger entries follow at once (autoAccount) or on
   * the next runAccounting().
   */
  async closeSegment(sid: string, endedMs: number, why: string): Promise<SegmentRow> {
    const reason = cleanReason(why);
    const row = this.openRows.get(sid) ?? (await this.getSegment(sid));
    if (!row) return fail('notFound', `Segment ${sid}`);
    this.openRows.delete(sid);
    if (row.status === 'closed') return row;
    const closed = this.rated(row, Math.max(endedMs, row.started_ms), reason);
    const close = (db: Kysely<BillingTables>, accounted: number | null) =>
      db
        .updateTable('billing_segments')
        .set({
          status: 'closed',
          ended_ms: closed.ended_ms,
          last_seen_ms: closed.last_seen_ms,
          duration_ms: closed.duration_ms,
          transition_reason: closed.transition_reason,
          billable_units: closed.billable_units,
          price_micros: closed.price_micros,
          accounted_ms: accounted,
          date_updated: closed.date_updated,
        })
        .where('sid', '=', sid)
        .where('status', '=', 'open')
        .executeTakeFirst();
    if (this.autoAccount && closed.price_micros === 0) {
      // Nothing to post: the close alone is the whole accounting (one statement, without
      // BEGIN and COMMIT: two round trips fewer on PostgreSQL for each free segment).
      const res = await close(this.db, closed.date_updated);
      if (Number(res.numUpdatedRows) === 0) return (await this.getSegment(sid)) ?? row;
      return this.announce({ ...closed, accounted_ms: closed.date_updated });
    }
    if (this.autoAccount) {
      // Close and post in one transaction (one commit): the close is the claim.
      try {
        const posted = await this.db.transaction().execute(async (trx) => {
          const res = await close(trx, closed.date_updated);
          if (Number(res.numUpdatedRows) === 0) return false;
          return this.post(trx, closed, closed.date_updated);
        });
        if (!posted) return (await this.getSegment(sid)) ?? row;
        this.announcePosted(posted);
        return this.announce({ ...closed, accounted_ms: closed.date_updated });
      } catch (err) {
        this.logger?.error({ err, segment: sid }, 'posting segment failed; closing it unposted');
      }
    }
    const res = await close(this.db, null);
    if (Number(res.numUpdatedRows) === 0) return (await this.getSegment(sid)) ?? row;
    return this.announce(closed);
  }

  private announce(segment: SegmentRow): SegmentRow {
    try {
      this.onClosed?.(segment);
    } catch (err) {
      this.logger?.error({ err, segment: segment.sid }, 'segment listener failed');
    }
    return segment;
  }

  /** A module transition: closes the call's open segment and opens the next one. */
  async transition(
    openSid: string,
    atMs: number,
    reason: string,
    next: Omit<OpenSegmentInput, 'startedMs' | 'reason'>,
  ): Promise<{ closed: SegmentRow; opened: SegmentRow }> {
    const closed = await this.closeSegment(openSid, atMs, reason);
    const opened = await this.openSegment({ ...next, startedMs: atMs, reason });
    return { closed, opened };
  }

  /**
   * Restart recovery: closes open segments at their last known time (reason `recovered`).
   * With `nodeId`, those of that node; with `staleMs`, those not seen for that long (another
   * node died); with neither, every open segment (a single node restarting).
   */
  async recoverOpenSegments(
    nowMs: number,
    options: { nodeId?: string; staleMs?: number } = {},
  ): Promise<SegmentRow[]> {
    let q = this.db.selectFrom('billing_segments').selectAll().where('status', '=', 'open');
    const { nodeId, staleMs } = options;
    if (nodeId !== undefined || staleMs !== undefined) {
      q = q.where((eb) =>
        eb.or([
          ...(nodeId !== undefined ? [eb('node_id', '=', nodeId)] : []),
          ...(staleMs !== undefined ? [eb('last_seen_ms', '<', nowMs - staleMs)] : []),
        ]),
      );
    }
    const open = await q.orderBy('started_ms').execute();
    const closed: SegmentRow[] = [];
    for (const row of open) {
      closed.push(await this.closeSegment(row.sid, row.last_seen_ms, 'recovered'));
    }
    if (closed.length) this.logger?.warn({ count: closed.length }, 'closed orphaned call segments');
    return closed;
  }

  private rated(row: SegmentRow, endedMs: number, reason: string): SegmentRow {
    const duration = endedMs - row.started_ms;
    const r = rate(planOf(row), duration, row.invocations);
    return {
      ...row,
      status: 'closed',
      ended_ms: endedMs,
      last_seen_ms: Math.max(row.last_seen_ms, endedMs),
      duration_ms: duration,
      transition_reason: reason,
      billable_units: r.billableUnits,
      price_micros: r.priceMicros,
      date_updated: Date.now(),
    };
  }

  async getSegment(sid: string): Promise<SegmentRow | undefined> {
    return this.db
      .selectFrom('billing_segments')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  /**
   * What each call costs as rated so far: the sum of its segments' prices, by currency, and
   * whether one of them is still open (then the price is not final). Calls without a segment
   * are absent from the answer. One query for a page of calls.
   */
  async callPrices(
    callSids: readonly string[],
  ): Promise<Map<string, { priceMicros: number; currency: string; open: boolean }[]>> {
    const out = new Map<string, { priceMicros: number; currency: string; open: boolean }[]>();
    if (callSids.length === 0) return out;
    const rows = await this.db
      .selectFrom('billing_segments')
      .select((eb) => [
        'call_sid',
        'currency',
        eb.fn.sum<number>('price_micros').as('price'),
        eb.fn.max('status').as('status'),
      ])
      .where('call_sid', 'in', [...new Set(callSids)])
      .groupBy(['call_sid', 'currency'])
      .execute();
    for (const r of rows) {
      const list = out.get(r.call_sid) ?? [];
      // 'open' sorts after 'closed': the max is open when any segment is.
      list.push({ priceMicros: Number(r.price), currency: r.currency, open: r.status === 'open' });
      out.set(r.call_sid, list);
    }
    return out;
  }

  /** A call's segments in order (for the call's own account). */
  async listSegments(
    userAccountSid: string,
    callSid: string,
    cursor: PageCursor,
  ): Promise<KeysetPage<SegmentRow>> {
    const q = this.db
      .selectFrom('billing_segments')
      .selectAll()
      .where('call_sid', '=', callSid)
      .where('user_account_sid', '=', userAccountSid);
    return selectPage(q, cursor, BY_SEQ);
  }

  // ---------------------------------------------------------------- accounting

  /**
   * Posts a closed segment's ledger entries: a debit to the user account and a credit to the
   * module's publisher, and updates both balances, in one transaction. Exactly once: the
   * segment is claimed by a conditional update, and each entry has a unique key. Returns
   * whether this call posted it.
   */
  async postSegment(sid: string): Promise<boolean> {
    const posted = await this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const claim = await trx
        .updateTable('billing_segments')
        .set({ accounted_ms: now })
        .where('sid', '=', sid)
        .where('status', '=', 'closed')
        .where('accounted_ms', 'is', null)
        .executeTakeFirst();
      if (Number(claim.numUpdatedRows) === 0) return false;
      const seg = await trx
        .selectFrom('billing_segments')
        .selectAll()
        .where('sid', '=', sid)
        .executeTakeFirstOrThrow();
      return this.post(trx, seg, now);
    });
    if (!posted) return false;
    this.announcePosted(posted);
    return true;
  }

  private announcePosted(entries: readonly LedgerEntryRow[]): void {
    if (entries.length === 0) return;
    try {
      this.onPosted?.(entries);
    } catch (err) {
      this.logger?.error({ err }, 'ledger listener failed');
    }
  }

  /**
   * The ledger entries of a claimed, closed segment and the balances they move, inside the
   * caller's transaction: both entries in one statement (unique keys), both balances in one.
   */
  private async post(
    trx: Transaction<BillingTables>,
    seg: SegmentRow,
    now: number,
  ): Promise<LedgerEntryRow[]> {
    if (seg.price_micros === 0) return [];
    const what = seg.module_code ?? seg.module_sid ?? 'call';
    const entry = (kind: 'debit' | 'credit'): LedgerEntryRow => ({
      sid: newSid('LE'),
      entry_key: `${seg.sid}:${kind}`,
      account_sid: kind === 'debit' ? seg.user_account_sid : seg.publisher_account_sid,
      counterparty_account_sid: kind === 'debit' ? seg.publisher_account_sid : seg.user_account_sid,
      kind,
      amount_micros: kind === 'debit' ? -seg.price_micros : seg.price_micros,
      currency: seg.currency,
      segment_sid: seg.sid,
      call_sid: seg.call_sid,
      module_sid: seg.module_sid,
      module_code: seg.module_code,
      description:
        kind === 'debit'
          ? `Use of module ${what} on call ${seg.call_sid}`
          : `Module ${what} used by ${seg.user_account_sid} on call ${seg.call_sid}`,
      date_created: now,
    });
    const entries = [entry('debit'), entry('credit')];
    const ins = await trx
      .insertInto('ledger_entries')
      .values(entries)
      .onConflict((oc) => oc.column('entry_key').doNothing())
      .executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return [];
    const balance = (account: string, amount: number, spent: number): BalanceRow => ({
      account_sid: account,
      currency: seg.currency,
      balance_micros: amount,
      spent_micros: spent,
      date_updated: now,
    });
    // One row per account (a publisher using its own module nets to zero).
    const rows =
      seg.user_account_sid === seg.publisher_account_sid
        ? [balance(seg.user_account_sid, 0, seg.price_micros)]
        : [
            balance(seg.user_account_sid, -seg.price_micros, seg.price_micros),
            balance(seg.publisher_account_sid, seg.price_micros, 0),
          ];
    await trx
      .insertInto('ledger_balances')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['account_sid', 'currency']).doUpdateSet({
          balance_micros: sql<number>`ledger_balances.balance_micros + excluded.balance_micros`,
          spent_micros: sql<number>`ledger_balances.spent_micros + excluded.spent_micros`,
          date_updated: now,
        }),
      )
      .execute();
    return entries;
  }

  /** Posts every closed segment not yet posted; safe to run any number of times, anywhere. */
  async runAccounting(batch = 200): Promise<number> {
    let posted = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('billing_segments')
        .select('sid')
        .where('status', '=', 'closed')
        .where('accounted_ms', 'is', null)
        .orderBy('date_updated')
        .limit(batch)
        .execute();
      if (rows.length === 0) return posted;
      for (const { sid } of rows) if (await this.postSegment(sid)) posted++;
      if (rows.length < batch) return posted;
    }
  }

  async balances(accountSid: string): Promise<BalanceRow[]> {
    return this.db
      .selectFrom('ledger_balances')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .orderBy('currency')
      .execute();
  }

  async listEntries(
    accountSid: string,
    filter: { callSid?: string | undefined; currency?: string | undefined },
    cursor: PageCursor,
  ): Promise<KeysetPage<LedgerEntryRow>> {
    let q = this.db.selectFrom('ledger_entries').selectAll().where('account_sid', '=', accountSid);
    if (filter.callSid !== undefined) q = q.where('call_sid', '=', filter.callSid);
    if (filter.currency !== undefined) q = q.where('currency', '=', filter.currency);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  /** One ledger entry of the account, or undefined. */
  entry(accountSid: string, sid: string): Promise<LedgerEntryRow | undefined> {
    return this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  /** The usage records of the accounts over the days asked, one per category and period. */
  usageRecords(query: UsageQuery): Promise<UsageRecord[]> {
    return usageRecords(this.db, query);
  }

  /** The earliest day with usage for these accounts (for AllTime), or undefined. */
  firstUsageDay(accountSids: readonly string[]): Promise<number | undefined> {
    return firstUsageDay(this.db, accountSids);
  }

  // ---------------------------------------------------------------- spend limits

  /** Sets (or with null removes) an account's allotted cost. */
  async setSpendLimit(
    accountSid: string,
    limitMicros: number | null,
    currency: string,
    handoffModule: string | null = null,
  ): Promise<SpendLimitRow | undefined> {
    if (limitMicros === null) {
      await this.db.deleteFrom('spend_limits').where('account_sid', '=', accountSid).execute();
      await this.cache?.changed();
      return undefined;
    }
    const row: SpendLimitRow = {
      account_sid: accountSid,
      currency,
      limit_micros: limitMicros,
      handoff_module: handoffModule,
      date_updated: Date.now(),
    };
    await this.db
      .insertInto('spend_limits')
      .values(row)
      .onConflict((oc) =>
        oc.column('account_sid').doUpdateSet({
          currency: row.currency,
          limit_micros: row.limit_micros,
          handoff_module: row.handoff_module,
          date_updated: row.date_updated,
        }),
      )
      .execute();
    await this.cache?.changed();
    return row;
  }

  spendLimit(accountSid: string): Promise<SpendLimitRow | undefined> {
    const read = () =>
      this.db
        .selectFrom('spend_limits')
        .selectAll()
        .where('account_sid', '=', accountSid)
        .executeTakeFirst();
    return this.cache ? this.cache.get(`limit:${accountSid}`, read) : read();
  }

  /** What an account has been debited (posted entries), in one currency. */
  async spent(accountSid: string, currency: string): Promise<number> {
    const row = await this.db
      .selectFrom('ledger_balances')
      .select('spent_micros')
      .where('account_sid', '=', accountSid)
      .where('currency', '=', currency)
      .executeTakeFirst();
    return row?.spent_micros ?? 0;
  }

  /**
   * The policy's question before control passes to a module: has the account used up its
   * allotted cost, counting what is posted and every segment not yet posted (its live calls
   * priced at `nowMs`)? An account without a limit costs no query.
   */
  async accountSpendReached(accountSid: string, nowMs: number): Promise<boolean> {
    if (!(await this.spendLimit(accountSid))) return false;
    return (await this.checkSpend({ accountSid, callSid: '', nowMs })).reached;
  }

  /** Whether an account has used up its allotted cost (posted entries only). */
  async accountLimitReached(accountSid: string): Promise<boolean> {
    const limit = await this.spendLimit(accountSid);
    if (!limit) return false;
    return (await this.spent(accountSid, limit.currency)) >= limit.limit_micros;
  }

  /**
   * "Has this call reached its limit?" — the running cost of a live call (closed segments
   * plus the open one priced at `nowMs`) against the account's allotted cost and the call's
   * own limit (`callLimitMicros`, an extension parameter of the call), with the time left
   * until the open segment's price reaches the tighter of the two.
   */
  async checkSpend(input: {
    accountSid: string;
    callSid: string;
    nowMs: number;
    callLimitMicros?: number | undefined;
    currency?: string | undefined;
  }): Promise<SpendCheck> {
    const limit = await this.spendLimit(input.accountSid);
    const segs = await this.db
      .selectFrom('billing_segments')
      .selectAll()
      .where('call_sid', '=', input.callSid)
      .where('user_account_sid', '=', input.accountSid)
      .orderBy('seq')
      .execute();
    const open = segs.find((s) => s.status === 'open');
    const currency = limit?.currency ?? input.currency ?? open?.currency ?? 'USD';
    const same = segs.filter((s) => s.currency === currency);
    const closedCost = sum(same.filter((s) => s.status === 'closed').map((s) => s.price_micros));
    const priceNow = (s: SegmentRow) =>
      s.status === 'closed'
        ? s.price_micros
        : rate(planOf(s), Math.max(0, input.nowMs - s.started_ms), s.invocations).priceMicros;
    const openPrice = open && open.currency === currency ? priceNow(open) : 0;
    const callCost = closedCost + openPrice;

    // The account: what is posted, plus every segment not yet posted — closed ones and the
    // live segments of all its calls, priced now (few rows, a partial index).
    let posted = 0;
    let pendingElsewhere = 0;
    if (limit) {
      posted = await this.spent(input.accountSid, currency);
      const pending = await this.db
        .selectFrom('billing_segments')
        .selectAll()
        .where('user_account_sid', '=', input.accountSid)
        .where('accounted_ms', 'is', null)
        .where('currency', '=', currency)
        .execute();
      pendingElsewhere = sum(pending.filter((s) => s.sid !== open?.sid).map(priceNow));
    }
    const accountSpent = posted + pendingElsewhere + openPrice;

    const accountReached = limit !== undefined && accountSpent >= limit.limit_micros;
    const callReached = input.callLimitMicros !== undefined && callCost >= input.callLimitMicros;

    // Budgets left for the open segment under each limit.
    const budgets: number[] = [];
    if (limit) budgets.push(limit.limit_micros - posted - pendingElsewhere);
    if (input.callLimitMicros !== undefined) budgets.push(input.callLimitMicros - closedCost);
    let msUntilLimit: number | undefined;
    if (accountReached || callReached) msUntilLimit = 0;
    else if (open && open.currency === currency && budgets.length) {
      const at = msUntilPrice(planOf(open), open.invocations, Math.min(...budgets));
      if (at !== undefined) msUntilLimit = Math.max(0, open.started_ms + at - input.nowMs);
    }
    return {
      reached: accountReached || callReached,
      limit: callReached ? 'call' : accountReached ? 'account' : null,
      callCostMicros: callCost,
      accountSpentMicros: accountSpent,
      accountLimitMicros: limit?.limit_micros ?? null,
      accountHandoffModule: limit?.handoff_module ?? null,
      currency,
      msUntilLimit,
    };
  }
}

export function planOf(row: SegmentRow): UsagePlan {
  return {
    perMinuteMicros: row.rate_micros,
    incrementSeconds: row.increment_s,
    perInvocationMicros: row.fee_micros,
    currency: row.currency,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
