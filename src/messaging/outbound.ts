// Outbound messages: a create is validated, given a sender (a service's sticky one), then either
// stored `scheduled` (schedule.ts releases it when due) or routed to a provider and queued in
// a group commit; scheduled messages now due are routed here too, and canceled.
import { Errors, TwilioError, fail, newTimeOrderedSid } from '../core/index.js';
import type { InStore, NewJob } from '../queue/index.js';
import type { Statement } from '../store/index.js';
import type { Kysely } from 'kysely';
import type { StatusCallbacks } from './callbacks.js';
import type { Delivery } from './delivery.js';
import { describeText, type TextInfo } from './encoding.js';
import { jobOf, type SmsJob } from './job.js';
import { checkMediaUrls, type MessageMedia } from './media.js';
import type { Messages } from './messages.js';
import type { OptOutChecks } from './optouts.js';
import { queueOverflow, type Providers } from './providers.js';
import { DELIVERY_ERRORS, decisionEvent, routeAppend, type RouteEvent } from './route-log.js';
import { decide, type Decision } from './router.js';
import { dueTime } from './schedule.js';
import type { Services } from './services.js';
import type { MessageRow, MessagingTables, ServiceRow } from './tables.js';
import type { ProviderWorker } from './worker.js';
import type { MessageWrites } from './writes.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const SENDER = /^(\+?\d{3,15}|[A-Za-z0-9 ]{1,11})$/;
const MAX_BODY = 1600;

export interface SendInput {
  readonly to: string;
  readonly from?: string | undefined;
  readonly messagingServiceSid?: string | undefined;
  readonly body: string;
  readonly statusCallback?: string | undefined;
  readonly validityPeriod?: number | undefined;
  readonly direction?: 'outbound-api' | 'outbound-reply';
  /** MMS: up to 10 public http(s) URLs. */
  readonly mediaUrls?: readonly string[] | undefined;
  /** ScheduleType and SendAt as given (schedule.ts). */
  readonly scheduleType?: string | undefined;
  readonly sendAt?: string | undefined;
}

export interface OutboundDeps {
  readonly db: Kysely<MessagingTables>;
  readonly writes: MessageWrites;
  readonly optOuts: OptOutChecks;
  readonly providers: Providers;
  readonly services: Services;
  readonly messages: Messages;
  readonly media: MessageMedia;
  readonly callbacks: StatusCallbacks;
  readonly delivery: Delivery;
  /** Shortest time ahead a message may be scheduled for, seconds. */
  readonly scheduleMinLeadSeconds: number;
}

/** A create, validated, with its sender chosen. */
interface Validated {
  readonly accountSid: string;
  readonly input: SendInput;
  readonly to: string;
  readonly from: string;
  readonly service: ServiceRow | undefined;
  readonly media: readonly string[];
  readonly validity: number;
  readonly sendAt: number | undefined;
  readonly text: TextInfo;
  /** Billable segments: the text of an MMS is one unit. */
  readonly seg: number;
  /** Whose opt-outs apply: the sender, and the service. */
  readonly senders: readonly string[];
}

