// Delivery receipts: a submitted message is tracked by the carrier's id of each part until its
// receipts make it final (one undelivered part makes it undelivered). A receipt can overtake
// its submit's bookkeeping (looked for again shortly) or name a message submitted before a
// restart (looked up in the store).
import type { Kysely } from 'kysely';
import type { Logger } from '../core/index.js';
import type { StatusCallbacks } from './callbacks.js';
import { receiptOutcome, type Receipt } from './carriers/smpp/status.js';
import type { SmsJob } from './job.js';
import { matchInDoubt } from './in-doubt.js';
import type { Providers } from './providers.js';
import { DELIVERY_ERRORS, type RouteEvent } from './route-log.js';
import type { MessagingTables } from './tables.js';
import { routeTail, type MessageWrites } from './writes.js';

interface Early {
  readonly provider: string;
  readonly receipt: Receipt;
  readonly stored: () => void;
  readonly at: number;
}

/** The carrier ids a receipt may name (message-id.ts), most likely first. */
function keysOf(r: Receipt): readonly string[] {
  return r.keys ?? [r.id];
}

interface Tracked {
  readonly job: SmsJob;
  readonly provider: string;
  readonly cb: string | null;
  readonly service: string | null;
  remaining: number;
  readonly submittedAt: number;
}

export interface ReceiptDeps {
  readonly db: Kysely<MessagingTables>;
  readonly logger: Logger;
  readonly writes: MessageWrites;
  readonly providers: Providers;
  readonly callbacks: StatusCallbacks;
}

export class Receipts {
  /** provider|carrier id -> message being tracked for receipts */
  private readonly tracked = new Map<string, Tracked>();
  /** Receipts that arrived before their submit result was recorded, under each of their keys. */
  private readonly early = new Map<string, Early>();

  constructor(private readonly d: ReceiptDeps) {}

  /** The carrier took the message: it is `sent`, and tracked by the carrier's ids. */
  sent(job: SmsJob, providerSid: string, ids: readonly string[]): void {
    const now = Date.now();
    const target = this.d.callbacks.targetOf(job.sid);
    const t: Tracked = {
      job,
      provider: providerSid,
      cb: target.cb,
      service: target.service,
      remaining: ids.length,
      submittedAt: now,
    };
    for (const id of ids) this.tracked.set(`${providerSid}|${id}`, t);
    const event: RouteEvent = {
      at: now,
      event: 'sent',
      provider: this.d.providers.nameOf(providerSid),
      detail: `carrier ids ${ids.join(', ')}`,
    };
    this.d.writes.sent(
      { sid: job.sid, at: now, route: routeTail(event) },
      ids.map((id) => ({
        provider_sid: providerSid,
        carrier_id: id,
        message_sid: job.sid,
        status: 'sent',
      })),
    );
    this.d.callbacks.send(job, target.cb, target.service, 'sent', null);
    for (const id of ids) {
      const e = this.early.get(`${providerSid}|${id}`);
      if (e) {
        this.forgetEarly(e);
        this.onReceipt(providerSid, e.receipt, e.stored);
      }
    }
  }

  /** `stored` acknowledges the receipt to the carrier once it is recorded. */
  onReceipt(providerSid: string, r: Receipt, stored: () => void): void {
    let key = '';
    let t: Tracked | undefined;
    for (const k of keysOf(r)) {
      key = `${providerSid}|${k}`;
      t = this.tracked.get(key);
      if (t) break;
    }
    if (!t) {
      // The receipt can overtake the submit's bookkeeping; look again shortly, then in the database.
      const e: Early = { provider: providerSid, receipt: r, stored, at: Date.now() };
      for (const k of keysOf(r)) this.early.set(`${providerSid}|${k}`, e);
      setTimeout(() => {
        if (this.early.get(`${providerSid}|${keysOf(r)[0]}`) === e) {
          this.forgetEarly(e);
          // Unacknowledged, the carrier sends the receipt again (after a restart, say).
          this.fromStore(providerSid, r, stored).catch((err: unknown) =>
            this.d.logger.error(
              { err, provider: providerSid, id: r.id },
              'receipt not recorded; the carrier will resend it',
            ),
          );
        }
      }, 2000).unref();
      return;
    }
    const out = receiptOutcome(r);
    if (out.status === 'sent') return stored();
    this.tracked.delete(key);
    if (t.remaining <= 0) return stored(); // the message is already final
    const worker = this.d.providers.worker(providerSid);
    worker?.stats.finished(out.status === 'delivered', Date.now() - t.submittedAt);
    if (out.status === 'delivered') {
      t.remaining--;
      if (t.remaining > 0) return stored();
    } else {
      // One undelivered part makes the message undelivered.
      t.remaining = 0;
    }
    this.d.callbacks.forget(t.job.sid);
    this.finish(t.job.sid, providerSid, r, out.status, out.errorCode, stored);
    this.d.callbacks.send(t.job, t.cb, t.service, out.status, out.errorCode);
  }

