// Records a session to a WAV file (8 kHz, 16-bit): what the peer sends ('in'), what we send
// ('out'), or both mixed, in one channel, or the two sides on two channels; or any
// AudioSource (a conference room). Frames are taken in the clock's 'after' phase, so silence
// and gaps keep real time, and written in one-second batches through an async file handle.
// A recording may pause (its time left out, or filled with silence) and resume.
//
// Trimming (trim-silence) needs no second pass over the sound: each frame is judged silent or
// not as it is taken, so the first and last frames with sound are known when it stops, and
// the file is cut to them by copying that byte range — a four-hour call recording (230 MB)
// is never held in memory.

import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { SAMPLES_PER_TICK, type MediaClock } from './clock.js';
import type { MediaSession } from './rtp-session.js';
import type {
  AudioSource,
  PauseBehavior,
  RecordMode,
  RecordOptions,
  Recording,
  RecordingResult,
} from './types.js';
import { wavHeader } from './wav.js';

const BATCH_TICKS = 50;

/**
 * Mean absolute level under which a 20 ms frame counts as silence: about -46 dBFS, above
 * G.711's idle noise and well below speech.
 */
const SILENCE_LEVEL = 160;

/** Frames of sound kept on each side of what trimming keeps, so no syllable is clipped. */
const TRIM_MARGIN_TICKS = 5;

/** Whether `count` samples from `at` (every `stride`-th, from `at`) are silence. */
function isSilent(samples: Int16Array, at: number, count: number, stride = 1): boolean {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.abs(samples[at + i * stride] ?? 0);
  return sum / count < SILENCE_LEVEL;
}

function clip(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

export class Recorder implements Recording {
  readonly done: Promise<RecordingResult>;
  private resolveDone!: (r: RecordingResult) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly mode: RecordMode;
  private readonly trim: boolean;
  private readonly channels: 1 | 2;
  private readonly maxTicks: number;
  /** Ticks of silence that end the recording (Infinity: never), and the silent run so far. */
  private readonly silenceTicks: number;
  private silentRun = 0;
  /** The first and last written ticks with sound in them (-1: none yet). */
  private firstSound = -1;
  private lastSound = -1;
  private paused: PauseBehavior | undefined;
  private readonly frame: number;
  private batch: Int16Array;
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
    this.trim = options.trim ?? false;
    this.channels = options.channels === 2 && 'once' in session ? 2 : 1;
    this.frame = SAMPLES_PER_TICK * this.channels;
    this.batch = new Int16Array(BATCH_TICKS * this.frame);
    this.maxTicks = options.maxDurationS ? Math.round(options.maxDurationS * 50) : Infinity;
    this.silenceTicks = options.silenceS ? Math.round(options.silenceS * 50) : Infinity;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
    this.file = open(path, 'w').then(async (fh) => {
      await fh.write(this.header(0), 0, 44, 0);
      return fh;
    });
    this.file.catch(() => undefined);
    this.unsubscribe = clock.subscribe(this.onTick, 'after');
    if ('once' in session) session.once('closed', this.onClosed);
  }

  pause(behavior: PauseBehavior): void {
    this.paused = behavior;
  }

  resume(): void {
    this.paused = undefined;
  }

  private header(dataBytes: number): Buffer {
    return wavHeader(dataBytes, 8000, this.channels);
  }

  private readonly onClosed = (): void => void this.stop().catch(() => undefined);

  private readonly onTick = (tick: number): void => {
    if (this.stopped || this.paused === 'skip') return;
    const s = this.session;
    const out = this.batch;
    const at = this.batchFill;
    const frame = out.subarray(at, at + this.frame);
    if (this.paused === 'silence') frame.fill(0);
    else if (!('once' in s)) {
      if (!s.read(frame, tick)) frame.fill(0);
    } else if (this.channels === 2) this.takeBoth(s, frame);
    else this.takeMixed(s, frame);
    const silent =
      this.channels === 2
        ? isSilent(frame, 0, SAMPLES_PER_TICK, 2) && isSilent(frame, 1, SAMPLES_PER_TICK, 2)
        : isSilent(frame, 0, SAMPLES_PER_TICK);
    if (!silent) {
      if (this.firstSound < 0) this.firstSound = this.ticks;
      this.lastSound = this.ticks;
    }
    this.silentRun = silent ? this.silentRun + 1 : 0;
    this.batchFill += this.frame;
    this.ticks++;
    if (this.batchFill === out.length) this.flush();
    if (this.ticks >= this.maxTicks || this.silentRun >= this.silenceTicks)
      void this.stop().catch(() => undefined);
  };

  private takeMixed(s: MediaSession, out: Int16Array): void {
    const useIn = this.mode !== 'out' && s.inFrameValid;
    const useOut = this.mode !== 'in' && s.outFrameValid;
    for (let i = 0; i < SAMPLES_PER_TICK; i++)
      out[i] = clip((useIn ? (s.inFrame[i] ?? 0) : 0) + (useOut ? (s.outFrame[i] ?? 0) : 0));
  }

  /** Left: what the peer sends; right: what we send (Twilio's two-channel recording). */
  private takeBoth(s: MediaSession, out: Int16Array): void {
    const useIn = s.inFrameValid;
    const useOut = s.outFrameValid;
    for (let i = 0; i < SAMPLES_PER_TICK; i++) {
      out[2 * i] = useIn ? (s.inFrame[i] ?? 0) : 0;
      out[2 * i + 1] = useOut ? (s.outFrame[i] ?? 0) : 0;
    }
  }

  private flush(): void {
    if (this.batchFill === 0) return;
    const data = Buffer.from(this.batch.buffer, 0, this.batchFill * 2);
    this.batch = new Int16Array(BATCH_TICKS * this.frame); // the old one is in flight
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
      await fh.write(this.header(this.bytes), 0, 44, 0);
      await fh.close();
      const durationMs = this.trim ? await this.cutToSound() : this.ticks * 20;
      const result = { path: this.path, durationMs };
      this.resolveDone(result);
      return result;
    } catch (err) {
      this.rejectDone(err);
      throw err;
    }
  }

  /**
   * Cuts the file to its sound and a margin each side (Twilio's trim-silence): copies that
   * byte range into a new file, which replaces this one. Returns its length in ms: 0 when it
   * was all silence.
   */
  private async cutToSound(): Promise<number> {
    const from = this.firstSound < 0 ? 0 : Math.max(0, this.firstSound - TRIM_MARGIN_TICKS);
    const to =
      this.firstSound < 0 ? 0 : Math.min(this.ticks, this.lastSound + 1 + TRIM_MARGIN_TICKS);
    if (from === 0 && to === this.ticks) return this.ticks * 20;
    const frameBytes = this.frame * 2;
    const length = (to - from) * frameBytes;
    const cut = `${this.path}.trim`;
    const out = createWriteStream(cut);
    out.write(this.header(length));
    if (length > 0)
      await pipeline(
        createReadStream(this.path, {
          start: 44 + from * frameBytes,
          end: 44 + to * frameBytes - 1,
        }),
        out,
      );
    else
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    await rename(cut, this.path);
    return (to - from) * 20;
  }
}
