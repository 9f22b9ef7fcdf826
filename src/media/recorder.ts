// Records a session to a WAV file (8 kHz, 16-bit mono): what the peer sends ('in'), what we
// send ('out'), or both mixed; or any AudioSource (a conference room). Frames are taken in the clock's 'after' phase, so silence and
// gaps keep real time, and written in one-second batches through an async file handle.

import { open, type FileHandle } from 'node:fs/promises';
import { SAMPLES_PER_TICK, type MediaClock } from './clock.js';
import type { MediaSession } from './rtp-session.js';
import type {
  AudioSource,
  RecordMode,
  RecordOptions,
  Recording,
  RecordingResult,
} from './types.js';
import { wavHeader } from './wav.js';

const BATCH_TICKS = 50;

export class Recorder implements Recording {
  readonly done: Promise<RecordingResult>;
  private resolveDone!: (r: RecordingResult) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly mode: RecordMode;
  private readonly maxTicks: number;
  private batch = new Int16Array(BATCH_TICKS * SAMPLES_PER_TICK);
  private batchFill = 0;
  private ticks = 0;
  private bytes = 0;
  private file: Promise<FileHandle>;
  private writes: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly session: MediaSession | AudioSource,
    clock: MediaClock,
    readonly path: string,
    options: RecordOptions = {},
  ) {
    this.mode = options.mode ?? 'both';
    this.maxTicks = options.maxDurationS ? Math.round(options.maxDurationS * 50) : Infinity;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.file = open(path, 'w').then(async (fh) => {
      await fh.write(wavHeader(0), 0, 44, 0);
      return fh;
    });
    this.file.catch(() => undefined);
    this.unsubscribe = clock.subscribe(this.onTick, 'after');
    if ('once' in session) session.once('closed', this.onClosed);
  }

  private readonly onClosed = (): void => void this.stop().catch(() => undefined);

  private readonly onTick = (tick: number): void => {
    if (this.stopped) return;
    const s = this.session;
    const out = this.batch;
    const at = this.batchFill;
    if (!('once' in s)) {
      const frame = out.subarray(at, at + SAMPLES_PER_TICK);
      if (!s.read(frame, tick)) frame.fill(0);
    } else {
      this.takeSession(s, out, at);
    }
    this.batchFill += SAMPLES_PER_TICK;
    this.ticks++;
    if (this.batchFill === out.length) this.flush();
    if (this.ticks >= this.maxTicks) void this.stop().catch(() => undefined);
  };

  private takeSession(s: MediaSession, out: Int16Array, at: number): void {
    const useIn = this.mode !== 'out' && s.inFrameValid;
    const useOut = this.mode !== 'in' && s.outFrameValid;
    for (let i = 0; i < SAMPLES_PER_TICK; i++) {
      let v = (useIn ? (s.inFrame[i] ?? 0) : 0) + (useOut ? (s.outFrame[i] ?? 0) : 0);
      if (v > 32767) v = 32767;
      else if (v < -32768) v = -32768;
      out[at + i] = v;
    }
  }

  private flush(): void {
    if (this.batchFill === 0) return;
    const data = Buffer.from(this.batch.buffer, 0, this.batchFill * 2);
    this.batch = new Int16Array(BATCH_TICKS * SAMPLES_PER_TICK); // the old one is in flight
    this.batchFill = 0;
    const position = 44 + this.bytes;
    this.bytes += data.length;
    this.writes = this.writes.then(async () => {
      const fh = await this.file;
      await fh.write(data, 0, data.length, position);
    });
  }

  async stop(): Promise<RecordingResult> {
    if (this.stopped) return this.done;
    this.stopped = true;
    this.unsubscribe();
    if ('off' in this.session) this.session.off('closed', this.onClosed);
    this.flush();
    try {
      await this.writes;
      const fh = await this.file;
      await fh.write(wavHeader(this.bytes), 0, 44, 0);
      await fh.close();
      const result = { path: this.path, durationMs: this.ticks * 20 };
      this.resolveDone(result);
      return result;
    } catch (err) {
      this.rejectDone(err);
      throw err;
    }
  }
}