  private forgetEarly(e: Early): void {
    for (const k of keysOf(e.receipt)) {
      const key = `${e.provider}|${k}`;
      if (this.early.get(key) === e) this.early.delete(key);
    }
  }

  private finish(
    sid: string,
    providerSid: string,
    r: Receipt,
    status: 'delivered' | 'undelivered',
    code: number | null,
    stored: () => void,
  ): void {
    const now = Date.now();
    const event: RouteEvent = {
      at: now,
      event: 'receipt',
      provider: this.d.providers.nameOf(providerSid),
      detail: `id:${r.id} stat:${r.stat} err:${r.err}`,
    };
    this.d.writes.final(
      {
        sid,
        status,
        errorCode: code,
        errorMessage: code ? (DELIVERY_ERRORS[code] ?? null) : null,
        at: now,
        route: routeTail(event),
      },
      stored,
    );
  }

  /** A receipt for a message submitted before a restart. */
  private async fromStore(providerSid: string, r: Receipt, stored: () => void): Promise<void> {
    await this.d.writes.flush();
    const part = await this.d.db
      .selectFrom('messaging_parts')
      .innerJoin('messaging_messages', 'messaging_messages.sid', 'messaging_parts.message_sid')
      .select([
        'messaging_messages.sid',
        'account_sid',
        'from_addr',
        'to_addr',
        'status_callback',
        'messaging_service_sid',
        'num_segments',
      ])
      .where('messaging_parts.provider_sid', '=', providerSid)
      .where('messaging_parts.carrier_id', 'in', [...keysOf(r)])
      .executeTakeFirst();
    if (!part) return this.inDoubt(providerSid, r, stored);
    const out = receiptOutcome(r);
    if (out.status === 'sent') return stored();
    this.finish(part.sid, providerSid, r, out.status, out.errorCode, stored);
    const job: SmsJob = {
      sid: part.sid,
      acct: part.account_sid,
      from: part.from_addr,
      to: part.to_addr,
      body: '',
      seg: part.num_segments,
      exp: 0,
      created: 0,
      tried: [],
    };
    this.d.callbacks.send(
      job,
      part.status_callback,
      part.messaging_service_sid,
      out.status,
      out.errorCode,
    );
  }

  /**
   * A receipt naming an id no message has: the answer to a submit that was never recorded (a
   * crash between submit_sm and its response). Matched to the message in doubt it belongs to
   * (in-doubt.ts), which takes the id and the receipt's outcome.
   */
  private async inDoubt(providerSid: string, r: Receipt, stored: () => void): Promise<void> {
    const m = await matchInDoubt(this.d.db, providerSid, r);
    if (!m) {
      this.d.logger.warn({ provider: providerSid, id: r.id }, 'receipt for an unknown message');
      return stored();
    }
    const now = Date.now();
    const event: RouteEvent = {
      at: now,
      event: 'sent',
      provider: this.d.providers.nameOf(providerSid),
      detail: `carrier id ${r.id}, learnt from its receipt (the submit's answer was never recorded)`,
    };
    this.d.writes.op([
      this.d.db
        .updateTable('messaging_messages')
        .set({ in_doubt_since: null })
        .where('sid', '=', m.sid)
        .compile(),
    ]);
    this.d.writes.sent({ sid: m.sid, at: now, route: routeTail(event) }, [
      { provider_sid: providerSid, carrier_id: r.id, message_sid: m.sid, status: 'sent' },
    ]);
    const out = receiptOutcome(r);
    if (out.status === 'sent') return stored();
    this.finish(m.sid, providerSid, r, out.status, out.errorCode, stored);
    const job: SmsJob = {
      sid: m.sid,
      acct: m.account_sid,
      from: m.from_addr,
      to: m.to_addr,
      body: '',
      seg: m.num_segments,
      exp: 0,
      created: 0,
      tried: [],
    };
    this.d.callbacks.send(
      job,
      m.status_callback,
      m.messaging_service_sid,
      out.status,
      out.errorCode,
    );
  }
}