interface Accepting {
  row: MessageRow;
  /** None for a message stored already failed (it is never queued). */
  job: SmsJob | undefined;
  worker: ProviderWorker;
  senders: readonly string[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class Outbound {
  private stickyCounter = 0;
  private accepting: Accepting[] = [];
  private acceptScheduled = false;

  constructor(private readonly d: OutboundDeps) {}

  /** Validates, routes and queues an outbound message. */
  async send(accountSid: string, input: SendInput): Promise<MessageRow> {
    const v = await this.validate(accountSid, input);
    return v.sendAt !== undefined ? this.schedule(v, v.sendAt) : this.queue(v);
  }

  private async validate(accountSid: string, input: SendInput): Promise<Validated> {
    const to = input.to.trim();
    if (!E164.test(to)) fail('invalidToNumber', to);
    const media = input.mediaUrls ?? [];
    checkMediaUrls(media);
    if (!input.body && !media.length) fail('bodyRequired');
    if (input.body.length > MAX_BODY) fail('bodyTooLong');
    let service: ServiceRow | undefined;
    let from = input.from;
    if (input.messagingServiceSid) {
      service = await this.d.services.find(accountSid, input.messagingServiceSid);
      if (!service) return fail('invalidMessagingService', input.messagingServiceSid);
      if (!from) from = this.senderOf(service, to);
    }
    const sendAt = dueTime(
      { ...input, messagingServiceSid: service?.sid },
      Date.now(),
      this.d.scheduleMinLeadSeconds,
    );
    if (!from) return fail('fromOrServiceRequired');
    if (!SENDER.test(from)) fail('invalidFromNumber', from);
    const validity = input.validityPeriod ?? service?.validity_period ?? 36_000;
    if (validity < 1 || validity > 36_000) fail('invalidValidityPeriod');
    const text = describeText(input.body);
    return {
      accountSid,
      input,
      to,
      from,
      service,
      media,
      validity,
      sendAt,
      text,
      // MMS goes only to providers that carry it; the text of an MMS is one billable unit.
      seg: media.length ? 1 : text.numSegments,
      // Opt-outs are checked with the others of its batch, just before it is stored (accept()).
      senders: service ? [from, service.sid] : [from],
    };
  }

  /** A service's sender for `to`: sticky (the same recipient hears from the same number). */
  private senderOf(service: ServiceRow, to: string): string {
    const senders = JSON.parse(service.senders) as string[];
    if (!senders.length) fail('serviceHasNoSenders');
    const i = service.sticky_sender
      ? hash(to) % senders.length
      : this.stickyCounter++ % senders.length;
    return senders[i]!;
  }

  /** The row of a new message, as every path stores it (`patch` says what differs). */
  private rowOf(v: Validated, sid: string, now: number, patch: Partial<MessageRow>): MessageRow {
    return {
      sid,
      account_sid: v.accountSid,
      messaging_service_sid: v.service?.sid ?? null,
      direction: v.input.direction ?? 'outbound-api',
      from_addr: v.from,
      to_addr: v.to,
      body: v.input.body,
      status: 'queued',
      num_segments: v.seg,
      encoding: v.text.encoding,
      price: null,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      provider_sid: null,
      route: '[]',
      status_callback: v.input.statusCallback ?? v.service?.status_callback ?? null,
      validity_period: v.input.validityPeriod ?? null,
      date_created: now,
      date_updated: now,
      date_sent: null,
      num_media: v.media.length,
      ...patch,
    };
  }

  /** Stores a message `scheduled` for `sendAt` (schedule.ts sends it when due). */
  private async schedule(v: Validated, sendAt: number): Promise<MessageRow> {
    if (!this.d.providers.candidates(v.to, v.media.length > 0).length) {
      fail('noRouteToDestination', v.to);
    }
    const now = Date.now();
    const row = this.rowOf(v, newTimeOrderedSid(v.media.length ? 'MM' : 'SM'), now, {
      status: 'scheduled',
      route: JSON.stringify([
        { at: now, event: 'scheduled', detail: `due ${new Date(sendAt).toISOString()}` },
      ] satisfies RouteEvent[]),
    });
    const [optedOut] = await this.d.optOuts.optedOut([
      { accountSid: row.account_sid, recipient: row.to_addr, senders: v.senders },
    ]);
    if (optedOut) fail('unsubscribedRecipient', row.to_addr);
    if (v.media.length) await this.d.media.store(row.account_sid, row.sid, v.media, now);
    await this.d.db
      .insertInto('messaging_messages')
      .values({ ...row, send_at: sendAt })
      .execute();
    return row;
  }

  /** Routes a message to a provider and queues it there. */
  private async queue(v: Validated): Promise<MessageRow> {
    const mms = v.media.length > 0;
    const decision = decide(
      this.d.providers.candidates(v.to, mms),
      this.d.providers.routingWeights(),
    );
    if (!decision) {
      if (mms && this.d.providers.candidates(v.to).length) {
        fail('mmsNotRoutable', `MMS: no provider that carries media reaches ${v.to} (SMS only)`);
      }
      return fail('noRouteToDestination', v.to);
    }
    const worker = this.d.providers.worker(decision.chosen.sid)!;
    const overflow = queueOverflow(worker, v.seg, v.validity);
    // As Twilio: a sender's queue that is full refuses the create (21611); a Messaging
    // Service's message is accepted and fails at once with 30001 (it cannot go out in time).
    if (overflow && !v.service) fail('fromQueueFull', `${v.from}: ${overflow}`);
    const now = Date.now();
    const sid = newTimeOrderedSid(mms ? 'MM' : 'SM');
    const row = this.routedRow(v, sid, now, decision, worker, overflow);
    const job: SmsJob = {
      sid,
      acct: v.accountSid,
      from: v.from,
      to: v.to,
      body: v.input.body,
      seg: v.seg,
      exp: now + v.validity * 1000,
      created: now,
      tried: [],
      ...(mms ? { media: v.media } : {}),
      ...(v.service?.sender_throughput ? { cap: v.service.sender_throughput } : {}),
    };
    if (mms) await this.d.media.store(v.accountSid, sid, v.media, now);
    const cb = row.status_callback;
    const service = v.service?.sid ?? null;
    if (overflow) {
      await this.accept({ ...row, status: 'failed' }, undefined, worker, v.senders);
      this.d.callbacks.send(job, cb, service, 'failed', 30001);
      return row;
    }
    // A service's message is `accepted` in the answer to its create; as a sender and a
    // provider are chosen at once, it is stored `queued` and that change is called back, as
    // Twilio does for messages created through a Messaging Service.
    await this.accept(service ? { ...row, status: 'queued' } : row, job, worker, v.senders);
    this.d.callbacks.remember(sid, { cb, service });
    if (service) this.d.callbacks.send(job, cb, service, 'queued', null);
    return row;
  }

  private routedRow(
    v: Validated,
    sid: string,
    now: number,
    decision: Decision,
    worker: ProviderWorker,
    overflow: string | undefined,
  ): MessageRow {
    const log: RouteEvent[] = [decisionEvent('routed', decision, now, decision.reason)];
    if (overflow) log.push({ at: now, event: 'failed', detail: `30001: ${overflow}` });
    return this.rowOf(v, sid, now, {
      status: v.service ? 'accepted' : 'queued',
      price: overflow ? null : -Math.round(decision.chosen.price * v.seg * 1e5) / 1e5,
      price_unit: worker.row.price_unit,
      error_code: overflow ? 30001 : null,
      error_message: overflow ? DELIVERY_ERRORS[30001]! : null,
      provider_sid: decision.chosen.sid,
      route: JSON.stringify(log),
    });
  }

  /**
   * Group commit: messages accepted in the same turn of the event loop are checked against
   * the opt-outs in one query, then stored in one commit (with whatever status changes are
   * pending) and queued with one add per provider; each caller returns once both are done, so
   * that an accepted message survives a crash.
   */
  private accept(
    row: MessageRow,
    job: SmsJob | undefined,
    worker: ProviderWorker,
    senders: readonly string[],
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.accepting.push({ row, job, worker, senders, resolve, reject });
      if (this.acceptScheduled) return;
      this.acceptScheduled = true;
      setImmediate(() => void this.commitAccepted());
    });
  }

