// The throttle engine, free of any HTTP framework: the edge describes a request (begin), waits
// the delay it is told, and reports the status it answered (end). Counters live in the shared
// state port, so every API node sharing a Redis agrees; in-process caches are bounded LRUs.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Errors, TwilioError, type Logger } from '../core/index.js';
import type { SharedState } from '../state/index.js';
import { clientAddress, isCredentialSid, parseBasic, resourceOf, trustList } from './identity.js';
import { delayFor, type ThrottleOptions } from './options.js';

/** A verified credential: the SID that authenticated and the account it belongs to. */
export interface VerifiedCredential {
  readonly accountSid: string;
  readonly credentialSid: string;
}

/** Checks a username/password pair (the accounts capability); undefined when it is wrong. */
export type Verifier = (
  username: string,
  password: string,
) => Promise<VerifiedCredential | undefined>;

/** What the edge knows about a request when it arrives. */
export interface RequestFacts {
  readonly method: string;
  /** Route template, e.g. /2010-04-01/Accounts/:AccountSid/Keys/:Sid.json (none: unmatched). */
  readonly route: string | undefined;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly authorization: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly forwardedFor: string | string[] | undefined;
}

/** What the throttle decided for one request; hand it back to `end`. */
export interface Ticket {
  /** `AC…`/`SK…` for a verified credential, `ip:…` otherwise. */
  readonly requester: string;
  readonly resource: string;
  /** Errors of (requester, resource) in the window when the request arrived. */
  readonly errors: number;
  /** Delay applied before the request was let through, in ms. */
  readonly delayMs: number;
  /** Set when the throttle refused the request (429, error 20429); do not count it. */
  readonly refusal: TwilioError | undefined;
  /** Concurrency slot held until `end`. */
  slot: { key: string; holder: string } | undefined;
}

export interface ThrottleDeps {
  readonly state: SharedState;
  readonly options: ThrottleOptions;
  readonly verify: Verifier;
  readonly logger: Logger;
  /** Metrics go here when given. */
  readonly metrics?: Registry;
}

const NO_SUCH: VerifiedCredential = { accountSid: '', credentialSid: '' };

export class Throttle {
  private readonly state: SharedState;
  private readonly o: ThrottleOptions;
  private readonly verify: Verifier;
  private readonly logger: Logger;
  private readonly proxies;
  private readonly exemptAccounts: ReadonlySet<string>;
  private readonly exemptExact: ReadonlySet<string>;
  private readonly exemptPrefixes: readonly string[];
  /** sha256(Authorization) → credential (NO_SUCH when wrong); bounded, short-lived. */
  private readonly identities: LRUCache<string, VerifiedCredential>;
  /** Error keys this node has recorded within the window: the "keys tracked" gauge. */
  private readonly tracked: LRUCache<string, true>;
  private readonly node = randomBytes(6).toString('hex');
  private sequence = 0;
  private lastWarning = 0;
  /** Aborted on close: pending delays end at once. */
  private readonly closing = new AbortController();
  private readonly delayed?: Counter<'reason'>;
  private readonly delaySeconds?: Counter;
  private readonly refused?: Counter<'reason'>;

