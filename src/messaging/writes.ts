// The writes of the messaging hot path, batched (group commit). Whatever is reported within a
// few milliseconds is stored in ONE Store.commit, with ONE statement per kind of change whatever
// the number of messages (the rows travel as one JSON parameter, so the statement's text and
// its prepared statement never change): accepted messages, `sending`, carrier ids of sent
// parts, `sent`, and final statuses from receipts. Rarer changes (failures, …) ride in the same
// commit as ops, in the order they were reported. When the provider queues live in the SQL
// store (Queue.inStore), a message's job is added in the commit that stores the message and
// removed in the one that stores what became of it. On SQLite the commit runs on the store's
// writer thread, off the event loop.
//
// Durability: whoever needs a change stored before going on awaits it — the API before it
// answers (an accepted message survives a crash), a worker before it submits (`sending`, so a
// crash mid-submit is found and never silently re-sent) and before it acknowledges jobs. Work
// that must follow the commit (status callbacks, receipt acks to the SMSC) runs after it, in
// the order it was queued.
import { sql, type Kysely } from 'kysely';
import type { Logger } from '../core/index.js';
import type { InStore, NewJob } from '../queue/index.js';
import type { Statement, Store } from '../store/index.js';
import type { MessageRow, MessageStatus, MessagingTables, PartRow } from './tables.js';

/** A message's `sent` status (route: the JSON text of the event appended to its routing log). */
export interface SentChange {
  readonly sid: string;
  readonly at: number;
  readonly route: string;
}

/** A final status from a delivery receipt. */
export interface FinalChange {
  readonly sid: string;
  readonly status: Extract<MessageStatus, 'delivered' | 'undelivered'>;
  readonly errorCode: number | null;
  readonly errorMessage: string | null;
  readonly at: number;
  readonly route: string;
}

/** Statements of a rarer change, compiled by its author (see MessageWrites.db). */
type Op = readonly Statement[];

/** A slow timer flush leaves room for many changes; a full batch goes at once. */
const LATER_MS = 5;
const FULL = 2000;

