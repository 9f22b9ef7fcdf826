// Plays a prompt into a session: an AudioSource that hands out 160 samples per tick from the
// prompt's 8 kHz samples, loops, stops, and settles a promise when done.

import type { AudioSource, Playback, PlayOptions, Prompt } from './types.js';

export class Player implements AudioSource, Playback {
  readonly done: Promise<'finished' | 'stopped'>;
  private settle!: (r: 'finished' | 'stopped') => void;
  private pos = 0;
  private played = 0;
  private readonly loops: number;
  private ended = false;

  constructor(
    private readonly prompt: Prompt,
    options: PlayOptions = {},
    private readonly onEnd: (p: Player) => void = () => undefined,
  ) {
    this.loops = options.loop ?? 1;
    this.done = new Promise((resolve) => (this.settle = resolve));
    if (prompt.samples.length === 0 && this.loops !== 1) this.loops = 1;
  }

  get finished(): boolean {
    return this.ended;
  }

  read(out: Int16Array): boolean {
    if (this.ended) return false;
    const src = this.prompt.samples;
    let i = 0;
    while (i < out.length) {
      if (this.pos >= src.length) {
        this.played++;
        if ((this.loops > 0 && this.played >= this.loops) || src.length === 0) break;
        this.pos = 0;
      }
      const n = Math.min(out.length - i, src.length - this.pos);
      out.set(src.subarray(this.pos, this.pos + n), i);
      i += n;
      this.pos += n;
    }
    if (i < out.length) {
      out.fill(0, i);
      // The last partial frame still goes out; the playback ends on the next tick.
      if (i === 0) {
        this.end('finished');
        return false;
      }
    }
    return true;
  }

  stop(): void {
    this.end('stopped');
  }

  /** Called by the session when it closes or another prompt replaces this one. */
  end(result: 'finished' | 'stopped'): void {
    if (this.ended) return;
    this.ended = true;
    this.settle(result);
    this.onEnd(this);
  }
}
