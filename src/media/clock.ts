// One shared 20 ms tick that paces every outgoing stream. Deadlines are computed from a
// monotonic start (start + n·20 ms), never from the last fire, so timer lateness does not
// accumulate. Each fire runs three phases in order — receive (jitter buffers hand out this
// tick's frame), send (sessions build and send packets), after (recorders, meters) — so a
// bridge or mixer always sees the frame its peers received in the same tick.

import { performance } from 'node:perf_hooks';

export const TICK_MS = 20;
export const SAMPLES_PER_TICK = 160;

export type TickPhase = 'receive' | 'send' | 'after';
export type TickHandler = (tick: number) => void;

/** Ticks the clock runs at once after a stall before it gives up catching up. */
const MAX_CATCH_UP = 5;

export interface ClockStats {
  ticks: number;
  /** Lateness of each fire behind its deadline, ms (last 3000 fires). */
  lateness: Float64Array;
  skipped: number;
  /** Time spent running handlers per tick, ms (same ring as lateness). */
  work: Float64Array;
}

export class MediaClock {
  private readonly phases: Record<TickPhase, Set<TickHandler>> = {
    receive: new Set(),
    send: new Set(),
    after: new Set(),
  };
  private timer: NodeJS.Timeout | undefined;
  private start = 0;
  private tick = 0;
  private subscribers = 0;
  private skipped = 0;
  private readonly lateRing = new Float64Array(3000);
  private readonly workRing = new Float64Array(3000);
  private lateCount = 0;
  onError: (err: unknown) => void = () => undefined;

  /** Runs `handler` every tick in `phase` until the returned function is called. */
  subscribe(handler: TickHandler, phase: TickPhase = 'send'): () => void {
    const set = this.phases[phase];
    if (set.has(handler)) return () => undefined;
    set.add(handler);
    this.subscribers++;
    if (this.subscribers === 1) this.startTimer();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      set.delete(handler);
      this.subscribers--;
      if (this.subscribers === 0) this.stopTimer();
    };
  }

  /** The tick now being processed (or last processed). */
  get currentTick(): number {
    return this.tick;
  }

  stats(): ClockStats {
    const n = Math.min(this.lateCount, this.lateRing.length);
    return {
      ticks: this.lateCount,
      lateness: this.lateRing.slice(0, n),
      skipped: this.skipped,
      work: this.workRing.slice(0, n),
    };
  }

  stop(): void {
    for (const set of Object.values(this.phases)) set.clear();
    this.subscribers = 0;
    this.stopTimer();
  }

  private startTimer(): void {
    this.start = performance.now();
    this.tick = 0;
    this.schedule();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const deadline = this.start + (this.tick + 1) * TICK_MS;
    const delay = Math.max(0, deadline - performance.now());
    this.timer = setTimeout(this.fire, delay);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    let due = Math.floor((now - this.start) / TICK_MS);
    if (due - this.tick > MAX_CATCH_UP) {
      // A long stall (GC, blocked loop): skip ahead rather than burst many packets.
      this.skipped += due - this.tick - 1;
      this.tick = due - 1;
    }
    while (this.tick < due && this.subscribers > 0) {
      this.tick++;
      const late = now - (this.start + this.tick * TICK_MS);
      const slot = this.lateCount++ % this.lateRing.length;
      this.lateRing[slot] = late;
      const began = performance.now();
      this.runPhase('receive');
      this.runPhase('send');
      this.runPhase('after');
      const ended = performance.now();
      this.workRing[slot] = ended - began;
      due = Math.floor((ended - this.start) / TICK_MS);
      if (due - this.tick > MAX_CATCH_UP) break;
    }
    if (this.subscribers > 0) this.schedule();
  };

  private runPhase(phase: TickPhase): void {
    for (const handler of this.phases[phase]) {
      try {
        handler(this.tick);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
