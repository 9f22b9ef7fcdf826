// Incoming audio, decoded to 8 kHz linear samples, handed out 160 samples per tick.
// A ring of samples (not packets) so any peer ptime works. After an underrun it waits for
// two frames (40 ms) before playing again, and it drops the oldest audio past `maxMs` so a
// peer whose clock runs fast cannot build up latency.

import { SAMPLES_PER_TICK } from './clock.js';

export class JitterBuffer {
  private readonly ring: Int16Array;
  private read = 0;
  private fill = 0;
  private primed = false;
  dropped = 0;

  constructor(
    maxMs = 300,
    private readonly primeSamples = 2 * SAMPLES_PER_TICK,
  ) {
    this.ring = new Int16Array(Math.max(primeSamples * 2, (maxMs / 1000) * 8000));
  }

  get buffered(): number {
    return this.fill;
  }

  push(samples: Int16Array, length = samples.length): void {
    const cap = this.ring.length;
    if (length > cap) {
      samples = samples.subarray(length - cap, length);
      length = cap;
    }
    const over = this.fill + length - cap;
    if (over > 0) {
      this.read = (this.read + over) % cap;
      this.fill -= over;
      this.dropped += over;
    }
    let write = (this.read + this.fill) % cap;
    for (let i = 0; i < length; i++) {
      this.ring[write] = samples[i] ?? 0;
      write = write + 1 === cap ? 0 : write + 1;
    }
    this.fill += length;
  }

  private readonly zeros = new Int16Array(SAMPLES_PER_TICK);

  /** Silence in place of lost audio. */
  pushSilence(samples: number): void {
    for (let left = samples; left > 0; left -= SAMPLES_PER_TICK)
      this.push(this.zeros, Math.min(left, SAMPLES_PER_TICK));
  }

  /** Fills `out` with the next frame; returns false (and zeros) on underrun. */
  pop(out: Int16Array): boolean {
    const n = out.length;
    if (!this.primed && this.fill >= this.primeSamples) this.primed = true;
    if (!this.primed || this.fill < n) {
      this.primed = false;
      out.fill(0);
      return false;
    }
    const cap = this.ring.length;
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[this.read] ?? 0;
      this.read = this.read + 1 === cap ? 0 : this.read + 1;
    }
    this.fill -= n;
    return true;
  }

  clear(): void {
    this.read = 0;
    this.fill = 0;
    this.primed = false;
  }
}
