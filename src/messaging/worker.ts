// One worker per provider: claims batches from the provider's own queue, paces them with a
// token bucket at the provider's throughput, keeps the carrier's window full, and decides per
// outcome: sent, failed (permanent), retried later (transient), re-routed (waited too long),
// expired (ValidityPeriod, 30036) or unknown outcome (never sent twice without a record).
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { InStore, Queue, QueueJob } from '../queue/index.js';
import type { Carrier } from './carriers/carrier.js';
import { TokenBucket } from './rate.js';
import { ESME, SubmitError } from './carriers/smpp/status.js';
import type { Admission, SenderCaps } from './sender-cap.js';
import { SlidingStats } from './stats.js';
import type { ProviderRow } from './tables.js';
import { inDoubtPolicy, type InDoubtPolicy } from './in-doubt.js';
import type { SmsJob } from './job.js';

const waitNote = (p: InDoubtPolicy) =>
  `in doubt: waiting ${p.graceMs} ms for a receipt, then ${p.action === 'resend' ? 'sending it again' : 'failing it'}`;

/** What the worker reports back to the messaging service. */
export interface WorkerHooks {
  /** Marks the messages `sending` on this provider before any submit (durably). */
  sending(sids: readonly string[], providerSid: string): Promise<void>;
  /** Status of messages claimed again after a previous claim (crash recovery). */
  statusOf(sids: readonly string[]): Promise<Map<string, PriorStatus>>;
  /**
   * Marks a message in doubt (its submit's answer never recorded, in-doubt.ts): it stays
   * `sending`, waiting for a receipt to settle it.
   */
  inDoubt(job: SmsJob, note: string): Promise<void>;
  /** Back to `queued` to be sent again after a doubt (counted: it happens once at most). */
  resend(job: SmsJob, note: string): Promise<void>;
  /** Makes every status reported so far durable (false: it failed); acks wait for it. */
  settle(): Promise<boolean>;
  sent(job: SmsJob, providerSid: string, carrierIds: readonly string[]): void;
  failed(job: SmsJob, code: number, message: string, note: string): void;
  /** Back to `queued` (and no longer in doubt) before the job is released for a retry. */
  requeue(job: SmsJob, note: string): Promise<void>;
  /** Moves the job to another provider's queue; false when there is none. */
  reroute(job: SmsJob, fromProvider: string, reason: string): Promise<boolean>;
  /**
   * Removes a finished job of a queue in the SQL store in the same commit as the statuses
   * reported so far (the message's among them).
   */
  ack(queue: InStore<unknown>, id: string): void;
}

export interface PriorStatus {
  readonly status: string;
  readonly provider: string | null;
  /** Set once the message was found in doubt (in-doubt.ts). */
  readonly inDoubtSince: number | null;
  /** Times it was sent again after a doubt. */
  readonly resends: number;
}

const HALF_OPEN_AFTER_MS = 2000;
/** How long ESME_RTHROTTLED or ESME_RMSGQFUL pauses a provider. */
const SLOW_DOWN_MS = 1000;

export type WorkerState = 'running' | 'backing-off' | 'circuit-open' | 'disconnected' | 'stopped';

export class ProviderWorker {
  readonly stats = new SlidingStats();
  /** Paces claims at the provider's throughput. */
  readonly bucket: TokenBucket;
  /** Paces the submits themselves: a claim-to-submit delay that varies must not bunch them. */
  readonly pacer: TokenBucket;
  readonly breaker: CircuitBreakerPolicy;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private inflight = 0;
  private dispatching = 0;
  private readonly sending = new Set<string>();
  private transientStreak = 0;
  private backoffUntil = 0;
  /** Estimated jobs waiting (refreshed from the queue, adjusted locally). */
  depth = 0;
  private lastDepthRefresh = 0;
  private acks: string[] = [];
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(
    public row: ProviderRow,
    readonly carrier: Carrier,
    readonly queue: Queue<SmsJob>,
    private readonly hooks: WorkerHooks,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
    /** Per-sender caps, in the shared state (absent: none). */
    private readonly caps?: SenderCaps,
  ) {
    this.bucket = new TokenBucket(row.throughput);
    this.pacer = new TokenBucket(row.throughput);
    this.breaker = circuitBreaker(
      // "Slow down" (throttled, queue full) says the provider is up: it backs off the worker,
      // not the circuit.
      handleWhen((e) => e instanceof SubmitError && e.kind === 'transient' && !slowDown(e)),
      { halfOpenAfter: HALF_OPEN_AFTER_MS, breaker: new ConsecutiveBreaker(5) },
    );
    this.breaker.onStateChange((s) => {
      if (s === CircuitState.Open) this.openedAt = Date.now();
      this.log(`circuit ${CircuitState[s].toLowerCase()}`, { provider: row.name });
    });
  }

