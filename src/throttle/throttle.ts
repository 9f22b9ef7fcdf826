// The throttle engine, free of any HTTP framework: the edge describes a request (begin), waits
// the delay it is told, and reports the status it answered (end). Counters live in the shared
// state port, so every API node sharing a Redis agrees; in-process caches are bounded LRUs.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Errors, TwilioError, type Logger } from '../core/index.js';
import type { AdmitResult, Answer, SharedState } from '../state/index.js';
import { clientAddress, resourceNamer, trustList, type ResourceNamer } from './identity.js';
import { delayFor, type ThrottleOptions } from './options.js';

/** A verified credential: the SID that authenticated and the account it belongs to. */
export interface VerifiedCredential {
  readonly accountSid: string;
  readonly credentialSid: string;
}

/**
 * How the edge tells a waiting request that its client left: it is given a function to call
 * then (at once if the client is already gone), which ends the delay early.
 */
export interface Departure {
  onGone(wake: () => void): void;
}

/** What the edge knows about a request when it arrives. */
export interface RequestFacts {
  readonly method: string;
  /** The resource addressed, named by `resourceFor(route)` of the request's route. */
  readonly resource: string;
  /** The credential the request proved (checked by the edge), if any. */
  readonly credential: VerifiedCredential | undefined;
  readonly remoteAddress: string | undefined;
  readonly forwardedFor: string | string[] | undefined;
}

/** What the throttle decided for one request; hand it back to `end`. */
export interface Ticket {
  /** `AC…`/`SK…` for a verified credential, `ip:…` otherwise. */
  readonly requester: string;
  readonly resource: string;
  /** The state key of the error counter of (requester, resource). */
  readonly errorKey: string;
  /** Errors of (requester, resource) in the window when the request arrived. */
  errors: number;
  /** Delay applied before the request was let through, in ms. */
  delayMs: number;
  /** Set when the throttle refused the request (429, error 20429); do not count it. */
  refusal: TwilioError | undefined;
  /** Concurrency slot held until `end`. */
  slot: { key: string; holder: string } | undefined;
  /**
   * Counted as an error on arrival: a request to a resource its requester is being slowed on
   * is expected to fail, so that a burst of concurrent retries sees growing delays at once
   * instead of all waiting the same delay. Its answer is not counted again; a success resets.
   */
  counted: boolean;
}

export interface ThrottleDeps {
  readonly state: SharedState;
  readonly options: ThrottleOptions;
  readonly logger: Logger;
  /** Metrics go here when given. */
  readonly metrics?: Registry;
}

/** The state keys of one requester, made once per verified credential. */
interface RequesterKeys {
  readonly requester: string;
  readonly rate:
    { readonly key: string; readonly windowMs: number; readonly max: number } | undefined;
  readonly slot: string;
  readonly errorPrefix: string;
  exempt: boolean;
}

export class Throttle {
  private readonly state: SharedState;
  private readonly o: ThrottleOptions;
  private readonly logger: Logger;
  private readonly proxies;
  private readonly exemptAccounts: ReadonlySet<string>;
  private readonly exemptExact: ReadonlySet<string>;
  private readonly exemptPrefixes: readonly string[];
  /** Error keys this node has recorded within the window: the "keys tracked" gauge. */
  private readonly tracked: LRUCache<string, true>;
  private readonly node = randomBytes(6).toString('hex');
  /** Keys per verified credential: the edge hands the same object for a while (its cache). */
  private readonly keysOf = new WeakMap<VerifiedCredential, RequesterKeys>();
  private sequence = 0;
  private lastWarning = 0;
  /** Pending delays, ended at once by close(). */
  private readonly waiting = new Set<() => void>();
  private readonly delayed?: Counter<'reason'>;
  private readonly delaySeconds?: Counter;
  private readonly refused?: Counter<'reason'>;