export class MessageWrites {
  /** Compiles the statements of ops (Kysely's `.compile(writes.db)`). */
  readonly db: Kysely<MessagingTables>;
  private inserts: MessageRow[] = [];
  /** Jobs to add, and acked jobs to remove, on queues in the SQL store. */
  private jobs = new Map<InStore<unknown>, NewJob<unknown>[]>();
  private acks = new Map<InStore<unknown>, string[]>();
  private ops: Op[] = [];
  private sendings: { sid: string; provider_sid: string; date_updated: number }[] = [];
  private parts: PartRow[] = [];
  private sents: SentChange[] = [];
  private finals: FinalChange[] = [];
  private afters: (() => void)[] = [];
  private flushing: Promise<boolean> | undefined;
  private soon: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.db = store.kysely<MessagingTables>();
  }

  /**
   * Stores accepted messages, and the jobs of those whose queue is in the store; resolves once
   * committed (rejects if the commit failed).
   */
  async insert(
    rows: readonly MessageRow[],
    jobs: readonly { queue: InStore<unknown>; jobs: readonly NewJob<unknown>[] }[] = [],
  ): Promise<void> {
    this.inserts.push(...rows);
    for (const j of jobs) this.add(this.jobs, j.queue, j.jobs);
    // At once: the caller has gathered a turn of the event loop's worth already.
    if (!(await this.flush())) throw new Error('storing the accepted messages failed');
  }

  /** Adds jobs to a queue in the store with the next commit; resolves once committed. */
  async enqueue(queue: InStore<unknown>, jobs: readonly NewJob<unknown>[]): Promise<void> {
    this.add(this.jobs, queue, jobs);
    if (!(await this.flushSoon())) throw new Error('storing the queued jobs failed');
  }

  /** Removes an acknowledged job of a queue in the store, with the statuses reported so far. */
  ack(queue: InStore<unknown>, id: string): void {
    this.add(this.acks, queue, [id]);
    this.later();
  }

  private add<V>(into: Map<InStore<unknown>, V[]>, queue: InStore<unknown>, items: readonly V[]) {
    const list = into.get(queue);
    if (list) list.push(...items);
    else into.set(queue, [...items]);
  }

  /** Marks messages `sending` on a provider; resolves once committed. */
  async sending(sids: readonly string[], providerSid: string): Promise<void> {
    const now = Date.now();
    for (const sid of sids) {
      this.sendings.push({ sid, provider_sid: providerSid, date_updated: now });
    }
    if (!(await this.flushSoon())) throw new Error('storing the sending status failed');
  }

  sent(change: SentChange, parts: readonly PartRow[]): void {
    this.sents.push(change);
    this.parts.push(...parts);
    this.later();
  }

  /** `stored` runs once the status is committed (the carrier then acknowledges the receipt). */
  final(change: FinalChange, stored?: () => void): void {
    this.finals.push(change);
    if (stored) this.afters.push(stored);
    this.later();
  }

  /** Any other write, applied in order with the others of its batch. */
  op(op: Op): void {
    this.ops.push(op);
    this.later();
  }

  /** Like op, resolving once committed. */
  async opNow(op: Op): Promise<void> {
    this.ops.push(op);
    if (!(await this.flushSoon())) throw new Error('storing a message change failed');
  }

  /** Runs `fn` once everything reported so far is committed. */
  after(fn: () => void): void {
    this.afters.push(fn);
    this.later();
  }

  /** Flushes at the next turn of the event loop: callers of the same turn share a commit. */
  flushSoon(): Promise<boolean> {
    return (this.soon ??= new Promise((resolve) =>
      setImmediate(() => {
        this.soon = undefined;
        resolve(this.flush());
      }),
    ));
  }

  private later(): void {
    if (this.pending() >= FULL) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LATER_MS);
  }

  private pending(): number {
    return (
      this.inserts.length +
      this.jobs.size +
      this.acks.size +
      this.ops.length +
      this.sendings.length +
      this.sents.length +
      this.finals.length
    );
  }

  /**
   * Stores everything reported so far in one commit, then runs what waited for it (once the
   * commits before it are done too). False when the commit failed (logged; its changes are
   * lost, so nothing that depended on them goes on: no ack, no callback). Where the store
   * commits in the order given (SQLite's writer), the next batch is handed over while the
   * previous one is being written, so that the writer never waits for this thread between
   * two transactions; elsewhere one batch at a time.
   */
  async flush(): Promise<boolean> {
    if (!this.store.commitsInOrder) while (this.flushing) await this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    const statements = this.statements();
    const afters = this.afters.splice(0);
    const before = this.flushing;
    if (!statements.length && !before) {
      for (const fn of afters) fn();
      return true;
    }
    const stored = statements.length
      ? this.store.commit(statements).then(
          () => true,
          (e: Error) => {
            this.logger.error({ err: e }, 'messaging status write failed');
            return false;
          },
        )
      : Promise.resolve(true);
    const done = (before ? Promise.all([before, stored]).then(([, ok]) => ok) : stored).then(
      (ok) => {
        if (ok) for (const fn of afters) fn();
        return ok;
      },
    );
    this.flushing = done;
    void done.finally(() => {
      if (this.flushing === done) this.flushing = undefined;
    });
    return done;
  }

  /** The statements of everything reported so far (taken: the next batch starts empty). */
  private statements(): Statement[] {
    const out: Statement[] = [];
    const inserts = this.inserts.splice(0);
    const sendings = this.sendings.splice(0);
    const parts = this.parts.splice(0);
    let sents = this.sents.splice(0);
    const finals = this.finals.splice(0);
    const jobs = this.jobs;
    const acks = this.acks;
    this.jobs = new Map();
    this.acks = new Map();
    if (inserts.length) out.push(this.insertMessages(inserts));
    for (const [queue, list] of jobs) out.push(...queue.add(list));
    for (const op of this.ops.splice(0)) out.push(...op);
    if (sendings.length) {
      out.push(
        sql`UPDATE messaging_messages
          SET status = 'sending', provider_sid = v.provider_sid, date_updated = v.date_updated
          FROM ${this.store.rows('messaging_messages', ['sid', 'provider_sid', 'date_updated'], sendings)} AS v
          WHERE messaging_messages.sid = v.sid`.compile(this.db),
      );
    }
    // A message whose receipt came in the same batch as its `sent` is written once: its final
    // status carries the date sent and both routing events.
    const sentOf = new Map(sents.map((c) => [c.sid, c]));
    const folded = new Map<string, SentChange>();
    for (const f of finals) {
      const s = sentOf.get(f.sid);
      if (s) folded.set(f.sid, s);
    }
    if (folded.size) sents = sents.filter((c) => !folded.has(c.sid));
    // Parts (carrier id → message) are kept only while receipts may still come for them: they
    // find the message of a receipt that outlived a restart. Carrier ids are random, so every
    // part kept in a growing table is a page of its own written at each commit.
    const live = folded.size ? parts.filter((p) => !folded.has(p.message_sid)) : parts;
    if (live.length) {
      const columns = ['provider_sid', 'carrier_id', 'message_sid', 'status'] as const;
      out.push(
        this.store.insertRows('messaging_parts', columns, live, ['provider_sid', 'carrier_id']),
      );
    }
    // A message's receipt is reported after its `sent` (early receipts wait for it), so
    // `sent` goes first; each statement only moves a status forward.
    if (sents.length) {
      const rows = sents.map((c) => ({ sid: c.sid, date_sent: c.at, route: c.route }));
      out.push(
        sql`UPDATE messaging_messages
          SET status = 'sent', date_sent = v.date_sent, date_updated = v.date_sent,
            route = ${appended}
          FROM ${this.store.rows('messaging_messages', ['sid', 'date_sent', 'route'], rows)} AS v
          WHERE messaging_messages.sid = v.sid AND messaging_messages.status = 'sending'`.compile(
          this.db,
        ),
      );
    }
    if (finals.length) {
      const rows = finals.map((c) => {
        const sent = folded.get(c.sid);
        return {
          sid: c.sid,
          status: c.status,
          error_code: c.errorCode,
          error_message: c.errorMessage,
          date_updated: c.at,
          date_sent: sent ? sent.at : null,
          // Both tails: the sent event (without its closing bracket), then the receipt.
          route: sent ? sent.route.slice(0, -1) + c.route : c.route,
        };
      });
      const columns = [
        'sid',
        'status',
        'error_code',
        'error_message',
        'date_updated',
        'date_sent',
        'route',
      ] as const;
      out.push(
        sql`UPDATE messaging_messages
          SET status = v.status, error_code = v.error_code, error_message = v.error_message,
            date_updated = v.date_updated,
            date_sent = COALESCE(v.date_sent, messaging_messages.date_sent), route = ${appended}
          FROM ${this.store.rows('messaging_messages', columns, rows)} AS v
          WHERE messaging_messages.sid = v.sid
            AND messaging_messages.status IN ('sending', 'sent')`.compile(this.db),
      );
      const done = finals.filter((c) => !folded.has(c.sid)).map((c) => ({ sid: c.sid }));
      if (done.length) {
        out.push(
          sql`DELETE FROM messaging_parts WHERE message_sid IN
            (SELECT sid FROM ${this.store.rows('messaging_messages', ['sid'], done)} AS v)`.compile(
            this.db,
          ),
        );
      }
    }
    for (const [queue, ids] of acks) out.push(...queue.ack(ids));
    return out;
  }

  private insertMessages(rows: MessageRow[]): Statement {
    // Every row is built by the same code, so the first one names the columns.
    const columns = Object.keys(rows[0]!) as (keyof MessageRow & string)[];
    return this.store.insertRows('messaging_messages', columns, rows);
  }
}

/** The message's routing log (a JSON array) with v.route (`,{event}]`) in place of its `]`. */
const appended = sql`substr(messaging_messages.route, 1, length(messaging_messages.route) - 1) || v.route`;

/** The tail appended to a routing log for one event. */
export function routeTail(event: object): string {
  return ',' + JSON.stringify(event) + ']';
}