  /** When the circuit last opened. */
  private openedAt = 0;

  /**
   * cockatiel moves an open circuit to half-open only when a call is tried after
   * halfOpenAfter; so once that time has passed the provider counts as healthy again, gets
   * claims, and the next submit is the trial.
   */
  private circuitOpen(): boolean {
    return (
      this.breaker.state === CircuitState.Open && Date.now() - this.openedAt < HALF_OPEN_AFTER_MS
    );
  }

  healthy(): boolean {
    return this.carrier.isUp() && !this.circuitOpen();
  }

  state(): WorkerState {
    if (!this.running) return 'stopped';
    if (!this.carrier.isUp())
      return this.carrier.state().backingOff ? 'backing-off' : 'disconnected';
    if (this.circuitOpen()) return 'circuit-open';
    if (Date.now() < this.backoffUntil) return 'backing-off';
    return 'running';
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.carrier.start();
    this.carrier.on('state', () => this.poke());
    this.loop = this.run().catch((e: unknown) => {
      this.log(`worker stopped on error: ${(e as Error).message}`, { provider: this.row.name });
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    const deadline = Date.now() + 5000;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(10);
    await this.flushAcks();
    await this.carrier.stop();
  }

  /** Something changed (new job, window slot, bind): look again now. */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async refreshDepth(): Promise<void> {
    if (Date.now() - this.lastDepthRefresh < 1000) return;
    this.lastDepthRefresh = Date.now();
    this.depth = await this.queue.depth().catch(() => this.depth);
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.refreshDepth();
      if (!this.healthy() || Date.now() < this.backoffUntil) {
        await this.sweep();
        await this.idle(this.healthy() ? Math.max(5, this.backoffUntil - Date.now()) : 500);
        continue;
      }
      // Window slots not yet spoken for: free slots minus sends waiting for one and claims not
      // yet dispatched.
      const waiting = Math.max(0, this.inflight - this.carrier.state().outstanding);
      const room = Math.min(
        this.carrier.capacity() - waiting - this.dispatching,
        this.bucket.available(),
        200,
      );
      if (room <= 0) {
        await this.idle(Math.max(2, Math.min(50, this.bucket.waitMs())));
        continue;
      }
      let jobs: QueueJob<SmsJob>[];
      try {
        jobs = await this.queue.claim(room);
      } catch (e) {
        this.log(`claim failed: ${(e as Error).message}`, { provider: this.row.name });
        await this.idle(500);
        continue;
      }
      if (!jobs.length) {
        await this.idle(50);
        continue;
      }
      this.depth = Math.max(0, this.depth - jobs.length);
      // Tokens are taken at claim time, so that the next claim already sees them spent.
      this.bucket.take(jobs.reduce((n, j) => n + j.data.seg, 0));
      // Dispatch (a durable "sending" write, then the submits) runs while the next batch is claimed.
      this.dispatching += jobs.length;
      void this.dispatch(jobs)
        .catch((e: Error) => this.log(`dispatch failed: ${e.message}`, { provider: this.row.name }))
        .finally(() => {
          this.dispatching -= jobs.length;
          this.poke();
        });
    }
  }

  /** While the provider is down: move jobs that waited too long elsewhere. */
  private async sweep(): Promise<void> {
    const jobs = await this.queue.claim(100).catch(() => [] as QueueJob<SmsJob>[]);
    if (!jobs.length) return;
    const now = Date.now();
    const keep: string[] = [];
    for (const job of jobs) {
      if (now > job.data.exp) {
        this.hooks.failed(
          job.data,
          30036,
          'Validity period expired',
          `expired waiting for ${this.row.name}`,
        );
        this.ack(job.id);
      } else if (now - job.enqueuedAt > this.row.max_wait_ms) {
        const moved = await this.hooks.reroute(
          job.data,
          this.row.sid,
          `${this.row.name} is ${this.state()} and the message waited ${now - job.enqueuedAt} ms`,
        );
        if (moved) this.ack(job.id);
        else keep.push(job.id);
      } else {
        keep.push(job.id);
      }
    }
    if (keep.length) await this.queue.release(keep, 250);
  }

  private async dispatch(jobs: QueueJob<SmsJob>[]): Promise<void> {
    const now = Date.now();
    const live: QueueJob<SmsJob>[] = [];
    const again = jobs.filter((j) => j.attempts > 1).map((j) => j.data.sid);
    const prior = again.length ? await this.hooks.statusOf(again) : new Map<string, PriorStatus>();
    for (const job of jobs) {
      const p = prior.get(job.data.sid);
      if (this.sending.has(job.data.sid)) {
        // Our own submit is still running (a slow SMSC outlived the lease): its ack will do.
        continue;
      } else if (p && p.status === 'sending') {
        // Claimed before by a process that stopped between "sending" and the SMSC's answer:
        // the SMSC may or may not have it. Wait for its receipt, then send again or fail.
        if (await this.settleInDoubt(job, p, now)) live.push(job);
      } else if (p && p.status !== 'queued' && p.status !== 'accepted') {
        this.ack(job.id); // already finished; the ack was lost
      } else if (now > job.data.exp) {
        this.hooks.failed(job.data, 30036, 'Validity period expired', 'expired in the queue');
        this.ack(job.id);
      } else {
        live.push(job);
      }
    }
    if (!live.length) return;
    // Per-sender caps (sender-cap.ts): some wait a little, some go back to the queue.
    const admitted = this.caps
      ? await this.caps.admit(live, this.row)
      : { now: live.map((job) => ({ job, waitMs: 0 })), later: [], overflow: [] };
    await this.deferToSenderSlots(admitted);
    if (!admitted.now.length) return;
    await this.hooks.sending(
      admitted.now.map((a) => a.job.data.sid),
      this.row.sid,
    );
    for (const { job, waitMs } of admitted.now) {
      this.inflight++;
      this.sending.add(job.data.sid);
      void this.send(job, waitMs)
        // Recording a retry can fail (the store is closing under a stopping worker): the job's
        // lease brings the message back, and the log says so.
        .catch((e: Error) =>
          this.log(`could not record what became of ${job.data.sid}: ${e.message}`, {
            provider: this.row.name,
          }),
        )
        .finally(() => {
          this.sending.delete(job.data.sid);
          this.inflight--;
          this.poke();
        });
    }
  }

  /**
   * A message claimed again while `sending`: in doubt. The first time, it is marked and waits
   * the provider's grace period for a receipt (receipts.ts matches one to it); after that, with
   * no receipt, it is failed (30008) or sent again (true) as the provider says, and its log
   * says which.
   */
  private async settleInDoubt(job: QueueJob<SmsJob>, p: PriorStatus, now: number) {
    const policy = inDoubtPolicy(this.row.settings);
    const back = async (delayMs: number) => {
      // The provider tokens taken at claim time were not used.
      this.bucket.take(-job.data.seg);
      this.depth++;
      await this.queue.release([job.id], delayMs);
    };
    if (p.inDoubtSince === null) {
      await this.hooks.inDoubt(
        job.data,
        `the platform stopped while the submit to ${p.provider === this.row.sid ? this.row.name : (p.provider ?? this.row.name)} was outstanding; ${waitNote(policy)}`,
      );
      await back(policy.graceMs);
      return false;
    }
    const waited = now - p.inDoubtSince;
    if (waited < policy.graceMs) {
      await back(policy.graceMs - waited);
      return false;
    }
    if (policy.action === 'fail' || p.resends > 0) {
      // Sent again once already with no answer either: the carrier is not taking it.
      this.hooks.failed(
        job.data,
        30008,
        'Unknown error',
        p.resends > 0
          ? `outcome unknown: no receipt within ${policy.graceMs} ms of an unanswered submit, after it was sent again once; not sent a third time`
          : `outcome unknown: no receipt within ${policy.graceMs} ms of an unanswered submit; not resent to avoid a duplicate`,
      );
      this.ack(job.id);
      return false;
    }
    await this.hooks.resend(
      job.data,
      `sent again: no receipt within ${policy.graceMs} ms of an unanswered submit; if the carrier had it, the recipient gets it twice`,
    );
    return true;
  }

  /** Jobs whose sender has no free slot soon go back to the queue, or fail (30001). */
  private async deferToSenderSlots(a: Admission): Promise<void> {
    for (const job of a.overflow) {
      this.hooks.failed(
        job.data,
        30001,
        'Queue overflow',
        `the sender ${job.data.from} has no free slot under its throughput cap before the message expires`,
      );
      this.ack(job.id);
    }
    for (const { job, delayMs } of a.later) {
      // The provider tokens taken at claim time were not used.
      this.bucket.take(-job.data.seg);
      this.depth++;
      await this.queue.release([job.id], delayMs);
    }
  }

  private async send(job: QueueJob<SmsJob>, waitMs = 0): Promise<void> {
    const d = job.data;
    try {
      if (waitMs > 0) await sleep(waitMs);
      await this.pacer.acquire(d.seg);
      const ids = await this.breaker.execute(() =>
        this.carrier.submit({
          from: d.from,
          to: d.to,
          body: d.body,
          ref: refOf(d.sid),
          validitySeconds: Math.max(1, Math.floor((d.exp - Date.now()) / 1000)),
          sid: d.sid,
          ...(d.media?.length ? { mediaUrls: d.media } : {}),
        }),
      );
      this.transientStreak = 0;
      this.stats.submitted(ids.length);
      this.hooks.sent(d, this.row.sid, ids);
      this.ack(job.id);
    } catch (e) {
      this.stats.error();
      if (e instanceof SubmitError && e.kind === 'permanent') {
        this.hooks.failed(d, e.twilioCode, e.message, `${this.row.name}: ${e.message}`);
        this.ack(job.id);
        return;
      }
      if (e instanceof SubmitError && e.kind === 'unknown') {
        // The SMSC may have it (the answer was lost with the connection, or is late): in doubt.
        const policy = inDoubtPolicy(this.row.settings);
        await this.hooks.inDoubt(d, `${this.row.name}: ${e.message}; ${waitNote(policy)}`);
        await this.queue.release([job.id], policy.graceMs);
        return;
      }
      // Transient (throttled, queue full, not bound) or circuit open: back off and retry later,
      // here or elsewhere once the message has waited too long.
      // "Slow down" pauses the provider for a second and retries; it is no sign of trouble, so
      // it does not lengthen the backoff of a provider that keeps failing.
      const slow = slowDown(e);
      if (slow) {
        this.bucket.pause(SLOW_DOWN_MS);
        this.pacer.pause(SLOW_DOWN_MS);
      } else this.transientStreak++;
      const delay = slow
        ? SLOW_DOWN_MS
        : Math.min(30_000, 100 * 2 ** Math.min(8, this.transientStreak));
      this.backoffUntil = Date.now() + (e instanceof BrokenCircuitError ? 0 : delay);
      const why = e instanceof Error ? e.message : String(e);
      if (Date.now() - job.enqueuedAt > this.row.max_wait_ms) {
        await this.hooks.requeue(d, `${this.row.name}: ${why}`);
        const moved = await this.hooks.reroute(d, this.row.sid, `${this.row.name}: ${why}`);
        if (moved) {
          this.ack(job.id);
          return;
        }
      } else {
        await this.hooks.requeue(d, `${this.row.name}: ${why}; retrying`);
      }
      // Back no later than when it may move to another provider (the backoff can be longer).
      const untilMove = this.row.max_wait_ms - (Date.now() - job.enqueuedAt);
      await this.queue
        .release([job.id], Math.max(0, Math.min(delay, untilMove)))
        .catch((e: Error) => this.log(`release failed: ${e.message}`, { provider: this.row.name }));
    }
  }

  /** Acks are batched: one write for many jobs. */
  private ack(id: string): void {
    if (this.queue.inStore) return this.hooks.ack(this.queue.inStore as InStore<unknown>, id);
    this.acks.push(id);
    if (this.acks.length >= 200) void this.flushAcks();
    else this.ackTimer ??= setTimeout(() => void this.flushAcks(), 5);
  }

  private async flushAcks(): Promise<void> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const ids = this.acks.splice(0);
    if (!ids.length) return;
    // A job is removed only once the status saying what happened to it is stored; otherwise
    // its lease runs out and it comes back (and is then found "sending": outcome unknown).
    if (!(await this.hooks.settle())) {
      this.log('status write failed; jobs left to come back after their lease');
      return;
    }
    await this.queue.ack(ids).catch((e: Error) => this.log(`ack failed: ${e.message}`));
  }
}

/** ESME_RTHROTTLED (0x58) or ESME_RMSGQFUL (0x14): the SMSC asks us to slow down. */
function slowDown(e: unknown): boolean {
  return e instanceof SubmitError && (e.status === ESME.RTHROTTLED || e.status === ESME.RMSGQFUL);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A concatenation reference derived from the message SID (same on every retry). */
export function refOf(sid: string): number {
  return parseInt(sid.slice(-4), 16) & 0xffff;
}
