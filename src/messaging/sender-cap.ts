// Per-sender throughput caps (e.g. 1 segment/s per long code), on top of each provider's rate.
// Every sender number has a timeline in the shared state (memory, or Redis across nodes): a
// message takes the sender's next free slot, spaced 1000 × segments ÷ rate ms apart. A slot
// within HOLD_MS is waited for in memory; a later one is remembered (also in the shared state,
// so whichever node claims the message next honours it) and the job goes back to its queue
// until then, leaving the provider's window to other senders. A slot beyond the message's
// validity is not taken: the message fails with 30001 (queue overflow), as Twilio does when a
// sender's queue is too long.
import type { QueueJob } from '../queue/index.js';
import type { SharedState } from '../state/index.js';
import type { ProviderRow } from './tables.js';
import type { SmsJob } from './job.js';

/** A slot nearer than this is waited for in memory rather than through the queue. */
export const HOLD_MS = 1000;
/**
 * A job back from the queue comes this much before its slot and waits the rest in memory, so
 * that claim latency does not make it late (a late message would sit close to the next one).
 */
const EARLY_MS = HOLD_MS / 2;

export interface Admission {
  /** Send after waitMs. */
  readonly now: { job: QueueJob<SmsJob>; waitMs: number }[];
  /** Back to the queue until their slot. */
  readonly later: { job: QueueJob<SmsJob>; delayMs: number }[];
  /** No slot before the message expires. */
  readonly overflow: QueueJob<SmsJob>[];
}

export class SenderCaps {
  constructor(private readonly state: SharedState) {}

  /** Segments per second allowed to the message's sender: the tightest cap that applies. */
  static rateFor(job: SmsJob, row: ProviderRow): number {
    const caps = [job.cap ?? 0, row.sender_throughput ?? 0].filter((c) => c > 0);
    return caps.length ? Math.min(...caps) : 0;
  }

  async admit(jobs: readonly QueueJob<SmsJob>[], row: ProviderRow): Promise<Admission> {
    const out: Admission = { now: [], later: [], overflow: [] };
    for (const job of jobs) {
      const d = job.data;
      const rate = SenderCaps.rateFor(d, row);
      if (!rate) {
        out.now.push({ job, waitMs: 0 });
        continue;
      }
      // A slot this message took on an earlier claim (here or on another node).
      const heldKey = `msg:sender-slot:${d.sid}`;
      const held = await this.state.get(heldKey);
      if (held !== null) {
        const wait = Number(held) - Date.now();
        if (wait > HOLD_MS) {
          out.later.push({ job, delayMs: wait - EARLY_MS });
          continue;
        }
        await this.state.del(heldKey);
        out.now.push({ job, waitMs: Math.max(0, wait) });
        continue;
      }
      const slot = await this.state.pace(
        `msg:sender:${d.from}`,
        (1000 * d.seg) / rate,
        Math.max(0, d.exp - Date.now()),
      );
      if (!slot.taken) {
        out.overflow.push(job);
      } else if (slot.waitMs <= HOLD_MS) {
        out.now.push({ job, waitMs: slot.waitMs });
      } else {
        await this.state.set(heldKey, String(Date.now() + slot.waitMs), slot.waitMs + 60_000);
        out.later.push({ job, delayMs: slot.waitMs - EARLY_MS });
      }
    }
    return out;
  }
}