  constructor(deps: ThrottleDeps) {
    this.state = deps.state;
    this.o = deps.options;
    this.verify = deps.verify;
    this.logger = deps.logger;
    this.proxies = trustList(this.o.trustedProxies);
    this.exemptAccounts = new Set(this.o.exemptAccounts);
    this.exemptExact = new Set(this.o.exemptRoutes.filter((r) => !r.endsWith('*')));
    this.exemptPrefixes = this.o.exemptRoutes
      .filter((r) => r.endsWith('*'))
      .map((r) => r.slice(0, -1));
    this.identities = new LRUCache({ max: this.o.maxKeys, ttl: 60_000 });
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

  /** Whether requests on this route template bypass the throttle entirely. */
  exemptRoute(route: string | undefined): boolean {
    if (route === undefined) return false;
    if (this.exemptExact.has(route)) return true;
    return this.exemptPrefixes.some((p) => route.startsWith(p));
  }

  /**
   * Decides for one request: refuses it (rate, concurrency), or delays it (awaiting the delay
   * here, on a timer) and lets it through. Undefined when the request is exempt. Never throws:
   * when the shared state fails, the request goes through unthrottled (fail open).
   */
  async begin(facts: RequestFacts, signal?: AbortSignal): Promise<Ticket | undefined> {
    if (this.exemptRoute(facts.route)) return undefined;
    const who = await this.identify(facts.authorization);
    if (
      who &&
      (this.exemptAccounts.has(who.accountSid) || this.exemptAccounts.has(who.credentialSid))
    )
      return undefined;
    const requester =
      who?.credentialSid ??
      `ip:${clientAddress(facts.remoteAddress, facts.forwardedFor, this.proxies)}`;
    const resource = resourceOf(facts.method, facts.route, facts.params);
    const ticket: Ticket = {
      requester,
      resource,
      errors: 0,
      delayMs: 0,
      refusal: undefined,
      slot: undefined,
    };
    try {
      const [rate, errors] = await Promise.all([
        this.o.rate > 0
          ? this.state.slide(`thr:r:${requester}`, this.o.rateWindowMs, {
              add: 1,
              max: this.o.rate,
            })
          : undefined,
        this.state.slide(this.errorKey(requester, resource), this.o.windowMs),
      ]);
      if (rate && !rate.added) {
        this.refused?.inc({ reason: 'rate' });
        return {
          ...ticket,
          refusal: new TwilioError(
            Errors.tooManyRequests,
            `more than ${this.o.rate} requests in ${this.o.rateWindowMs} ms`,
            { 'Retry-After': String(Math.max(1, Math.ceil(this.o.rateWindowMs / 1000))) },
          ),
        };
      }
      // The sliding count is an estimate (the previous bucket is weighted): decide on it rounded.
      const count = Math.round(errors.count * 1000) / 1000;
      const delayMs = delayFor(Math.round(count), this.o);
      const admitted: Ticket = { ...ticket, errors: count, delayMs };
      if (delayMs > 0) {
        this.delayed?.inc({ reason: 'errors' });
        this.delaySeconds?.inc(delayMs / 1000);
        await this.wait(delayMs, signal);
      }
      if (this.o.concurrency > 0) {
        const key = `thr:c:${who?.accountSid ?? requester}`;
        const holder = `${this.node}:${(this.sequence = (this.sequence + 1) % 1e15)}`;
        if (!(await this.state.acquire(key, holder, this.o.concurrency, this.o.leaseMs))) {
          this.refused?.inc({ reason: 'concurrency' });
          return {
            ...admitted,
            refusal: new TwilioError(
              Errors.tooManyRequests,
              `more than ${this.o.concurrency} concurrent requests`,
              { 'Retry-After': '1' },
            ),
          };
        }
        admitted.slot = { key, holder };
      }
      return admitted;
    } catch (err) {
      this.warn(err);
      return ticket;
    }
  }

  /**
   * Reports how the request ended: frees its slot and counts it as an error or a success.
   * `undefined` when no answer was sent (the client left): the slot is freed, nothing counted.
   */
  async end(ticket: Ticket, status: number | undefined): Promise<void> {
    try {
      const slot = ticket.slot;
      ticket.slot = undefined;
      const work: Promise<unknown>[] = [];
      if (slot) work.push(this.state.release(slot.key, slot.holder));
      if (!ticket.refusal && status !== undefined) {
        const key = this.errorKey(ticket.requester, ticket.resource);
        if (this.o.isError(status)) {
          this.tracked.set(key, true);
          work.push(this.state.slide(key, this.o.windowMs, { add: 1 }));
        } else if (ticket.errors > 0 && this.o.successKeep < 1) {
          if (this.o.successKeep === 0) this.tracked.delete(key);
          work.push(this.state.slide(key, this.o.windowMs, { scale: this.o.successKeep }));
        }
      }
      await Promise.all(work);
    } catch (err) {
      this.warn(err);
    }
  }

  /** Ends pending delays at once (their requests proceed); call before closing the server. */
  close(): void {
    this.closing.abort();
  }

  /** Number of (requester, resource) error counters this node updated within the window. */
  get keysTracked(): number {
    return this.tracked.size;
  }

  private errorKey(requester: string, resource: string): string {
    return `thr:e:${requester}|${resource}`;
  }

  private async identify(
    authorization: string | undefined,
  ): Promise<VerifiedCredential | undefined> {
    const basic = parseBasic(authorization);
    if (!basic || !isCredentialSid(basic[0])) return undefined;
    const cacheKey = createHash('sha256')
      .update(authorization ?? '')
      .digest('base64');
    let found = this.identities.get(cacheKey);
    if (!found) {
      let verified: VerifiedCredential | undefined;
      try {
        verified = await this.verify(basic[0], basic[1]);
      } catch {
        verified = undefined; // a suspended account, a failing store: not a verified credential
      }
      found = verified ?? NO_SUCH;
      // Wrong secrets are remembered briefly, so a flood of them costs one check each 5 s.
      this.identities.set(cacheKey, found, verified ? {} : { ttl: 5000 });
    }
    return found === NO_SUCH ? undefined : found;
  }

  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const signals = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    try {
      await sleep(ms, undefined, { signal: signals });
    } catch {
      // Aborted: the client left or the server is closing; let the request go on.
    }
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (Math.abs(now - this.lastWarning) < 10_000) return;
    this.lastWarning = now;
    this.logger.warn({ err }, 'throttle: shared state failed, requests pass unthrottled');
  }
}