  private async commitAccepted(): Promise<void> {
    this.acceptScheduled = false;
    let batch = this.accepting.splice(0);
    try {
      const out = await this.d.optOuts.optedOut(
        batch.map((b) => ({
          accountSid: b.row.account_sid,
          recipient: b.row.to_addr,
          senders: b.senders,
        })),
      );
      batch = batch.filter((b, i) => {
        if (!out[i]) return true;
        b.reject(new TwilioError(Errors.unsubscribedRecipient, b.row.to_addr));
        return false;
      });
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    if (!batch.length) return;
    try {
      const byWorker = new Map<ProviderWorker, SmsJob[]>();
      for (const b of batch) {
        if (!b.job) continue;
        const jobs = byWorker.get(b.worker);
        if (jobs) jobs.push(b.job);
        else byWorker.set(b.worker, [b.job]);
      }
      const jobsOf = (jobs: SmsJob[]) => jobs.map((job) => ({ id: job.sid, data: job }));
      // Queues in the SQL store take their jobs in the commit that stores the messages; the
      // others (BullMQ) once the messages are stored, so that no job names a missing message.
      const inStore = [...byWorker].filter(([w]) => w.queue.inStore);
      await this.d.writes.insert(
        batch.map((b) => b.row),
        inStore.map(([w, jobs]) => ({
          queue: w.queue.inStore as InStore<unknown>,
          jobs: jobsOf(jobs),
        })),
      );
      await Promise.all(
        [...byWorker].map(async ([worker, jobs]) => {
          if (!worker.queue.inStore) await worker.queue.add(jobsOf(jobs));
          worker.depth += jobs.length;
          worker.poke();
        }),
      );
      for (const b of batch) b.resolve();
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }

  /**
   * Scheduled messages now due (flipped to `queued` by the sweeper, schedule.ts): each is
   * routed as the queues stand now, priced, and its job added in the commit that clears its
   * send_at; one whose recipient opted out meanwhile, that no provider reaches or whose queue is
   * full fails instead (21610, 30008, 30001). A row already given a provider (released before a
   * crash) keeps it, so that its job is never in two queues.
   */
  async releaseScheduled(rows: readonly MessageRow[]): Promise<void> {
    const services = await this.d.services.bySid(rows.map((r) => r.messaging_service_sid ?? ''));
    const media = await this.d.media.urlsOf(rows.filter((r) => r.num_media > 0).map((r) => r.sid));
    const optedOut = await this.d.optOuts.optedOut(
      rows.map((r) => ({
        accountSid: r.account_sid,
        recipient: r.to_addr,
        senders: [r.from_addr, ...(r.messaging_service_sid ? [r.messaging_service_sid] : [])],
      })),
    );
    const now = Date.now();
    const statements: Statement[] = [];
    const queued = new Map<ProviderWorker, NewJob<SmsJob>[]>();
    const failed = this.d.delivery;
    rows.forEach((row, i) => {
      const service = services.get(row.messaging_service_sid ?? '');
      const urls = media.get(row.sid);
      const validity = row.validity_period ?? service?.validity_period ?? 36_000;
      const job: SmsJob = {
        ...jobOf(row, now + validity * 1000),
        ...(urls ? { media: urls } : {}),
        ...(service?.sender_throughput ? { cap: service.sender_throughput } : {}),
      };
      this.d.callbacks.remember(row.sid, {
        cb: row.status_callback,
        service: row.messaging_service_sid,
      });
      if (optedOut[i]) {
        return failed.failed(
          job,
          21610,
          'Attempt to send to unsubscribed recipient',
          'the recipient opted out',
        );
      }
      let worker = row.provider_sid ? this.d.providers.worker(row.provider_sid) : undefined;
      if (!worker) {
        const decision = decide(
          this.d.providers.candidates(row.to_addr, !!urls),
          this.d.providers.routingWeights(),
        );
        if (!decision) {
          return failed.failed(
            job,
            30008,
            DELIVERY_ERRORS[30008]!,
            `no provider reaches ${row.to_addr}`,
          );
        }
        worker = this.d.providers.worker(decision.chosen.sid)!;
        const overflow = queueOverflow(worker, row.num_segments, validity);
        if (overflow) return failed.failed(job, 30001, DELIVERY_ERRORS[30001]!, overflow);
        statements.push(
          this.d.db
            .updateTable('messaging_messages')
            .set({
              provider_sid: worker.row.sid,
              price: -Math.round(decision.chosen.price * row.num_segments * 1e5) / 1e5,
              price_unit: worker.row.price_unit,
              route: routeAppend(decisionEvent('routed', decision, now, decision.reason)),
              date_updated: now,
            })
            .where('sid', '=', row.sid)
            .compile(),
        );
      }
      const jobs = queued.get(worker);
      if (jobs) jobs.push({ id: row.sid, data: job });
      else queued.set(worker, [{ id: row.sid, data: job }]);
      this.d.callbacks.send(job, row.status_callback, row.messaging_service_sid, 'queued', null);
    });
    for (const [worker, jobs] of queued) {
      // In the store, the jobs are added in the commit that clears send_at (both or neither).
      // Elsewhere (BullMQ) first: adding a job twice under the message's SID is a no-op, so a
      // crash before send_at is cleared only makes a later sweep add it again.
      if (worker.queue.inStore) statements.push(...worker.queue.inStore.add(jobs));
      else await worker.queue.add(jobs);
    }
    statements.push(
      this.d.db
        .updateTable('messaging_messages')
        .set({ send_at: null })
        .where(
          'sid',
          'in',
          rows.map((r) => r.sid),
        )
        .compile(),
    );
    await this.d.writes.opNow(statements);
    for (const [worker, jobs] of queued) {
      worker.depth += jobs.length;
      worker.poke();
    }
  }

  /** Status=canceled: a scheduled message is canceled (30409 once it is no longer scheduled). */
  async cancel(accountSid: string, sid: string): Promise<MessageRow> {
    const now = Date.now();
    const row = await this.d.db
      .updateTable('messaging_messages')
      .set({
        status: 'canceled',
        date_updated: now,
        send_at: null,
        route: routeAppend({ at: now, event: 'canceled', detail: 'canceled through the API' }),
      })
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .where('status', '=', 'scheduled')
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      const current = await this.d.messages.get(accountSid, sid);
      return fail('messageNotCancelable', `it is ${current.status}, not scheduled`);
    }
    this.d.callbacks.send(
      jobOf(row, now),
      row.status_callback,
      row.messaging_service_sid,
      'canceled',
      null,
    );
    return row;
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
