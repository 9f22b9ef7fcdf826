// The writes of the messaging hot path, batched (group commit). Whatever is reported within a
// few milliseconds is stored in ONE transaction, with ONE statement per kind of change whatever
// the number of messages (the rows travel as one JSON parameter, so the statement's text and
// its prepared statement never change): accepted messages, `sending`, carrier ids of sent
// parts, `sent`, and final statuses from receipts. Rarer changes (failures, …) ride in the same
// transaction as ops, in the order they were reported.
//
// Durability: whoever needs a change stored before going on awaits it — the API before it
// answers (an accepted message survives a crash), a worker before it submits (`sending`, so a
// crash mid-submit is found and never silently re-sent) and before it acknowledges jobs. Work
// that must follow the commit (status callbacks, receipt acks to the SMSC) runs after it, in
// the order it was queued.
import { sql, type Kysely } from 'kysely';
import type { Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
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

type Op = (db: Kysely<MessagingTables>) => Promise<unknown>;

/** A slow timer flush leaves room for many changes; a full batch goes at once. */
const LATER_MS = 5;
const FULL = 2000;

export class MessageWrites {
  private readonly db: Kysely<MessagingTables>;
  private inserts: MessageRow[] = [];
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

  /** Stores accepted messages; resolves once committed (rejects if the commit failed). */
  async insert(rows: readonly MessageRow[]): Promise<void> {
    this.inserts.push(...rows);
    if (!(await this.flushSoon())) throw new Error('storing the accepted messages failed');
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
      this.ops.length +
      this.sendings.length +
      this.sents.length +
      this.finals.length
    );
  }

  /**
   * Stores everything reported so far in one transaction (after the one under way, if any),
   * then runs what waited for it. False when the transaction failed (logged; its changes are
   * lost, so nothing that depended on them goes on: no ack, no callback).
   */
  async flush(): Promise<boolean> {
    while (this.flushing) await this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    const inserts = this.inserts.splice(0);
    const ops = this.ops.splice(0);
    const sendings = this.sendings.splice(0);
    const parts = this.parts.splice(0);
    const sents = this.sents.splice(0);
    const finals = this.finals.splice(0);
    const afters = this.afters.splice(0);
    if (!inserts.length && !ops.length && !sendings.length && !sents.length && !finals.length) {
      for (const fn of afters) fn();
      return true;
    }
    this.flushing = this.db
      .transaction()
      .execute(async (trx) => {
        if (inserts.length) await this.insertMessages(trx, inserts);
        for (const op of ops) await op(trx);
        if (sendings.length) {
          await sql`UPDATE messaging_messages
            SET status = 'sending', provider_sid = v.provider_sid, date_updated = v.date_updated
            FROM ${this.store.rows('messaging_messages', ['sid', 'provider_sid', 'date_updated'], sendings)} AS v
            WHERE messaging_messages.sid = v.sid`.execute(trx);
        }
        if (parts.length) {
          const columns = ['provider_sid', 'carrier_id', 'message_sid', 'status'] as const;
          // WHERE true: SQLite's parser needs it before ON CONFLICT in INSERT … SELECT.
          await sql`INSERT INTO messaging_parts (provider_sid, carrier_id, message_sid, status)
            SELECT provider_sid, carrier_id, message_sid, status
            FROM ${this.store.rows('messaging_parts', columns, parts)} AS v
            WHERE true ON CONFLICT DO NOTHING`.execute(trx);
        }
        // A message's receipt is reported after its `sent` (early receipts wait for it), so
        // `sent` goes first; each statement only moves a status forward.
        if (sents.length) {
          const rows = sents.map((c) => ({ sid: c.sid, date_sent: c.at, route: c.route }));
          await sql`UPDATE messaging_messages
            SET status = 'sent', date_sent = v.date_sent, date_updated = v.date_sent,
              route = ${appended}
            FROM ${this.store.rows('messaging_messages', ['sid', 'date_sent', 'route'], rows)} AS v
            WHERE messaging_messages.sid = v.sid AND messaging_messages.status = 'sending'`.execute(
            trx,
          );
        }
        if (finals.length) {
          const rows = finals.map((c) => ({
            sid: c.sid,
            status: c.status,
            error_code: c.errorCode,
            error_message: c.errorMessage,
            date_updated: c.at,
            route: c.route,
          }));
          const columns = [
            'sid',
            'status',
            'error_code',
            'error_message',
            'date_updated',
            'route',
          ] as const;
          await sql`UPDATE messaging_messages
            SET status = v.status, error_code = v.error_code, error_message = v.error_message,
              date_updated = v.date_updated, route = ${appended}
            FROM ${this.store.rows('messaging_messages', columns, rows)} AS v
            WHERE messaging_messages.sid = v.sid
              AND messaging_messages.status IN ('sending', 'sent')`.execute(trx);
        }
      })
      .then(() => {
        for (const fn of afters) fn();
        return true;
      })
      .catch((e: Error) => {
        this.logger.error({ err: e }, 'messaging status write failed');
        return false;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  private async insertMessages(trx: Kysely<MessagingTables>, rows: MessageRow[]): Promise<void> {
    // Every row is built by the same code, so the first one names the columns.
    const columns = Object.keys(rows[0]!) as (keyof MessageRow & string)[];
    const list = sql.raw(columns.join(', '));
    await sql`INSERT INTO messaging_messages (${list})
      SELECT ${list} FROM ${this.store.rows('messaging_messages', columns, rows)} AS v`.execute(
      trx,
    );
  }
}

/** The message's routing log (a JSON array) with v.route (`,{event}]`) in place of its `]`. */
const appended = sql`substr(messaging_messages.route, 1, length(messaging_messages.route) - 1) || v.route`;

/** The tail appended to a routing log for one event. */
export function routeTail(event: object): string {
  return ',' + JSON.stringify(event) + ']';
}
