// What the provider workers report, recorded: `sending` before a submit, `sent` (receipts.ts
// tracks it from there), failed, back to the queue for a retry, or moved to another provider.
import type { Kysely } from 'kysely';
import type { InStore, NewJob } from '../queue/index.js';
import type { StatusCallbacks } from './callbacks.js';
import type { SmsJob } from './job.js';
import type { Providers } from './providers.js';
import type { Receipts } from './receipts.js';
import { appendRoute, decisionEvent } from './route-log.js';
import { decide } from './router.js';
import type { MessagingTables } from './tables.js';
import type { PriorStatus, WorkerHooks } from './worker.js';
import type { MessageWrites } from './writes.js';

export interface DeliveryDeps {
  readonly db: Kysely<MessagingTables>;
  readonly writes: MessageWrites;
  readonly callbacks: StatusCallbacks;
  /** Read late: the registry is built with these hooks. */
  providers(): Providers;
  receipts(): Receipts;
}

export class Delivery implements WorkerHooks {
  constructor(private readonly d: DeliveryDeps) {}

  settle(): Promise<boolean> {
    return this.d.writes.flush();
  }

  sending(sids: readonly string[], providerSid: string): Promise<void> {
    return this.d.writes.sending(sids, providerSid);
  }

  async statusOf(sids: readonly string[]): Promise<Map<string, PriorStatus>> {
    await this.d.writes.flush();
    const rows = await this.d.db
      .selectFrom('messaging_messages')
      .select(['sid', 'status', 'provider_sid', 'in_doubt_since', 'in_doubt_resends'])
      .where('sid', 'in', [...sids])
      .execute();
    return new Map(
      rows.map((r) => [
        r.sid,
        {
          status: r.status,
          provider: r.provider_sid,
          inDoubtSince: r.in_doubt_since ?? null,
          resends: r.in_doubt_resends ?? 0,
        },
      ]),
    );
  }

  async inDoubt(job: SmsJob, note: string): Promise<void> {
    const now = Date.now();
    await this.d.writes.opNow([
      this.d.db
        .updateTable('messaging_messages')
        .set({ in_doubt_since: now, date_updated: now })
        .where('sid', '=', job.sid)
        .where('in_doubt_since', 'is', null)
        .compile(),
      appendRoute(this.d.db, job.sid, { at: now, event: 'in-doubt', detail: note }),
    ]);
  }

  sent(job: SmsJob, providerSid: string, carrierIds: readonly string[]): void {
    this.d.receipts().sent(job, providerSid, carrierIds);
  }

  failed(job: SmsJob, code: number, message: string, note: string): void {
    const now = Date.now();
    const target = this.d.callbacks.forget(job.sid);
    this.d.writes.op([
      this.d.db
        .updateTable('messaging_messages')
        .set({ status: 'failed', error_code: code, error_message: message, date_updated: now })
        .where('sid', '=', job.sid)
        .compile(),
      appendRoute(this.d.db, job.sid, { at: now, event: 'failed', detail: `${code}: ${note}` }),
    ]);
    this.d.callbacks.send(job, target.cb, target.service, 'failed', code);
  }

  async resend(job: SmsJob, note: string): Promise<void> {
    const now = Date.now();
    await this.d.writes.opNow([
      this.d.db
        .updateTable('messaging_messages')
        .set((eb) => ({
          status: 'queued',
          in_doubt_since: null,
          in_doubt_resends: eb(eb.fn.coalesce('in_doubt_resends', eb.lit(0)), '+', 1),
          date_updated: now,
        }))
        .where('sid', '=', job.sid)
        .compile(),
      appendRoute(this.d.db, job.sid, { at: now, event: 'retry', detail: note }),
    ]);
  }

  async requeue(job: SmsJob, note: string): Promise<void> {
    const now = Date.now();
    await this.d.writes.opNow([
      this.d.db
        .updateTable('messaging_messages')
        .set({ status: 'queued', in_doubt_since: null, date_updated: now })
        .where('sid', '=', job.sid)
        .compile(),
      appendRoute(this.d.db, job.sid, { at: now, event: 'retry', detail: note }),
    ]);
  }

  async reroute(job: SmsJob, fromProvider: string, reason: string): Promise<boolean> {
    const providers = this.d.providers();
    const tried = new Set([...job.tried, fromProvider]);
    const decision = decide(
      providers.candidates(job.to, (job.media?.length ?? 0) > 0),
      providers.routingWeights(),
      tried,
    );
    if (!decision || !decision.candidates.length) return false;
    const target = providers.worker(decision.chosen.sid);
    if (!target) return false;
    const now = Date.now();
    const moved: NewJob<SmsJob> = { id: job.sid, data: { ...job, tried: [...tried] } };
    const statements = [
      this.d.db
        .updateTable('messaging_messages')
        .set({
          status: 'queued',
          provider_sid: target.row.sid,
          date_updated: now,
          price: -Math.round(decision.chosen.price * job.seg * 1e5) / 1e5,
        })
        .where('sid', '=', job.sid)
        .compile(),
      appendRoute(
        this.d.db,
        job.sid,
        decisionEvent('rerouted', decision, now, `${reason}; ${decision.reason}`),
      ),
      // In the store: the job moves in the same commit as the message's new provider.
      ...(target.queue.inStore?.add([moved]) ?? []),
    ];
    await this.d.writes.opNow(statements);
    if (!target.queue.inStore) await target.queue.add([moved]);
    target.depth++;
    target.poke();
    return true;
  }

  ack(queue: InStore<unknown>, id: string): void {
    this.d.writes.ack(queue, id);
  }
}
