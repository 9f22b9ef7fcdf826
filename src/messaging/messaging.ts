// The messaging capability: accepts messages, routes each to a provider's own queue, runs one
// worker per provider, records receipts, sends signed status callbacks, and hands inbound
// messages to the service's webhook, whose TwiML <Message> replies are sent.
import { sql, type Kysely } from 'kysely';
import {
  Errors,
  TwilioError,
  fail,
  newSid,
  newTimeOrderedSid,
  type Logger,
} from '../core/index.js';
import type { InStore, NewJob, Queues } from '../queue/index.js';
import type { SharedState } from '../state/index.js';
import type { Statement, Store } from '../store/index.js';
import { WebhookSender } from '../webhook/index.js';
import type { Carrier, InboundSms } from './carrier.js';
import { describeText } from './encoding.js';
import { Inbound, type NumberSmsLookup } from './inbound.js';
import { checkMediaUrls, contentTypeOf, mediaRows } from './media.js';
import { dueTime, ScheduleSweeper } from './schedule.js';
import { SenderCaps } from './sender-cap.js';
import {
  DEFAULT_WEIGHTS,
  decide,
  priceFor,
  type Candidate,
  type Decision,
  type RouteWeights,
} from './router.js';
import {
  HttpCarrier,
  checkHttpSettings,
  type CallbackReply,
  type HttpSettings,
} from './http/carrier.js';
import { SmppClient, type SmppSettings } from './smpp/client.js';
import { receiptOutcome, type Receipt } from './smpp/status.js';
import type {
  MediaRow,
  MessageRow,
  MessageStatus,
  MessagingTables,
  ProviderRow,
  ServiceRow,
} from './tables.js';
import { ProviderWorker, type SmsJob, type WorkerHooks } from './worker.js';
import { OptOutChecks } from './optouts.js';
import { MessageWrites, routeTail } from './writes.js';

export interface MessageStatusChange {
  readonly accountSid: string;
  readonly messageSid: string;
  readonly status: MessageStatus;
  readonly errorCode: number | null;
  readonly segments: number;
}

export interface MessagingOptions {
  readonly store: Store;
  readonly queues: Queues;
  readonly logger: Logger;
  /** The account's AuthToken, to sign webhooks (undefined: the account is gone). */
  authToken(accountSid: string): Promise<string | undefined>;
  readonly weights?: RouteWeights;
  /** Builds the carrier connection of a provider (tests may substitute one). */
  readonly carrierFor?: (row: ProviderRow) => Carrier;
  /** Webhook retry attempts (default 3). */
  readonly webhookAttempts?: number;
  /** Each status a message takes after its create (the interaction log records it). */
  readonly onStatus?: (change: MessageStatusChange) => void;
  /**
   * How long a claimed message stays invisible to other claimers (default 15 s): after a crash,
   * the time before its queued messages are picked up again.
   */
  readonly leaseMs?: number;
  /** Base URL the platform is reached at (HTTP carriers post their callbacks under it). */
  readonly publicUrl?: () => string;
  /** Where inbound messages to a number outside every service go (IncomingPhoneNumbers). */
  readonly numberSmsRoute?: NumberSmsLookup;
  /** Shared state for per-sender throughput caps across nodes (absent: caps are not applied). */
  readonly state?: SharedState;
  /** Status callbacks pipelined on one connection to a receiver (default 1: none). */
  readonly callbackPipelining?: number;
  /** Shortest time ahead a message may be scheduled for, seconds (default 300, as Twilio). */
  readonly scheduleMinLeadSeconds?: number;
}

/** Where the HTTP carrier of a provider posts delivery reports and inbound messages. */
export function providerCallbackPath(providerSid: string): string {
  return `/messaging/v1/Providers/${providerSid}/Callbacks`;
}

/** One entry of a message's routing log (the `routing` extension field). */
export interface RouteEvent {
  readonly at: number;
  readonly event:
    | 'scheduled'
    | 'canceled'
    | 'routed'
    | 'rerouted'
    | 'sending'
    | 'sent'
    | 'retry'
    | 'failed'
    | 'receipt';
  readonly provider?: string;
  readonly detail: string;
  readonly candidates?: readonly { name: string; score: number; price: number }[];
}

export const DELIVERY_ERRORS: Record<number, string> = {
  30001: 'Queue overflow',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
  30036: 'Validity period expired',
};

const E164 = /^\+[1-9]\d{6,14}$/;
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

export interface ProviderInput {
  readonly name?: string | undefined;
  readonly kind?: 'smpp' | 'http' | undefined;
  readonly settings?: Record<string, unknown> | undefined;
  readonly prices?: Record<string, number> | undefined;
  readonly priceUnit?: string | undefined;
  readonly throughput?: number | undefined;
  readonly priority?: number | undefined;
  readonly enabled?: boolean | undefined;
  readonly maxWaitMs?: number | undefined;
  readonly maxQueue?: number | undefined;
  readonly senderThroughput?: number | undefined;
}

export interface ServiceInput {
  readonly friendlyName?: string | undefined;
  readonly inboundRequestUrl?: string | null | undefined;
  readonly inboundMethod?: string | undefined;
  readonly fallbackUrl?: string | null | undefined;
  readonly fallbackMethod?: string | undefined;
  readonly useInboundWebhookOnNumber?: boolean | undefined;
  readonly statusCallback?: string | null | undefined;
  readonly stickySender?: boolean | undefined;
  readonly validityPeriod?: number | undefined;
  readonly senders?: readonly string[] | undefined;
  readonly senderThroughput?: number | undefined;
}

interface Tracked {
  readonly job: SmsJob;
  readonly provider: string;
  readonly cb: string | null;
  readonly service: string | null;
  remaining: number;
  readonly submittedAt: number;
}

