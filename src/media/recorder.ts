// Records a session to a WAV file (8 kHz, 16-bit mono): what the peer sends ('in'), what we
// send ('out'), or both mixed; or any AudioSource (a conference room). Frames are taken in the clock's 'after' phase, so silence and
// gaps keep real time, and written in one-second batches through an async file handle.

import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { SAMPLES_PER_TICK, type MediaClock } from './clock.js';
import type { MediaSession } from './rtp-session.js';
import type {
  AudioSource,
  RecordMode,
  RecordOptions,
  Recording,
  RecordingResult,
} from './types.js';
import { encodeWav, readWav, toMono16, wavHeader } from './wav.js';

const BATCH_TICKS = 50;

/**
 * Mean absolute level under which a 20 ms frame counts as silence: about -46 dBFS, above
 * G.711's idle noise and well below speech.
 */
const SILENCE_LEVEL = 160;

/** Frames of sound kept on each side of what trimming keeps, so no syllable is clipped. */
const TRIM_MARGIN_TICKS = 5;

/**
 * Cuts the silence before the first and after the last sound of a recording (Twilio's
 * trim="trim-silence"), in place. Returns its new length in ms: 0 when it was all silence.
 */
export async function trimSilence(path: string): Promise<number> {
  const samples = toMono16(readWav(await readFile(path)));
  const ticks = Math.floor(samples.length / SAMPLES_PER_TICK);
  let first = -1;
  let last = -1;
  for (let t = 0; t < ticks; t++) {
    if (isSilent(samples, t * SAMPLES_PER_TICK)) continue;
    if (first < 0) first = t;
    last = t;
  }
  const from = first < 0 ? 0 : Math.max(0, first - TRIM_MARGIN_TICKS);
  const to = first < 0 ? 0 : Math.min(ticks, last + 1 + TRIM_MARGIN_TICKS);
  await writeFile(
    path,
    encodeWav(samples.subarray(from * SAMPLES_PER_TICK, to * SAMPLES_PER_TICK)),
  );
  return (to - from) * 20;
}

function isSilent(samples: Int16Array, at: number): boolean {
  let sum = 0;
  for (let i = at; i < at + SAMPLES_PER_TICK; i++) sum += Math.abs(samples[i] ?? 0);
  return sum / SAMPLES_PER_TICK < SILENCE_LEVEL;
}

export class Recorder implements Recording {
  readonly done: Promise<RecordingResult>;
  private resolveDone!: (r: RecordingResult) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly mode: RecordMode;
  private readonly trim: boolean;
  private readonly maxTicks: number;
  /** Ticks of silence that end the recording (Infinity: never), and the silent run so far. */
  private readonly silenceTicks: number;
  private silentRun = 0;
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
    this.trim = options.trim ?? false;
    this.maxTicks = options.maxDurationS ? Math.round(options.maxDurationS * 50) : Infinity;
    this.silenceTicks = options.silenceS ? Math.round(options.silenceS * 50) : Infinity;
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
    this.silentRun = isSilent(out, at) ? this.silentRun + 1 : 0;
    this.batchFill += SAMPLES_PER_TICK;
    this.ticks++;
    if (this.batchFill === out.length) this.flush();
    if (this.ticks >= this.maxTicks || this.silentRun >= this.silenceTicks)
      void this.stop().catch(() => undefined);
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
      const durationMs = this.trim ? await trimSilence(this.path) : this.ticks * 20;
      const result = { path: this.path, durationMs };
      this.resolveDone(result);
      return result;
    } catch (err) {
      this.rejectDone(err);
      throw err;
    }
  }
}
