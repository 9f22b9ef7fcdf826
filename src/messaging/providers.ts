// Providers: the carriers messages are routed to (SMPP SMSCs, HTTP carrier APIs). Each enabled
// provider has a carrier connection, its own queue and a worker draining it; this registry
// keeps them, administers the Providers resource and the routing weights, and lists the
// candidates the router chooses among.
import type { Kysely } from 'kysely';
import { fail, newSid } from '../core/index.js';
import type { Carrier } from './carriers/carrier.js';
import { HttpCarrier, checkHttpSettings, type HttpSettings } from './carriers/http/carrier.js';
import { SmppClient, type SmppSettings } from './carriers/smpp/client.js';
import { checkIdFormat } from './carriers/smpp/message-id.js';
import { checkInDoubtSettings } from './in-doubt.js';
import type { SmsJob } from './job.js';
import type { MessagingOptions } from './options.js';
import { DEFAULT_WEIGHTS, priceFor, type Candidate, type RouteWeights } from './router.js';
import type { SenderCaps } from './sender-cap.js';
import type { MessagingTables, ProviderRow } from './tables.js';
import { ProviderWorker, type WorkerHooks } from './worker.js';

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

/** Where the HTTP carrier of a provider posts delivery reports and inbound messages. */
export function providerCallbackPath(providerSid: string): string {
  return `/messaging/v1/Providers/${providerSid}/Callbacks`;
}

export interface ProviderDeps {
  readonly db: Kysely<MessagingTables>;
  readonly options: MessagingOptions;
  readonly caps: SenderCaps | undefined;
  /** What a provider's worker reports back (delivery.ts). */
  readonly hooks: WorkerHooks;
  /** Wires a new carrier's receipts and inbound messages. */
  attach(providerSid: string, carrier: Carrier): void;
}

export class Providers {
  readonly workers = new Map<string, ProviderWorker>();
  private weights: RouteWeights;
  private readonly parsedPrices = new WeakMap<ProviderRow, Record<string, number>>();

  constructor(private readonly d: ProviderDeps) {
    this.weights = d.options.weights ?? DEFAULT_WEIGHTS;
  }

  async start(): Promise<void> {
    const saved = await this.d.db
      .selectFrom('messaging_settings')
      .select('value')
      .where('name', '=', 'routing_weights')
      .executeTakeFirst();
    if (saved) this.weights = { ...this.weights, ...(JSON.parse(saved.value) as RouteWeights) };
    const rows = await this.d.db.selectFrom('messaging_providers').selectAll().execute();
    for (const row of rows) if (row.enabled) await this.startProvider(row);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  worker(sid: string): ProviderWorker | undefined {
    return this.workers.get(sid);
  }

  /** The provider's name for the routing log (its SID once it is gone). */
  nameOf(sid: string): string {
    return this.workers.get(sid)?.row.name ?? sid;
  }

  private async startProvider(row: ProviderRow): Promise<void> {
    const o = this.d.options;
    const carrier = o.carrierFor ? o.carrierFor(row) : this.defaultCarrier(row);
    const queue = await o.queues.open<SmsJob>(`sms-${row.sid}`, { leaseMs: o.leaseMs ?? 15_000 });
    const worker = new ProviderWorker(
      row,
      carrier,
      queue,
      this.d.hooks,
      (msg, extra) => o.logger.info({ provider: row.name, ...extra }, msg),
      this.d.caps,
    );
    this.d.attach(row.sid, carrier);
    this.workers.set(row.sid, worker);
    worker.depth = await queue.depth();
    worker.start();
  }

  private defaultCarrier(row: ProviderRow): Carrier {
    const o = this.d.options;
    if (row.kind === 'http') {
      return new HttpCarrier(
        JSON.parse(row.settings) as HttpSettings,
        // Read at each submit: the port is known only once the HTTP server listens.
        () => {
          const base = o.publicUrl?.();
          return base ? base + providerCallbackPath(row.sid) : undefined;
        },
        (msg) => o.logger.info({ provider: row.name }, msg),
      );
    }
    const s = JSON.parse(row.settings) as SmppSettings;
    return new SmppClient(s, (msg) => o.logger.info({ provider: row.name }, msg));
  }

  // ------------------------------------------------------------------ the Providers resource

  async create(input: ProviderInput): Promise<ProviderRow> {
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
    const clash = await this.d.db
      .selectFrom('messaging_providers')
      .select('sid')
      .where('name', '=', row.name)
      .executeTakeFirst();
    if (clash) fail('conflict', `a provider named ${row.name} exists`);
    await this.d.db.insertInto('messaging_providers').values(row).execute();
    if (row.enabled) await this.startProvider(row);
    return row;
  }

  async list(): Promise<ProviderRow[]> {
    return this.d.db
      .selectFrom('messaging_providers')
      .selectAll()
      .orderBy('date_created')
      .orderBy('sid')
      .execute();
  }

  async get(sid: string): Promise<ProviderRow> {
    const row = await this.d.db
      .selectFrom('messaging_providers')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (!row) return fail('notFound', `Provider ${sid}`);
    return row;
  }

  async update(sid: string, input: ProviderInput): Promise<ProviderRow> {
    const old = await this.get(sid);
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
    await this.d.db.updateTable('messaging_providers').set(row).where('sid', '=', sid).execute();
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

  async delete(sid: string): Promise<void> {
    await this.get(sid);
    const worker = this.workers.get(sid);
    this.workers.delete(sid);
    await worker?.stop();
    await this.d.db.deleteFrom('messaging_providers').where('sid', '=', sid).execute();
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

  // ------------------------------------------------------------------ routing

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
    await this.d.db
      .insertInto('messaging_settings')
      .values({ name: 'routing_weights', value, date_updated: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value, date_updated: now }))
      .execute();
    this.weights = next;
    return next;
  }

  private pricesOf(row: ProviderRow): Record<string, number> {
    let p = this.parsedPrices.get(row);
    if (!p) {
      p = JSON.parse(row.prices) as Record<string, number>;
      this.parsedPrices.set(row, p);
    }
    return p;
  }

  /** The providers that reach `to` (and carry media, for an MMS), as the router sees them. */
  candidates(to: string, mms = false): Candidate[] {
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
}

function validateSettings(kind: 'smpp' | 'http', settings: Record<string, unknown> | undefined) {
  const doubt = checkInDoubtSettings(settings ?? {});
  if (doubt) fail('invalidParameter', doubt);
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
  const ids = checkIdFormat(s.messageIds);
  if (ids) fail('invalidParameter', ids);
}

/**
 * Why a message of `segments` cannot join the provider's queue, if it cannot: the queue holds
 * MaxQueue messages already, or those waiting would take longer to drain at the provider's
 * throughput than the message may wait (its validity period, up to Twilio's 10 hours).
 */
export function queueOverflow(
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