  constructor(deps: ThrottleDeps) {
    this.state = deps.state;
    this.o = deps.options;
    this.logger = deps.logger;
    this.proxies = trustList(this.o.trustedProxies);
    this.exemptAccounts = new Set(this.o.exemptAccounts);
    this.exemptExact = new Set(this.o.exemptRoutes.filter((r) => !r.endsWith('*')));
    this.exemptPrefixes = this.o.exemptRoutes
      .filter((r) => r.endsWith('*'))
      .map((r) => r.slice(0, -1));
    this.tracked = new LRUCache({ max: this.o.maxKeys, ttl: this.o.windowMs });
    if (deps.metrics) {
      const registers = [deps.metrics];
      this.delayed = new Counter({
        name: 'switchboard_throttle_delayed_requests_total',
        help: 'Requests delayed because their requester kept failing on the same resource',
        labelNames: ['reason'],
        registers,
      });
      this.delaySeconds = new Counter({
        name: 'switchboard_throttle_delay_seconds_total',
        help: 'Total delay applied to requests, in seconds',
        registers,
      });
      this.refused = new Counter({
        name: 'switchboard_throttle_refused_requests_total',
        help: 'Requests refused with 429 (error 20429), by limit',
        labelNames: ['reason'],
        registers,
      });
      const tracked = this.tracked;
      new Gauge({
        name: 'switchboard_throttle_keys_tracked',
        help: '(requester, resource) error counters this node updated within the window',
        registers,
        collect() {
          this.set(tracked.size);
        },
      });
    }
  }

  /** Names the resources of requests on one route template (see resourceNamer). */
  resourceFor(route: string | undefined): ResourceNamer {
    return resourceNamer(route);
  }

  /** Whether requests on this route template bypass the throttle entirely. */
  exemptRoute(route: string | undefined): boolean {
    if (route === undefined) return false;
    if (this.exemptExact.has(route)) return true;
    return this.exemptPrefixes.some((p) => route.startsWith(p));
  }

  /**
   * Decides for one request: refuses it (rate, concurrency), or delays it (awaiting the delay
   * on a timer, cut short through `onGone` when the client leaves) and lets it through.
   * Undefined when the request is exempt. Answers at once when the state does and there is no
   * delay (the common case in process). Never throws: when the shared state fails, the request
   * goes through unthrottled (fail open).
   */
  begin(facts: RequestFacts, client?: Departure): Answer<Ticket | undefined> {
    const who = facts.credential;
    let keys: RequesterKeys;
    if (who) {
      keys = this.keysOf.get(who) ?? this.keysFor(who);
      if (keys.exempt) return undefined;
    } else {
      const address = clientAddress(facts.remoteAddress, facts.forwardedFor, this.proxies);
      keys = this.requesterKeys(`ip:${address}`, undefined);
    }
    const o = this.o;
    const ticket: Ticket = {
      requester: keys.requester,
      resource: facts.resource,
      errorKey: keys.errorPrefix + facts.resource,
      errors: 0,
      delayMs: 0,
      refusal: undefined,
      slot: undefined,
      counted: false,
    };
    const slot =
      o.concurrency > 0
        ? {
            key: keys.slot,
            holder: `${this.node}:${(this.sequence = (this.sequence + 1) % 1e15)}`,
            limit: o.concurrency,
            leaseMs: o.leaseMs,
          }
        : undefined;
    let admitted: Answer<AdmitResult>;
    try {
      // One step (one round trip on Redis) for the common case: rate, error count and a slot.
      admitted = this.state.admit({
        rate: keys.rate,
        read: { key: ticket.errorKey, windowMs: o.windowMs },
        slot,
      });
    } catch (err) {
      return this.failOpen(ticket, err);
    }
    if (!(admitted instanceof Promise)) return this.decide(ticket, admitted, slot, client);
    return admitted.then(
      (a) => this.decide(ticket, a, slot, client),
      (err: unknown) => this.failOpen(ticket, err),
    );
  }

  private decide(
    ticket: Ticket,
    a: AdmitResult,
    slot: { key: string; holder: string } | undefined,
    client: Departure | undefined,
  ): Answer<Ticket> {
    const o = this.o;
    if (a.slot && slot) ticket.slot = { key: slot.key, holder: slot.holder };
    if (!a.rateAdded) {
      this.refused?.inc({ reason: 'rate' });
      ticket.refusal = new TwilioError(
        Errors.tooManyRequests,
        `more than ${o.rate} requests in ${o.rateWindowMs} ms`,
        { 'Retry-After': String(Math.max(1, Math.ceil(o.rateWindowMs / 1000))) },
      );
      return ticket;
    }
    // The sliding count is an estimate (the previous bucket is weighted): decide on it rounded.
    ticket.errors = Math.round(a.count * 1000) / 1000;
    if (delayFor(Math.round(ticket.errors), o) > 0) {
      return this.slowDown(ticket, slot, client).catch((err: unknown) =>
        this.failOpen(ticket, err),
      );
    }
    if (!a.slot && o.concurrency > 0) ticket.refusal = this.tooMany();
    return ticket;
  }

  private failOpen(ticket: Ticket, err: unknown): Ticket {
    this.warn(err);
    return ticket;
  }

