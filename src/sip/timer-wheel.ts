// One hashed timing wheel drives every transaction timer (A-K, 2xx retransmission, ...).
// A single interval runs while timers are pending; scheduling and cancelling are O(1) and
// allocate one small handle. Targets implement `onTimer(kind)`, so no closure per timer.

export interface TimerTarget {
  onTimer(kind: number): void;
}

const IDLE = -1;
const PROCESSING = -2;

export class TimerHandle {
  next: TimerHandle | null = null;
  prev: TimerHandle | null = null;
  /** Slot index, IDLE when fired/cancelled, PROCESSING while its slot is being walked. */
  slot = IDLE;
  rounds = 0;
  constructor(
    public target: TimerTarget | null,
    public kind: number,
  ) {}

  get active(): boolean {
    return this.target !== null;
  }
}

export class TimerWheel {
  private readonly slots: Array<TimerHandle | null>;
  private cursor = 0;
  private lastTick = 0;
  private count = 0;
  private interval: NodeJS.Timeout | undefined;
  /** Called when a timer callback throws (it never propagates). */
  onError: (err: unknown) => void = () => {};

  constructor(
    readonly tickMs = 10,
    slotCount = 512,
  ) {
    this.slots = new Array<TimerHandle | null>(slotCount).fill(null);
  }

  /** Pending timers. */
  get size(): number {
    return this.count;
  }

  schedule(delayMs: number, target: TimerTarget, kind: number): TimerHandle {
    const h = new TimerHandle(target, kind);
    if (this.interval === undefined) this.start();
    const ticks = Math.max(1, Math.ceil(delayMs / this.tickMs));
    const n = this.slots.length;
    h.rounds = Math.floor((ticks - 1) / n);
    this.insert(h, (this.cursor + ticks) % n);
    this.count++;
    return h;
  }

  cancel(h: TimerHandle | null | undefined): void {
    if (h === null || h === undefined || h.target === null) return;
    h.target = null;
    this.count--;
    if (h.slot >= 0) this.unlink(h);
    if (this.count === 0) this.stop();
  }

  close(): void {
    this.stop();
    for (let i = 0; i < this.slots.length; i++) {
      for (let h = this.slots[i] ?? null; h !== null; h = h.next) {
        h.target = null;
        h.slot = IDLE;
      }
      this.slots[i] = null;
    }
    this.count = 0;
  }

  private insert(h: TimerHandle, slot: number): void {
    const head = this.slots[slot] ?? null;
    h.slot = slot;
    h.prev = null;
    h.next = head;
    if (head !== null) head.prev = h;
    this.slots[slot] = h;
  }

  private unlink(h: TimerHandle): void {
    if (h.prev !== null) h.prev.next = h.next;
    else this.slots[h.slot] = h.next;
    if (h.next !== null) h.next.prev = h.prev;
    h.next = h.prev = null;
    h.slot = IDLE;
  }

  private start(): void {
    this.lastTick = performance.now();
    this.interval = setInterval(() => this.advance(), this.tickMs);
    this.interval.unref();
  }

  private stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  /** Process every tick that has elapsed (catches up after event-loop stalls). */
  private advance(): void {
    const now = performance.now();
    while (now - this.lastTick >= this.tickMs && this.interval !== undefined) {
      this.lastTick += this.tickMs;
      this.cursor = (this.cursor + 1) % this.slots.length;
      this.runSlot(this.cursor);
    }
  }

  private runSlot(slot: number): void {
    let h = this.slots[slot] ?? null;
    if (h === null) return;
    this.slots[slot] = null;
    for (let x: TimerHandle | null = h; x !== null; x = x.next) x.slot = PROCESSING;
    while (h !== null) {
      const next: TimerHandle | null = h.next;
      h.next = h.prev = null;
      const target = h.target;
      if (target !== null) {
        if (h.rounds > 0) {
          h.rounds--;
          this.insert(h, slot);
        } else {
          h.target = null;
          h.slot = IDLE;
          this.count--;
          try {
            target.onTimer(h.kind);
          } catch (err) {
            this.onError(err);
          }
        }
      } else h.slot = IDLE;
      h = next;
    }
    if (this.count === 0) this.stop();
  }
}