export class Messaging {
  private readonly db: Kysely<MessagingTables>;
  private readonly workers = new Map<string, ProviderWorker>();
  private weights: RouteWeights;
  /** carrier id -> message being tracked for receipts */
  private readonly tracked = new Map<string, Tracked>();
  /** Receipts that arrived before their submit result was recorded. */
  private readonly early = new Map<
    string,
    { provider: string; receipt: Receipt; stored: () => void; at: number }
  >();
  /** Status writes, batched into few transactions (see writes.ts). */
  private readonly writes: MessageWrites;
  private readonly optOuts: OptOutChecks;
  /** Status callbacks, posted in order per message from a thread of their own. */
  private readonly callbacks: WebhookSender;
  /** Status callbacks waiting for their account's AuthToken (kept in order). */
  private waitingForToken: { run?: () => void }[] = [];
  private readonly meta = new Map<string, { cb: string | null; service: string | null }>();
  private tokenCache = new Map<string, { token: string | undefined; at: number }>();
  private stickyCounter = 0;
  private readonly inbound: Inbound;
  private readonly caps: SenderCaps | undefined;
  private readonly scheduled: ScheduleSweeper;

  constructor(private readonly o: MessagingOptions) {
    this.db = o.store.kysely<MessagingTables>();
    this.writes = new MessageWrites(o.store, o.logger);
    this.optOuts = new OptOutChecks(o.store);
    this.weights = o.weights ?? DEFAULT_WEIGHTS;
    this.callbacks = new WebhookSender(o.logger, 'status callback', o.callbackPipelining ?? 1);
    this.caps = o.state ? new SenderCaps(o.state) : undefined;
    this.inbound = new Inbound({
      db: this.db,
      logger: o.logger,
      webhookAttempts: o.webhookAttempts ?? 3,
      tokenOf: (sid) => this.tokenOf(sid),
      numberRoute: o.numberSmsRoute,
      reply: (accountSid, m) => this.send(accountSid, { ...m, direction: 'outbound-reply' }),
    });
    this.scheduled = new ScheduleSweeper(this.db, o.logger, (rows) => this.releaseScheduled(rows));
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    this.callbacks.start();
    const saved = await this.db
      .selectFrom('messaging_settings')
      .select('value')
      .where('name', '=', 'routing_weights')
      .executeTakeFirst();
    if (saved) this.weights = { ...this.weights, ...(JSON.parse(saved.value) as RouteWeights) };
    const rows = await this.db.selectFrom('messaging_providers').selectAll().execute();
    for (const row of rows) if (row.enabled) await this.startProvider(row);
    this.scheduled.start();
  }

  async stop(): Promise<void> {
    await this.scheduled.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await this.flush();
    while (this.waitingForToken.length) await new Promise((r) => setTimeout(r, 5));
    await this.callbacks.close();
  }

  private async startProvider(row: ProviderRow): Promise<void> {
    const carrier = this.o.carrierFor ? this.o.carrierFor(row) : this.defaultCarrier(row);
    const queue = await this.o.queues.open<SmsJob>(`sms-${row.sid}`, {
      leaseMs: this.o.leaseMs ?? 15_000,
    });
    const worker = new ProviderWorker(
      row,
      carrier,
      queue,
      this.hooks,
      (msg, extra) => this.o.logger.info({ provider: row.name, ...extra }, msg),
      this.caps,
    );
    carrier.on('receipt', (r, stored) => this.onReceipt(row.sid, r, stored));
    carrier.on(
      'inbound',
      (m) =>
        void this.onInbound(m).catch((e: Error) =>
          this.o.logger.warn({ err: e }, 'inbound failed'),
        ),
    );
    this.workers.set(row.sid, worker);
    worker.depth = await queue.depth();
    worker.start();
  }

  private defaultCarrier(row: ProviderRow): Carrier {
    if (row.kind === 'http') {
      return new HttpCarrier(
        JSON.parse(row.settings) as HttpSettings,
        // Read at each submit: the port is known only once the HTTP server listens.
        () => {
          const base = this.o.publicUrl?.();
          return base ? base + providerCallbackPath(row.sid) : undefined;
        },
        (msg) => this.o.logger.info({ provider: row.name }, msg),
      );
    }
    const s = JSON.parse(row.settings) as SmppSettings;
    return new SmppClient(s, (msg) => this.o.logger.info({ provider: row.name }, msg));
  }

  // ------------------------------------------------------------------ providers (admin)

  async createProvider(input: ProviderInput): Promise<ProviderRow> {
    if (!input.name) fail('missingParameter', 'Name');
    const kind = input.kind ?? 'smpp';
    validateSettings(kind, input.settings);
    const now = Date.now();
    const row: ProviderRow = {
      sid: newSid('PV'),
      name: input.name,
      kind,
      settings: JSON.stringify(input.settings ?? {}),
      prices: JSON.stringify(input.prices ?? {}),
      price_unit: input.priceUnit ?? 'USD',
      throughput: input.throughput ?? 10,
      priority: input.priority ?? 0,
      enabled: input.enabled === false ? 0 : 1,
      max_wait_ms: input.maxWaitMs ?? 60_000,
      max_queue: input.maxQueue ?? 100_000,
      sender_throughput: input.senderThroughput ?? 0,
      date_created: now,
      date_updated: now,
    };
    const clash = await this.db
      .selectFrom('messaging_providers')
      .select('sid')
      .where('name', '=', row.name)
      .executeTakeFirst();
    if (clash) fail('conflict', `a provider named ${row.name} exists`);
    await this.db.insertInto('messaging_providers').values(row).execute();
    if (row.enabled) await this.startProvider(row);
    return row;
  }

  async listProviders(): Promise<ProviderRow[]> {
    return this.db
      .selectFrom('messaging_providers')
      .selectAll()
      .orderBy('date_created')
      .orderBy('sid')
      .execute();
  }

