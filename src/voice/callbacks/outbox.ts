// The outbox of status callbacks: an accepted callback is a row in the store before its first
// attempt, so that a crash loses none; each call's callbacks go out one after another, each
// retried with backoff until the receiver takes it; a restart (or, with several nodes, another
// node once the crashed one's lease ran out) picks up where delivery stood.
//
// Writes are batched (a few milliseconds' worth in one statement, SQLite's on its writer
// thread) and the call never waits for them: the hot path pays an array push per callback.
import { sql } from 'kysely';
import type { Logger } from '../../core/index.js';
import type { Kysely, Store } from '../../store/index.js';
import { callWebhook, type WebhookMethod } from '../../webhook/index.js';
import type { CallbackRow, CallbackTables } from './tables.js';

export interface OutboxItem {
  /** The call whose callbacks these are, delivered in `seq` order. */
  readonly chain: string;
  readonly seq: number;
  readonly accountSid: string;
  readonly url: string;
  readonly method: WebhookMethod;
  readonly params: Readonly<Record<string, string>>;
  /** false: nothing is sent; the item only closes its chain. */
  readonly send: boolean;
  /** The chain's last item (the call ended): once it is delivered the chain's rows go. */
  readonly closes: boolean;
  readonly createdMs: number;
  /** Sent only once this settles (not stored: an item taken over after a crash has none). */
  readonly sendAfter?: Promise<unknown>;
}

export interface CallbackOutboxOptions {
  readonly store: Store;
  /** This process: chains it delivers carry its id and its lease. */
  readonly nodeId: string;
  readonly logger: Logger;
  /** The AuthToken that signs an account's callbacks now (undefined: the account is not active). */
  readonly authToken: (accountSid: string) => Promise<string | undefined>;
  /** Told of a callback given up on (refused by its receiver, or failing for too long). */
  readonly onGiveUp?: (item: OutboxItem, reason: string) => void;
  /** How long writes wait to be batched (ms). */
  readonly flushMs?: number;
  /** How long a node's claim on its chains lasts without renewal (ms). */
  readonly leaseMs?: number;
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** A callback still failing this long after its event is given up on (ms). */
  readonly giveUpAfterMs?: number;
  /** Bound on one attempt (ms). */
  readonly timeoutMs?: number;
}

const COLUMNS = [
  'chain',
  'seq',
  'account_sid',
  'url',
  'method',
  'params',
  'send',
  'closes',
  'created_ms',
  'delivered_ms',
  'node_id',
  'lease_until',
] as const satisfies readonly (keyof CallbackRow)[];
/** Most rows one statement writes. */
const BATCH = 500;

interface Queued {
  readonly item: OutboxItem;
  /** Settles once the row is written (or its write failed, which is logged). */
  readonly stored: Promise<void>;
}

interface Batch {
  readonly rows: CallbackRow[];
  readonly stored: Promise<void>;
  readonly resolve: () => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  const stored = new Promise<void>((r) => (resolve = r));
  return { rows: [], stored, resolve };
}

export class CallbackOutbox {
  private readonly db: Kysely<CallbackTables>;
  private readonly chains = new Map<string, Queued[]>();
  private batch = newBatch();
  private delivered: { chain: string; seq: number; delivered_ms: number }[] = [];
  private closed: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly waits = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly intervals: NodeJS.Timeout[] = [];
  private readonly runs = new Set<Promise<void>>();
  private stopped = false;
  private idle: (() => void)[] = [];
  private readonly o: Required<
    Pick<
      CallbackOutboxOptions,
      'flushMs' | 'leaseMs' | 'firstRetryMs' | 'maxRetryMs' | 'giveUpAfterMs' | 'timeoutMs'
    >
  > &
    CallbackOutboxOptions;

  constructor(options: CallbackOutboxOptions) {
    this.o = {
      flushMs: 20,
      leaseMs: 60_000,
      firstRetryMs: 1000,
      maxRetryMs: 60_000,
      giveUpAfterMs: 24 * 3600_000,
      timeoutMs: 10_000,
      ...options,
    };
    this.db = options.store.kysely<CallbackTables>();
  }

  /**
   * Takes over the chains left undelivered: every one (`all`, a single node restarting: nobody
   * else delivers) or those whose node's lease ran out; with several nodes, keeps looking.
   */
  async start(options: { all: boolean }): Promise<void> {
    await this.takeOver(options.all);
    const { leaseMs } = this.o;
    const renew = setInterval(() => void this.renewLeases(), leaseMs / 3);
    renew.unref();
    this.intervals.push(renew);
    if (!options.all) {
      const sweep = setInterval(() => void this.takeOver(false), leaseMs / 2);
      sweep.unref();
      this.intervals.push(sweep);
    }
  }