  /** The keys of a verified credential, kept with it (the edge keeps the credential a while). */
  private keysFor(who: VerifiedCredential): RequesterKeys {
    const keys = this.requesterKeys(who.credentialSid, who.accountSid);
    keys.exempt =
      this.exemptAccounts.has(who.accountSid) || this.exemptAccounts.has(who.credentialSid);
    this.keysOf.set(who, keys);
    return keys;
  }

  private requesterKeys(requester: string, accountSid: string | undefined): RequesterKeys {
    const o = this.o;
    return {
      requester,
      rate:
        o.rate > 0
          ? { key: `thr:r:${requester}`, windowMs: o.rateWindowMs, max: o.rate }
          : undefined,
      slot: `thr:c:${accountSid ?? requester}`,
      errorPrefix: `thr:e:${requester}|`,
      exempt: false,
    };
  }

  /** A request its requester is being slowed on: counted, delayed, then given a slot again. */
  private async slowDown(
    ticket: Ticket,
    slot: { key: string; holder: string } | undefined,
    client: Departure | undefined,
  ): Promise<Ticket> {
    const o = this.o;
    const counted = await this.state.slide(ticket.errorKey, o.windowMs, { add: 1 });
    ticket.counted = true;
    ticket.errors = Math.round((counted.count - 1) * 1000) / 1000;
    ticket.delayMs = delayFor(Math.round(ticket.errors), o);
    let admitted = ticket.slot !== undefined || o.concurrency <= 0;
    if (ticket.delayMs > 0) {
      this.delayed?.inc({ reason: 'errors' });
      this.delaySeconds?.inc(ticket.delayMs / 1000);
      // A waiting request holds no slot: give it back, wait, take one again.
      if (ticket.slot) await this.state.release(ticket.slot.key, ticket.slot.holder);
      ticket.slot = undefined;
      await this.wait(ticket.delayMs, client);
      if (slot) {
        admitted = await this.state.acquire(slot.key, slot.holder, o.concurrency, o.leaseMs);
        if (admitted) ticket.slot = { key: slot.key, holder: slot.holder };
      }
    }
    if (!admitted) ticket.refusal = this.tooMany();
    return ticket;
  }

  private tooMany(): TwilioError {
    this.refused?.inc({ reason: 'concurrency' });
    return new TwilioError(
      Errors.tooManyRequests,
      `more than ${this.o.concurrency} concurrent requests`,
      { 'Retry-After': '1' },
    );
  }

  /**
   * Reports how the request ended: frees its slot and counts it as an error or a success.
   * `undefined` when no answer was sent (the client left): the slot is freed, nothing counted.
   * Never rejects; a failing shared state is logged. A Promise only when the state answers later.
   */
  end(ticket: Ticket, status: number | undefined): Answer<void> {
    const slot = ticket.slot;
    ticket.slot = undefined;
    const later: Promise<unknown>[] = [];
    const settle = (answer: Answer<unknown>): void => {
      if (answer instanceof Promise) later.push(answer);
    };
    try {
      if (slot) settle(this.state.release(slot.key, slot.holder));
      if (!ticket.refusal && status !== undefined) {
        const key = ticket.errorKey;
        if (this.o.isError(status)) {
          this.tracked.set(key, true);
          if (!ticket.counted) settle(this.state.slide(key, this.o.windowMs, { add: 1 }));
        } else if ((ticket.errors > 0 || ticket.counted) && this.o.successKeep < 1) {
          // Deleting lru-cache's last entry clears all its `max` slots: O(max). Let it expire.
          if (this.o.successKeep === 0 && this.tracked.size > 1) this.tracked.delete(key);
          settle(this.state.slide(key, this.o.windowMs, { scale: this.o.successKeep }));
        }
      }
    } catch (err) {
      this.warn(err);
    }
    if (later.length === 0) return;
    return Promise.all(later).then(
      () => undefined,
      (err: unknown) => this.warn(err),
    );
  }

  /** Ends pending delays at once (their requests proceed); call before closing the server. */
  close(): void {
    for (const done of [...this.waiting]) done();
  }

  /** Number of (requester, resource) error counters this node updated within the window. */
  get keysTracked(): number {
    return this.tracked.size;
  }

  /** A timer, ended early when the client leaves or by close(); never rejects. */
  private wait(ms: number, client: Departure | undefined): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.waiting;
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiting.add(done);
      client?.onGone(done);
    });
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (Math.abs(now - this.lastWarning) < 10_000) return;
    this.lastWarning = now;
    this.logger.warn({ err }, 'throttle: shared state failed, requests pass unthrottled');
  }
}