  async provider(sid: string): Promise<ProviderRow> {
    const row = await this.db
      .selectFrom('messaging_providers')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Provider ${sid}`);
    return row;
  }

  async updateProvider(sid: string, input: ProviderInput): Promise<ProviderRow> {
    const old = await this.provider(sid);
    if (input.kind !== undefined && input.kind !== old.kind) {
      fail('invalidParameter', 'Kind cannot be changed; create another provider');
    }
    if (input.settings) validateSettings(old.kind, input.settings);
    const row: ProviderRow = {
      ...old,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.settings !== undefined ? { settings: JSON.stringify(input.settings) } : {}),
      ...(input.prices !== undefined ? { prices: JSON.stringify(input.prices) } : {}),
      ...(input.priceUnit !== undefined ? { price_unit: input.priceUnit } : {}),
      ...(input.throughput !== undefined ? { throughput: input.throughput } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled ? 1 : 0 } : {}),
      ...(input.maxWaitMs !== undefined ? { max_wait_ms: input.maxWaitMs } : {}),
      ...(input.maxQueue !== undefined ? { max_queue: input.maxQueue } : {}),
      ...(input.senderThroughput !== undefined
        ? { sender_throughput: input.senderThroughput }
        : {}),
      date_updated: Date.now(),
    };
    await this.db.updateTable('messaging_providers').set(row).where('sid', '=', sid).execute();
    const worker = this.workers.get(sid);
    const reconnect = input.settings !== undefined || input.enabled !== undefined;
    if (worker && !reconnect) {
      worker.row = row;
      worker.bucket.setRate(row.throughput);
      worker.pacer.setRate(row.throughput);
    } else {
      if (worker) {
        this.workers.delete(sid);
        await worker.stop();
      }
      if (row.enabled) await this.startProvider(row);
    }
    return row;
  }

  async deleteProvider(sid: string): Promise<void> {
    await this.provider(sid);
    const worker = this.workers.get(sid);
    this.workers.delete(sid);
    await worker?.stop();
    await this.db.deleteFrom('messaging_providers').where('sid', '=', sid).execute();
  }

  /** Live figures of a provider (the read-only part of the Providers resource). */
  figures(sid: string): Record<string, unknown> {
    const w = this.workers.get(sid);
    if (!w) return { state: 'disabled', queue_depth: null };
    const f = w.stats.figures();
    const c = w.carrier.state();
    return {
      state: w.state(),
      connected: c.bound > 0,
      binds: c.binds,
      binds_bound: c.bound,
      outstanding: c.outstanding,
      circuit: w.breaker.state === 0 ? 'closed' : w.breaker.state === 1 ? 'open' : 'half-open',
      queue_depth: w.depth,
      sent_per_second: f.sentPerSecond,
      delivery_rate: f.deliveryRate,
      latency_p50_ms: f.latencyP50Ms,
      errors: f.errors,
    };
  }

  /** The routing weights in force (defaults, then the platform's options, then the API). */
  routingWeights(): RouteWeights {
    return this.weights;
  }

  async setRoutingWeights(update: Partial<RouteWeights>): Promise<RouteWeights> {
    const next = { ...this.weights };
    for (const [k, v] of Object.entries(update) as [keyof RouteWeights, number | undefined][]) {
      if (v !== undefined) next[k] = v;
    }
    const value = JSON.stringify(next);
    const now = Date.now();
    await this.db
      .insertInto('messaging_settings')
      .values({ name: 'routing_weights', value, date_updated: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value, date_updated: now }))
      .execute();
    this.weights = next;
    return next;
  }

  // ------------------------------------------------------------------ services

  async createService(accountSid: string, input: ServiceInput): Promise<ServiceRow> {
    const now = Date.now();
    const row: ServiceRow = {
      sid: newSid('MG'),
      account_sid: accountSid,
      friendly_name: input.friendlyName ?? '',
      inbound_request_url: input.inboundRequestUrl ?? null,
      inbound_method: input.inboundMethod ?? 'POST',
      fallback_url: input.fallbackUrl ?? null,
      fallback_method: input.fallbackMethod ?? 'POST',
      use_inbound_webhook_on_number: input.useInboundWebhookOnNumber ? 1 : 0,
      status_callback: input.statusCallback ?? null,
      sticky_sender: input.stickySender === false ? 0 : 1,
      validity_period: input.validityPeriod ?? 36_000,
      senders: JSON.stringify(input.senders ?? []),
      sender_throughput: input.senderThroughput ?? 0,
      date_created: now,
      date_updated: now,
    };
    await this.db.insertInto('messaging_services').values(row).execute();
    return row;
  }

  async service(accountSid: string, sid: string): Promise<ServiceRow> {
    const row = await this.db
      .selectFrom('messaging_services')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Service ${sid}`);
    return row;
  }

  async listServices(
    accountSid: string,
    size: number,
    after?: readonly (string | number)[],
  ): Promise<ServiceRow[]> {
    let q = this.db
      .selectFrom('messaging_services')
      .selectAll()
      .where('account_sid', '=', accountSid);
    if (after) {
      const [t, s] = after as [number, string];
      q = q.where((eb) =>
        eb.or([
          eb('date_created', '>', t),
          eb.and([eb('date_created', '=', t), eb('sid', '>', s)]),
        ]),
      );
    }
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(size + 1)
      .execute();
  }

  async updateService(accountSid: string, sid: string, input: ServiceInput): Promise<ServiceRow> {
    const old = await this.service(accountSid, sid);
    const row: ServiceRow = {
      ...old,
      ...(input.friendlyName !== undefined ? { friendly_name: input.friendlyName } : {}),
      ...(input.inboundRequestUrl !== undefined
        ? { inbound_request_url: input.inboundRequestUrl }
        : {}),
      ...(input.inboundMethod !== undefined ? { inbound_method: input.inboundMethod } : {}),
      ...(input.fallbackUrl !== undefined ? { fallback_url: input.fallbackUrl } : {}),
      ...(input.fallbackMethod !== undefined ? { fallback_method: input.fallbackMethod } : {}),
      ...(input.useInboundWebhookOnNumber !== undefined
        ? { use_inbound_webhook_on_number: input.useInboundWebhookOnNumber ? 1 : 0 }
        : {}),
      ...(input.statusCallback !== undefined ? { status_callback: input.statusCallback } : {}),
      ...(input.stickySender !== undefined ? { sticky_sender: input.stickySender ? 1 : 0 } : {}),
      ...(input.validityPeriod !== undefined ? { validity_period: input.validityPeriod } : {}),
      ...(input.senders !== undefined ? { senders: JSON.stringify(input.senders) } : {}),
      ...(input.senderThroughput !== undefined
        ? { sender_throughput: input.senderThroughput }
        : {}),
      date_updated: Date.now(),
    };
    await this.db.updateTable('messaging_services').set(row).where('sid', '=', sid).execute();
    return row;
  }

  async deleteService(accountSid: string, sid: string): Promise<void> {
    await this.service(accountSid, sid);
    await this.db.deleteFrom('messaging_services').where('sid', '=', sid).execute();
  }

  // ------------------------------------------------------------------ messages

  /** Validates, routes and queues an outbound message. */
  async send(accountSid: string, input: SendInput): Promise<MessageRow> {
    const to = input.to.trim();
    if (!E164.test(to)) fail('invalidToNumber', to);
    const media = input.mediaUrls ?? [];
    checkMediaUrls(media);
    if (!input.body && !media.length) fail('bodyRequired');
    if (input.body.length > MAX_BODY) fail('bodyTooLong');
    let service: ServiceRow | undefined;
    let from = input.from;
    if (input.messagingServiceSid) {
      service = await this.db
        .selectFrom('messaging_services')
        .selectAll()
        .where('sid', '=', input.messagingServiceSid)
        .where('account_sid', '=', accountSid)
        .executeTakeFirst();
      if (!service) fail('invalidMessagingService', input.messagingServiceSid);
      if (!from) {
        const senders = JSON.parse(service.senders) as string[];
        if (!senders.length) fail('serviceHasNoSenders');
        // Sticky sender: the same recipient always hears from the same number.
        const i = service.sticky_sender
          ? hash(to) % senders.length
          : this.stickyCounter++ % senders.length;
        from = senders[i]!;
      }
    }
    const sendAt = dueTime(
      { ...input, messagingServiceSid: service?.sid },
      Date.now(),
      this.o.scheduleMinLeadSeconds ?? 300,
    );
    if (!from) return fail('fromOrServiceRequired');
    if (!/^(\+?\d{3,15}|[A-Za-z0-9 ]{1,11})$/.test(from)) fail('invalidFromNumber', from);
    const validity = input.validityPeriod ?? service?.validity_period ?? 36_000;
    if (validity < 1 || validity > 36_000) fail('invalidValidityPeriod');
    // Opt-outs are checked with the others of its batch, just before it is stored (accept()).
    const senders = service ? [from, service.sid] : [from];

    const text = describeText(input.body);
    // MMS goes only to providers that carry it; the text of an MMS is one billable unit.
    const seg = media.length ? 1 : text.numSegments;
    if (sendAt !== undefined) {
      if (!this.candidates(to, media.length > 0).length) fail('noRouteToDestination', to);
      const now = Date.now();
      return this.storeScheduled(
        {
          sid: newTimeOrderedSid(media.length ? 'MM' : 'SM'),
          account_sid: accountSid,
          messaging_service_sid: service!.sid,
          direction: input.direction ?? 'outbound-api',
          from_addr: from,
          to_addr: to,
          body: input.body,
          status: 'scheduled',
          num_segments: seg,
          encoding: text.encoding,
          price: null,
          price_unit: 'USD',
          error_code: null,
          error_message: null,
          provider_sid: null,
          route: JSON.stringify([
            { at: now, event: 'scheduled', detail: `due ${new Date(sendAt).toISOString()}` },
          ] satisfies RouteEvent[]),
          status_callback: input.statusCallback ?? service!.status_callback ?? null,
          validity_period: input.validityPeriod ?? null,
          date_created: now,
          date_updated: now,
          date_sent: null,
          num_media: media.length,
        },
        sendAt,
        media,
        senders,
      );
    }
    const decision = decide(this.candidates(to, media.length > 0), this.weights);
    if (!decision) {
      if (media.length && this.candidates(to).length) {
        fail('mmsNotRoutable', `MMS: no provider that carries media reaches ${to} (SMS only)`);
      }
      return fail('noRouteToDestination', to);
    }
    const worker = this.workers.get(decision.chosen.sid)!;
    const overflow = queueOverflow(worker, seg, validity);
    // As Twilio: a sender's queue that is full refuses the create (21611); a Messaging
    // Service's message is accepted and fails at once with 30001 (it cannot go out in time).
    if (overflow && !service) fail('fromQueueFull', `${from}: ${overflow}`);
    const now = Date.now();
    const sid = newTimeOrderedSid(media.length ? 'MM' : 'SM');
    const log: RouteEvent[] = [decisionEvent('routed', decision, now, decision.reason)];
    if (overflow) log.push({ at: now, event: 'failed', detail: `30001: ${overflow}` });
    const cb = input.statusCallback ?? service?.status_callback ?? null;
    const row: MessageRow = {
      sid,
      account_sid: accountSid,
      messaging_service_sid: service?.sid ?? null,
      direction: input.direction ?? 'outbound-api',
      from_addr: from,
      to_addr: to,
      body: input.body,
      status: service ? 'accepted' : 'queued',
      num_segments: seg,
      encoding: text.encoding,
      price: overflow ? null : -Math.round(decision.chosen.price * seg * 1e5) / 1e5,
      price_unit: worker.row.price_unit,
      error_code: overflow ? 30001 : null,
      error_message: overflow ? DELIVERY_ERRORS[30001]! : null,
      provider_sid: decision.chosen.sid,
      route: JSON.stringify(log),
      status_callback: cb,
      validity_period: input.validityPeriod ?? null,
      date_created: now,
      date_updated: now,
      date_sent: null,
      num_media: media.length,
    };
    const job: SmsJob = {
      sid,
      acct: accountSid,
      from,
      to,
      body: input.body,
      seg,
      exp: now + validity * 1000,
      created: now,
      tried: [],
      ...(media.length ? { media } : {}),
      ...(service?.sender_throughput ? { cap: service.sender_throughput } : {}),
    };
    if (media.length) {
      const files = media.map((url) => ({ url, contentType: contentTypeOf(url) }));
      await this.db
        .insertInto('messaging_media')
        .values(mediaRows(accountSid, sid, files, now))
        .execute();
    }
    // A service's message is `accepted` in the answer to its create; as a sender and a
    // provider are chosen at once, it is stored `queued` and that change is called back, as
    // Twilio does for messages created through a Messaging Service.
    if (overflow) {
      await this.accept({ ...row, status: 'failed' }, undefined, worker, senders);
      this.callback(job, cb, service?.sid ?? null, 'failed', 30001);
      return row;
    }
    await this.accept(service ? { ...row, status: 'queued' } : row, job, worker, senders);
    this.meta.set(sid, { cb, service: service?.sid ?? null });
    if (service) this.callback(job, cb, service.sid, 'queued', null);
    return row;
  }

  /** Stores a message `scheduled` for `sendAt` (schedule.ts sends it when due). */
  private async storeScheduled(
    row: MessageRow,
    sendAt: number,
    media: readonly string[],
    senders: readonly string[],
  ): Promise<MessageRow> {
    const [optedOut] = await this.optOuts.optedOut([
      { accountSid: row.account_sid, recipient: row.to_addr, senders },
    ]);
    if (optedOut) fail('unsubscribedRecipient', row.to_addr);
    if (media.length) {
      const files = media.map((url) => ({ url, contentType: contentTypeOf(url) }));
      await this.db
        .insertInto('messaging_media')
        .values(mediaRows(row.account_sid, row.sid, files, row.date_created))
        .execute();
    }
    await this.db
      .insertInto('messaging_messages')
      .values({ ...row, send_at: sendAt })
      .execute();
    return row;
  }

  private accepting: {
    row: MessageRow;
    /** None for a message stored already failed (it is never queued). */
    job: SmsJob | undefined;
    worker: ProviderWorker;
    senders: readonly string[];
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private acceptScheduled = false;

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
      const out = await this.optOuts.optedOut(
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
      await this.writes.insert(
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
  private async releaseScheduled(rows: readonly MessageRow[]): Promise<void> {
    const services = new Map(
      (
        await this.db
          .selectFrom('messaging_services')
          .selectAll()
          .where('sid', 'in', [...new Set(rows.map((r) => r.messaging_service_sid ?? ''))])
          .execute()
      ).map((svc) => [svc.sid, svc]),
    );
    const withMedia = rows.filter((r) => r.num_media > 0).map((r) => r.sid);
    const media = new Map<string, string[]>();
    if (withMedia.length) {
      const files = await this.db
        .selectFrom('messaging_media')
        .select(['message_sid', 'url'])
        .where('message_sid', 'in', withMedia)
        .orderBy('date_created')
        .orderBy('sid')
        .execute();
      for (const f of files) media.set(f.message_sid, [...(media.get(f.message_sid) ?? []), f.url]);
    }
    const optedOut = await this.optOuts.optedOut(
      rows.map((r) => ({
        accountSid: r.account_sid,
        recipient: r.to_addr,
        senders: [r.from_addr, ...(r.messaging_service_sid ? [r.messaging_service_sid] : [])],
      })),
    );
    const now = Date.now();
    const statements: Statement[] = [];
    const queued = new Map<ProviderWorker, NewJob<SmsJob>[]>();
    rows.forEach((row, i) => {
      const service = services.get(row.messaging_service_sid ?? '');
      const urls = media.get(row.sid);
      const validity = row.validity_period ?? service?.validity_period ?? 36_000;
      const job: SmsJob = {
        ...jobOf(row, now + validity * 1000),
        ...(urls ? { media: urls } : {}),
        ...(service?.sender_throughput ? { cap: service.sender_throughput } : {}),
      };
      this.meta.set(row.sid, { cb: row.status_callback, service: row.messaging_service_sid });
      if (optedOut[i]) {
        return this.hooks.failed(
          job,
          21610,
          'Attempt to send to unsubscribed recipient',
          'the recipient opted out',
        );
      }
      let worker = row.provider_sid ? this.workers.get(row.provider_sid) : undefined;
      if (!worker) {
        const decision = decide(this.candidates(row.to_addr, !!urls), this.weights);
        if (!decision) {
          return this.hooks.failed(
            job,
            30008,
            DELIVERY_ERRORS[30008]!,
            `no provider reaches ${row.to_addr}`,
          );
        }
        worker = this.workers.get(decision.chosen.sid)!;
        const overflow = queueOverflow(worker, row.num_segments, validity);
        if (overflow) return this.hooks.failed(job, 30001, DELIVERY_ERRORS[30001]!, overflow);
        statements.push(
          this.db
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
      this.callback(job, row.status_callback, row.messaging_service_sid, 'queued', null);
    });
    for (const [worker, jobs] of queued) {
      // In the store, the jobs are added in the commit that clears send_at (both or neither).
      // Elsewhere (BullMQ) first: adding a job twice under the message's SID is a no-op, so a
      // crash before send_at is cleared only makes a later sweep add it again.
      if (worker.queue.inStore) statements.push(...worker.queue.inStore.add(jobs));
      else await worker.queue.add(jobs);
    }
    statements.push(
      this.db
        .updateTable('messaging_messages')
        .set({ send_at: null })
        .where(
          'sid',
          'in',
          rows.map((r) => r.sid),
        )
        .compile(),
    );
    await this.writes.opNow(statements);
    for (const [worker, jobs] of queued) {
      worker.depth += jobs.length;
      worker.poke();
    }
  }

  /** Status=canceled: a scheduled message is canceled (30409 once it is no longer scheduled). */
  async cancel(accountSid: string, sid: string): Promise<MessageRow> {
    const now = Date.now();
    const row = await this.db
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
      const current = await this.message(accountSid, sid);
      return fail('messageNotCancelable', `it is ${current.status}, not scheduled`);
    }
    this.callback(
      jobOf(row, now),
      row.status_callback,
      row.messaging_service_sid,
      'canceled',
      null,
    );
    return row;
  }

  private readonly parsedPrices = new WeakMap<ProviderRow, Record<string, number>>();

  private pricesOf(row: ProviderRow): Record<string, number> {
    let p = this.parsedPrices.get(row);
    if (!p) {
      p = JSON.parse(row.prices) as Record<string, number>;
      this.parsedPrices.set(row, p);
    }
    return p;
  }

  private candidates(to: string, mms = false): Candidate[] {
    const out: Candidate[] = [];
    for (const w of this.workers.values()) {
      if (mms && w.carrier.mms !== true) continue;
      const p = priceFor(this.pricesOf(w.row), to);
      if (!p) continue;
      const f = w.stats.figures();
      out.push({
        sid: w.row.sid,
        name: w.row.name,
        price: p.price,
        prefix: p.prefix,
        throughput: w.row.throughput,
        queueDepth: w.depth,
        maxWaitMs: w.row.max_wait_ms,
        delivered: f.delivered,
        finished: f.finished,
        latencyP50Ms: f.latencyP50Ms,
        healthy: w.healthy(),
        priority: w.row.priority,
      });
    }
    return out;
  }

  async message(accountSid: string, sid: string): Promise<MessageRow> {
    await this.flush();
    const row = await this.db
      .selectFrom('messaging_messages')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Message ${sid}`);
    return row;
  }

  async listMessages(
    accountSid: string,
    filters: {
      to?: string | undefined;
      from?: string | undefined;
      sentBefore?: number | undefined;
      sentAfter?: number | undefined;
      sentOn?: number | undefined;
    },
    size: number,
    after?: readonly (string | number)[],
  ): Promise<MessageRow[]> {
    await this.flush();
    let q = this.db
      .selectFrom('messaging_messages')
      .selectAll()
      .where('account_sid', '=', accountSid);
    if (filters.to) q = q.where('to_addr', '=', filters.to);
    if (filters.from) q = q.where('from_addr', '=', filters.from);
    if (filters.sentBefore !== undefined) q = q.where('date_created', '<', filters.sentBefore);
    if (filters.sentAfter !== undefined) q = q.where('date_created', '>=', filters.sentAfter);
    if (filters.sentOn !== undefined) {
      q = q
        .where('date_created', '>=', filters.sentOn)
        .where('date_created', '<', filters.sentOn + 86_400_000);
    }
    if (after) {
      const [t, s] = after as [number, string];
      q = q.where((eb) =>
        eb.or([
          eb('date_created', '<', t),
          eb.and([eb('date_created', '=', t), eb('sid', '<', s)]),
        ]),
      );
    }
    // Twilio lists newest first.
    return q
      .orderBy('date_created', 'desc')
      .orderBy('sid', 'desc')
      .limit(size + 1)
      .execute();
  }

  private static readonly FINAL: readonly MessageStatus[] = [
    'sent',
    'delivered',
    'undelivered',
    'failed',
    'received',
    'canceled',
  ];

  /** Body="" redacts a message once it is no longer in flight; Status=canceled is refused. */
  async redact(accountSid: string, sid: string): Promise<MessageRow> {
    const row = await this.message(accountSid, sid);
    if (!Messaging.FINAL.includes(row.status)) fail('messageNotRedactable', row.status);
    await this.db
      .updateTable('messaging_messages')
      .set({ body: '', date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
    return { ...row, body: '' };
  }

  // ------------------------------------------------------------------ media (MMS)

  async listMedia(
    accountSid: string,
    messageSid: string,
    size: number,
    after?: readonly (string | number)[],
  ): Promise<MediaRow[]> {
    await this.message(accountSid, messageSid);
    let q = this.db
      .selectFrom('messaging_media')
      .selectAll()
      .where('message_sid', '=', messageSid)
      .where('account_sid', '=', accountSid);
    if (after) {
      const [t, s] = after as [number, string];
      q = q.where((eb) =>
        eb.or([
          eb('date_created', '>', t),
          eb.and([eb('date_created', '=', t), eb('sid', '>', s)]),
        ]),
      );
    }
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(size + 1)
      .execute();
  }

  async media(accountSid: string, messageSid: string, sid: string): Promise<MediaRow> {
    const row = await this.db
      .selectFrom('messaging_media')
      .selectAll()
      .where('sid', '=', sid)
      .where('message_sid', '=', messageSid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Media ${sid.slice(0, 40)}`);
    return row;
  }

  async deleteMedia(accountSid: string, messageSid: string, sid: string): Promise<void> {
    await this.media(accountSid, messageSid, sid);
    await this.db.deleteFrom('messaging_media').where('sid', '=', sid).execute();
  }

  async deleteMessage(accountSid: string, sid: string): Promise<void> {
    const row = await this.message(accountSid, sid);
    if (!Messaging.FINAL.includes(row.status)) fail('messageNotRedactable', row.status);
    await this.db.deleteFrom('messaging_messages').where('sid', '=', sid).execute();
    await this.db.deleteFrom('messaging_parts').where('message_sid', '=', sid).execute();
    await this.db.deleteFrom('messaging_media').where('message_sid', '=', sid).execute();
  }

  // ------------------------------------------------------------------ batched writes

  /** Makes every status reported so far durable (readers call it to see their writes). */
  flush(): Promise<boolean> {
    return this.writes.flush();
  }

  /** The statement that appends an event to a message's routing log. */
  private appendRoute(sid: string, ev: RouteEvent): Statement {
    return this.db
      .updateTable('messaging_messages')
      .set({ route: routeAppend(ev) })
      .where('sid', '=', sid)
      .compile();
  }

  private readonly hooks: WorkerHooks = {
    settle: () => this.flush(),
    sending: (sids, providerSid) => this.writes.sending(sids, providerSid),
    statusOf: async (sids) => {
      await this.flush();
      const rows = await this.db
        .selectFrom('messaging_messages')
        .select(['sid', 'status', 'provider_sid'])
        .where('sid', 'in', [...sids])
        .execute();
      return new Map(rows.map((r) => [r.sid, { status: r.status, provider: r.provider_sid }]));
    },
    sent: (job, providerSid, ids) => {
      const now = Date.now();
      const meta = this.meta.get(job.sid) ?? { cb: null, service: null };
      const t: Tracked = {
        job,
        provider: providerSid,
        cb: meta.cb,
        service: meta.service,
        remaining: ids.length,
        submittedAt: now,
      };
      for (const id of ids) this.tracked.set(`${providerSid}|${id}`, t);
      const name = this.workers.get(providerSid)?.row.name ?? providerSid;
      const event: RouteEvent = {
        at: now,
        event: 'sent',
        provider: name,
        detail: `carrier ids ${ids.join(', ')}`,
      };
      this.writes.sent(
        { sid: job.sid, at: now, route: routeTail(event) },
        ids.map((id) => ({
          provider_sid: providerSid,
          carrier_id: id,
          message_sid: job.sid,
          status: 'sent',
        })),
      );
      this.callback(job, meta.cb, meta.service, 'sent', null);
      for (const id of ids) {
        const e = this.early.get(`${providerSid}|${id}`);
        if (e) {
          this.early.delete(`${providerSid}|${id}`);
          this.onReceipt(providerSid, e.receipt, e.stored);
        }
      }
    },
    failed: (job, code, message, note) => {
      const now = Date.now();
      const meta = this.meta.get(job.sid) ?? { cb: null, service: null };
      this.meta.delete(job.sid);
      this.writes.op([
        this.db
          .updateTable('messaging_messages')
          .set({ status: 'failed', error_code: code, error_message: message, date_updated: now })
          .where('sid', '=', job.sid)
          .compile(),
        this.appendRoute(job.sid, { at: now, event: 'failed', detail: `${code}: ${note}` }),
      ]);
      this.callback(job, meta.cb, meta.service, 'failed', code);
    },
    requeue: async (job, note) => {
      const now = Date.now();
      await this.writes.opNow([
        this.db
          .updateTable('messaging_messages')
          .set({ status: 'queued', date_updated: now })
          .where('sid', '=', job.sid)
          .compile(),
        this.appendRoute(job.sid, { at: now, event: 'retry', detail: note }),
      ]);
    },
    reroute: async (job, fromProvider, reason) => {
      const tried = new Set([...job.tried, fromProvider]);
      const decision = decide(
        this.candidates(job.to, (job.media?.length ?? 0) > 0),
        this.weights,
        tried,
      );
      if (!decision || !decision.candidates.length) return false;
      const target = this.workers.get(decision.chosen.sid);
      if (!target) return false;
      const now = Date.now();
      const moved: NewJob<SmsJob> = { id: job.sid, data: { ...job, tried: [...tried] } };
      const statements = [
        this.db
          .updateTable('messaging_messages')
          .set({
            status: 'queued',
            provider_sid: target.row.sid,
            date_updated: now,
            price: -Math.round(decision.chosen.price * job.seg * 1e5) / 1e5,
          })
          .where('sid', '=', job.sid)
          .compile(),
        this.appendRoute(
          job.sid,
          decisionEvent('rerouted', decision, now, `${reason}; ${decision.reason}`),
        ),
        // In the store: the job moves in the same commit as the message's new provider.
        ...(target.queue.inStore?.add([moved]) ?? []),
      ];
      await this.writes.opNow(statements);
      if (!target.queue.inStore) await target.queue.add([moved]);
      target.depth++;
      target.poke();
      return true;
    },
    ack: (queue, id) => this.writes.ack(queue, id),
  };

  // ------------------------------------------------------------------ HTTP carrier callbacks

  /**
   * A callback an HTTP carrier posted (raw body as signed): verified with the provider's
   * secret, then handled as a receipt or an inbound message (see http/carrier.ts).
   */
  async carrierCallback(
    providerSid: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    raw: string,
  ): Promise<CallbackReply> {
    const carrier = this.workers.get(providerSid)?.carrier;
    if (!(carrier instanceof HttpCarrier)) {
      // Disabled or unknown: nothing can verify the signature, so nothing is taken.
      await this.provider(providerSid);
      return { status: 503, why: 'the provider is disabled' };
    }
    return carrier.callback(headers, raw);
  }

  // ------------------------------------------------------------------ receipts and callbacks

  /** `stored` acknowledges the receipt to the carrier once it is recorded. */
  private onReceipt(providerSid: string, r: Receipt, stored: () => void): void {
    const key = `${providerSid}|${r.id}`;
    const t = this.tracked.get(key);
    if (!t) {
      // The receipt can overtake the submit's bookkeeping; look again shortly, then in the database.
      this.early.set(key, { provider: providerSid, receipt: r, stored, at: Date.now() });
      setTimeout(() => {
        const e = this.early.get(key);
        if (e) {
          this.early.delete(key);
          void this.receiptFromDb(providerSid, r, stored);
        }
      }, 2000).unref();
      return;
    }
    const out = receiptOutcome(r);
    if (out.status === 'sent') return stored();
    this.tracked.delete(key);
    if (t.remaining <= 0) return stored(); // the message is already final
    const worker = this.workers.get(providerSid);
    worker?.stats.finished(out.status === 'delivered', Date.now() - t.submittedAt);
    if (out.status === 'delivered') {
      t.remaining--;
      if (t.remaining > 0) return stored();
    } else {
      // One undelivered part makes the message undelivered.
      t.remaining = 0;
    }
    this.meta.delete(t.job.sid);
    this.finishFromReceipt(t.job.sid, providerSid, r, out.status, out.errorCode, stored);
    this.callback(t.job, t.cb, t.service, out.status, out.errorCode);
  }

  private finishFromReceipt(
    sid: string,
    providerSid: string,
    r: Receipt,
    status: 'delivered' | 'undelivered',
    code: number | null,
    stored: () => void,
  ): void {
    const now = Date.now();
    const name = this.workers.get(providerSid)?.row.name ?? providerSid;
    const event: RouteEvent = {
      at: now,
      event: 'receipt',
      provider: name,
      detail: `id:${r.id} stat:${r.stat} err:${r.err}`,
    };
    this.writes.final(
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
  private async receiptFromDb(providerSid: string, r: Receipt, stored: () => void): Promise<void> {
    await this.flush();
    const part = await this.db
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
      .where('messaging_parts.carrier_id', '=', r.id)
      .executeTakeFirst();
    if (!part) {
      this.o.logger.warn({ provider: providerSid, id: r.id }, 'receipt for an unknown message');
      return stored();
    }
    const out = receiptOutcome(r);
    if (out.status === 'sent') return stored();
    this.finishFromReceipt(part.sid, providerSid, r, out.status, out.errorCode, stored);
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
    this.callback(job, part.status_callback, part.messaging_service_sid, out.status, out.errorCode);
  }

  private async tokenOf(accountSid: string): Promise<string | undefined> {
    const c = this.cachedToken(accountSid);
    if (c) return c.token;
    const token = await this.o.authToken(accountSid);
    this.tokenCache.set(accountSid, { token, at: Date.now() });
    return token;
  }

  private cachedToken(accountSid: string): { token: string | undefined } | undefined {
    const c = this.tokenCache.get(accountSid);
    return c && Date.now() - c.at < 60_000 ? c : undefined;
  }

  /**
   * A status callback, posted once the status it reports is stored (it rides on the pending
   * write batch and goes out after that batch commits, in order).
   */
  private callback(
    job: SmsJob,
    url: string | null,
    service: string | null,
    status: MessageStatus,
    code: number | null,
  ): void {
    this.o.onStatus?.({
      accountSid: job.acct,
      messageSid: job.sid,
      status,
      errorCode: code,
      segments: job.seg,
    });
    if (!url) return;
    this.writes.after(() => this.postCallback(job, url, service, status, code));
  }

  /**
   * Status callbacks of one message are posted in order, each retried (webhook/sender.ts); a
   * callback whose AuthToken must be read first holds the ones after it, so order is kept.
   */
  private postCallback(
    job: SmsJob,
    url: string,
    service: string | null,
    status: MessageStatus,
    code: number | null,
  ): void {
    const params: Record<string, string> = {
      MessageSid: job.sid,
      SmsSid: job.sid,
      AccountSid: job.acct,
      From: job.from,
      To: job.to,
      MessageStatus: status,
      SmsStatus: status,
      ApiVersion: '2010-04-01',
      ...(service ? { MessagingServiceSid: service } : {}),
      ...(code ? { ErrorCode: String(code) } : {}),
    };
    const post = (token: string | undefined) => {
      if (token === undefined) return; // the account is gone
      this.callbacks.send(job.sid, {
        url,
        params,
        authToken: token,
        attempts: this.o.webhookAttempts ?? 3,
        retryOnStatus: true,
        timeoutMs: 10_000,
      });
    };
    const cached = this.cachedToken(job.acct);
    if (cached && !this.waitingForToken.length) return post(cached.token);
    const entry: { run?: () => void } = {};
    this.waitingForToken.push(entry);
    if (cached) {
      entry.run = () => post(cached.token);
      return;
    }
    void this.tokenOf(job.acct)
      .catch((e: Error) => {
        this.o.logger.warn({ sid: job.sid, url, err: e.message }, 'status callback failed');
        return undefined;
      })
      .then((token) => {
        entry.run = () => post(token);
        // In order: up to the first callback still waiting for its token.
        while (this.waitingForToken[0]?.run) this.waitingForToken.shift()!.run!();
      });
  }

  // ------------------------------------------------------------------ inbound

  private onInbound(mo: InboundSms): Promise<void> {
    return this.inbound.handle(mo);
  }
}

/** The routing log's entry for a provider chosen: every candidate's score and price. */
function decisionEvent(
  event: 'routed' | 'rerouted',
  decision: Decision,
  at: number,
  detail: string,
): RouteEvent {
  return {
    at,
    event,
    provider: decision.chosen.name,
    detail,
    candidates: decision.candidates.map((c) => ({ name: c.name, score: c.score, price: c.price })),
  };
}

/** The job that sends a stored message (a scheduled one, when it is due). */
function jobOf(row: MessageRow, expires: number): SmsJob {
  return {
    sid: row.sid,
    acct: row.account_sid,
    from: row.from_addr,
    to: row.to_addr,
    body: row.body,
    seg: row.num_segments,
    exp: expires,
    created: row.date_created,
    tried: [],
  };
}

/** Appends an event to the JSON array in `route` without reading it (works on both dialects). */
function routeAppend(ev: RouteEvent) {
  return sql<string>`substr(route, 1, length(route) - 1) || ${',' + JSON.stringify(ev) + ']'}`;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function validateSettings(kind: 'smpp' | 'http', settings: Record<string, unknown> | undefined) {
  if (kind === 'http') {
    const why = checkHttpSettings(settings ?? {});
    if (why) fail('invalidParameter', why);
    return;
  }
  const s = settings ?? {};
  if (typeof s.host !== 'string' || !s.host) fail('invalidParameter', 'Settings.host is required');
  if (typeof s.port !== 'number' || s.port <= 0 || s.port > 65535)
    fail('invalidParameter', 'Settings.port must be a TCP port');
  if (typeof s.systemId !== 'string') fail('invalidParameter', 'Settings.systemId is required');
  if (typeof s.password !== 'string') fail('invalidParameter', 'Settings.password is required');
}

/**
 * Why a message of `segments` cannot join the provider's queue, if it cannot: the queue holds
 * MaxQueue messages already, or those waiting would take longer to drain at the provider's
 * throughput than the message may wait (its validity period, up to Twilio's 10 hours).
 */
function queueOverflow(
  worker: ProviderWorker,
  segments: number,
  validitySeconds: number,
): string | undefined {
  const { name, max_queue: max, throughput } = worker.row;
  if (worker.depth >= max) return `${name} has ${worker.depth} messages waiting (MaxQueue ${max})`;
  const waitSeconds = ((worker.depth + 1) * segments) / throughput;
  if (waitSeconds > validitySeconds) {
    return (
      `${name} would take ${Math.ceil(waitSeconds)} s to send the ${worker.depth} messages ` +
      `waiting at ${throughput} segments/s, beyond the validity period (${validitySeconds} s)`
    );
  }
  return undefined;
}