  /**
   * Delivers what it can within `graceMs`, then stops: what is left stays in the store for
   * the next start, and other nodes may take this one's chains at once.
   */
  async stop(graceMs = 3000): Promise<void> {
    for (const i of this.intervals) clearInterval(i);
    const bounded = (p: Promise<unknown>, ms: number) =>
      Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())]);
    await bounded(this.drain(), graceMs);
    this.stopped = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.wake();
    }
    // An attempt under way finishes (and is recorded) if it does so soon.
    await bounded(Promise.allSettled([...this.runs]), 1000);
    await this.flush();
    await this.db
      .updateTable('call_callbacks')
      .set({ lease_until: 0 })
      .where('node_id', '=', this.o.nodeId)
      .where('delivered_ms', 'is', null)
      .execute()
      .catch((err: unknown) => this.o.logger.error({ err }, 'could not release callback leases'));
  }

  /**
   * Accepts a callback: stored in the next batch, delivered after the chain's earlier ones.
   * The promise settles once it is stored (the call may wait for that before recording its
   * end, so that a crash between the two cannot lose the `completed` callback).
   */
  enqueue(item: OutboxItem): Promise<void> {
    const now = Date.now();
    this.batch.rows.push({
      chain: item.chain,
      seq: item.seq,
      account_sid: item.accountSid,
      url: item.url,
      method: item.method,
      params: JSON.stringify(item.params),
      send: item.send ? 1 : 0,
      closes: item.closes ? 1 : 0,
      created_ms: item.createdMs,
      delivered_ms: null,
      node_id: this.o.nodeId,
      lease_until: now + this.o.leaseMs,
    });
    const stored = this.batch.stored;
    if (this.batch.rows.length >= BATCH) void this.flush();
    else this.scheduleFlush();
    this.queue({ item, stored });
    return stored;
  }

  /** Claims at once the chains whose node's lease ran out (it stopped), as the sweep would. */
  adoptStale(): Promise<void> {
    return this.takeOver(false);
  }

  /** Where a chain's numbering stands in the store: the next seq, and whether it closed. */
  async chainState(chain: string): Promise<{ nextSeq: number; closed: boolean }> {
    const row = await this.db
      .selectFrom('call_callbacks')
      .select((eb) => [eb.fn.max('seq').as('seq'), eb.fn.max('closes').as('closes')])
      .where('chain', '=', chain)
      .executeTakeFirst();
    const seq = row?.seq ?? null;
    return { nextSeq: seq === null ? 0 : Number(seq) + 1, closed: Number(row?.closes ?? 0) === 1 };
  }

  /** Resolves once every accepted callback was delivered or given up on (tests, shutdown). */
  async drain(): Promise<void> {
    if (this.chains.size > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.flush();
  }

  /** Chains this node is delivering now. */
  get pendingChains(): number {
    return this.chains.size;
  }

  // ------------------------------------------------------------------ delivery

  private queue(q: Queued): void {
    const queue = this.chains.get(q.item.chain);
    if (queue) {
      queue.push(q);
      return;
    }
    const fresh = [q];
    this.chains.set(q.item.chain, fresh);
    const run = this.run(q.item.chain, fresh);
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }

  private async run(chain: string, queue: Queued[]): Promise<void> {
    try {
      while (queue.length > 0 && !this.stopped) {
        const head = queue[0]!;
        await head.stored;
        await head.item.sendAfter?.catch(() => undefined);
        // Stopping leaves the row undelivered: the next start (or another node) sends it.
        if (head.item.send && !(await this.deliver(head.item))) return;
        queue.shift();
        if (head.item.closes) this.closed.push(chain);
        else this.delivered.push({ chain, seq: head.item.seq, delivered_ms: Date.now() });
        this.scheduleFlush();
      }
    } catch (err) {
      this.o.logger.error({ err, chain }, 'status callback delivery failed');
    } finally {
      if (this.chains.get(chain) === queue) this.chains.delete(chain);
      if (this.chains.size === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  /**
   * Sends one callback until its receiver takes it or it is given up on (true), or until the
   * outbox stops (false: it is still to deliver).
   */
  private async deliver(item: OutboxItem): Promise<boolean> {
    for (let attempt = 1; !this.stopped; attempt++) {
      const authToken = await this.o.authToken(item.accountSid);
      if (authToken === undefined) {
        this.giveUp(item, `account ${item.accountSid} is not active`);
        return true;
      }
      const out = await callWebhook({
        url: item.url,
        method: item.method,
        params: item.params,
        authToken,
        attempts: 1,
        retryOnStatus: true,
        timeoutMs: this.o.timeoutMs,
      });
      if (out.ok && out.status < 400) return true;
      // A receiver that refuses the request (4xx other than 429) will refuse it again.
      if (out.ok && out.status < 500 && out.status !== 429) {
        this.giveUp(item, `the receiver answered ${out.status}`);
        return true;
      }
      const why = out.ok ? `HTTP ${out.status}` : out.message;
      if (Date.now() - item.createdMs >= this.o.giveUpAfterMs) {
        this.giveUp(
          item,
          `still failing after ${Math.round(this.o.giveUpAfterMs / 1000)} s: ${why}`,
        );
        return true;
      }
      if (attempt === 1)
        this.o.logger.warn(
          { url: item.url, chain: item.chain, seq: item.seq, outcome: why },
          'status callback failed; retrying with backoff',
        );
      await this.sleep(Math.min(this.o.firstRetryMs * 2 ** (attempt - 1), this.o.maxRetryMs));
    }
    return false;
  }

  private giveUp(item: OutboxItem, reason: string): void {
    this.o.logger.error(
      { url: item.url, chain: item.chain, seq: item.seq, reason },
      'status callback given up',
    );
    this.o.onGiveUp?.(item, reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.waits.add(wait);
    });
  }

  // ------------------------------------------------------------------ writes

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing) return;
    this.flushTimer = setTimeout(() => void this.flush(), this.o.flushMs);
  }

  /** Writes the batch: new rows first, then deliveries, then the chains that closed. */
  private async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.flushing) await this.flushing;
    const batch = this.batch;
    const delivered = this.delivered;
    const closed = this.closed;
    if (batch.rows.length === 0 && delivered.length === 0 && closed.length === 0) return;
    this.batch = newBatch();
    this.delivered = [];
    this.closed = [];
    this.flushing = this.write(batch, delivered, closed);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.batch.rows.length || this.delivered.length || this.closed.length) this.scheduleFlush();
  }

  private async write(
    batch: Batch,
    delivered: readonly { chain: string; seq: number; delivered_ms: number }[],
    closed: readonly string[],
  ): Promise<void> {
    const { store, logger } = this.o;
    try {
      for (let i = 0; i < batch.rows.length; i += BATCH)
        await store.insertMany('call_callbacks', COLUMNS, batch.rows.slice(i, i + BATCH));
    } catch (err) {
      // Delivery goes on from memory; only a crash before it is done would lose these.
      logger.error({ err, callbacks: batch.rows.length }, 'could not store status callbacks');
    } finally {
      batch.resolve();
    }
    try {
      if (delivered.length)
        await sql`UPDATE call_callbacks SET delivered_ms = v.delivered_ms
          FROM ${store.rows('call_callbacks', ['chain', 'seq', 'delivered_ms'], delivered)} AS v
          WHERE call_callbacks.chain = v.chain AND call_callbacks.seq = v.seq`.execute(this.db);
      for (let i = 0; i < closed.length; i += BATCH)
        await this.db
          .deleteFrom('call_callbacks')
          .where('chain', 'in', closed.slice(i, i + BATCH))
          .execute();
    } catch (err) {
      // Those rows stay undelivered in the store: a restart would send them once more.
      logger.error({ err }, 'could not record delivered status callbacks');
    }
  }

  // ------------------------------------------------------------------ leases

  private async renewLeases(): Promise<void> {
    if (this.chains.size === 0 || this.stopped) return;
    try {
      await this.db
        .updateTable('call_callbacks')
        .set({ lease_until: Date.now() + this.o.leaseMs })
        .where('node_id', '=', this.o.nodeId)
        .where('delivered_ms', 'is', null)
        .execute();
    } catch (err) {
      this.o.logger.error({ err }, 'could not renew the status callbacks lease');
    }
  }

  /**
   * Claims undelivered chains (each as a whole, so that one node sends all of a chain in
   * order) and delivers them from their first undelivered row.
   */
  private async takeOver(all: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const now = Date.now();
      let q = this.db
        .selectFrom('call_callbacks')
        .select('chain')
        .distinct()
        .where('delivered_ms', 'is', null);
      if (!all) q = q.where('lease_until', '<', now);
      const chains = (await q.limit(1000).execute()).map((r) => r.chain);
      let taken = 0;
      for (const chain of chains) {
        if (this.chains.has(chain)) continue;
        let claim = this.db
          .updateTable('call_callbacks')
          .set({ node_id: this.o.nodeId, lease_until: now + this.o.leaseMs })
          .where('chain', '=', chain)
          .where('delivered_ms', 'is', null);
        if (!all) claim = claim.where('lease_until', '<', now);
        const claimed = await claim.executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) continue; // another node was quicker
        taken++;
        const rows = await this.db
          .selectFrom('call_callbacks')
          .selectAll()
          .where('chain', '=', chain)
          .where('node_id', '=', this.o.nodeId)
          .where('delivered_ms', 'is', null)
          .orderBy('seq')
          .execute();
        const stored = Promise.resolve();
        for (const r of rows)
          this.queue({
            stored,
            item: {
              chain: r.chain,
              seq: r.seq,
              accountSid: r.account_sid,
              url: r.url,
              method: r.method === 'GET' ? 'GET' : 'POST',
              params: JSON.parse(r.params) as Record<string, string>,
              send: r.send === 1,
              closes: r.closes === 1,
              createdMs: r.created_ms,
            },
          });
      }
      if (taken)
        this.o.logger.info({ chains: taken }, 'delivering status callbacks left undelivered');
    } catch (err) {
      this.o.logger.error({ err }, 'could not take over undelivered status callbacks');
    }
  }
}
