// The recorder on two real RTP sessions: two channels (what the peer sends on the left, what
// we send on the right), pauses that skip their time or fill it with silence, and trimming of
// the silence around the sound.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMediaEngine,
  readWav,
  toMono16,
  type MediaEngine,
  type MediaSession,
} from '../../src/media/index.js';
import { bestCorrelation, rms, testSignal, withTimeout } from './audio-helpers.js';

let dir: string;
let engine: MediaEngine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-recorder-'));
  engine = createMediaEngine({
    bindAddress: '127.0.0.1',
    portRange: '0',
    rtpTimeoutS: 0,
    dataDir: dir,
  });
});
afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function pair(): Promise<[MediaSession, MediaSession]> {
  const a = await engine.createSession({});
  const b = await engine.createSession({});
  expect(a.applyAnswer(b.answerOffer(a.createOffer())!)).toBe(true);
  return [a, b];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prompt = (key: string, samples: Int16Array) => engine.prompts.fromSamples(key, samples);

describe('recorder', () => {
  it('records the two sides on two channels', async () => {
    const [a, b] = await pair();
    const heard = testSignal(1.2);
    const said = testSignal(1.2, 8000, 6000).map((v, i) => (i % 7 < 3 ? v : -v));
    const recording = engine.record(b, join(dir, 'dual.wav'), { channels: 2 });
    const played = [a.play(prompt('heard', heard)), b.play(prompt('said', said))];
    await withTimeout(Promise.all(played.map((p) => p.done)), 10_000, 'playback');
    await sleep(200);
    const result = await recording.stop();
    const wav = readWav(await readFile(result.path));
    expect(wav.channels).toBe(2);
    const all = new Int16Array(wav.data.buffer, wav.data.byteOffset, wav.data.length / 2);
    const left = all.filter((_, i) => i % 2 === 0);
    const right = all.filter((_, i) => i % 2 === 1);
    // The left channel comes through the network and the jitter buffer: with the suite's other
    // files busy on both cores a packet can arrive past the buffer and be concealed (0.91 seen
    // once in a full CI run; 0.99+ alone). The separation below is what proves the channels.
    expect(bestCorrelation(heard, left, 8000).value).toBeGreaterThan(0.85);
    expect(bestCorrelation(said, right, 8000).value).toBeGreaterThan(0.99);
    expect(bestCorrelation(said, left, 8000).value).toBeLessThan(0.5);
    a.close();
    b.close();
  });

  it('leaves a skipped pause out of the file, and fills a silent one with silence', async () => {
    const [a, b] = await pair();
    const skip = engine.record(b, join(dir, 'skip.wav'), { mode: 'in' });
    const silence = engine.record(b, join(dir, 'silence.wav'), { mode: 'in' });
    const playback = a.play(prompt('long', testSignal(3)));
    await sleep(1000);
    skip.pause('skip');
    silence.pause('silence');
    await sleep(1000);
    skip.resume();
    silence.resume();
    await withTimeout(playback.done, 10_000, 'playback');
    const skipped = await skip.stop();
    const filled = await silence.stop();
    // ≈1 s less in the skipping one, the same real time in the other.
    expect(filled.durationMs - skipped.durationMs).toBeGreaterThan(800);
    expect(filled.durationMs - skipped.durationMs).toBeLessThan(1200);
    const samples = toMono16(readWav(await readFile(filled.path)));
    const pauseFrom = Math.round((1000 + 100) * 8);
    expect(rms(samples, pauseFrom, pauseFrom + 6400)).toBeLessThan(50);
    expect(rms(samples, 0, 8000)).toBeGreaterThan(1000);
    a.close();
    b.close();
  });

  it('trims the silence before and after the sound, keeping a margin', async () => {
    const [a, b] = await pair();
    const recording = engine.record(b, join(dir, 'trim.wav'), { mode: 'in', trim: true });
    await sleep(1000);
    const sound = testSignal(0.6);
    await withTimeout(a.play(prompt('sound', sound)).done, 10_000, 'playback');
    await sleep(1000);
    const result = await recording.stop();
    // The sound and about 100 ms each side, out of some 2.6 s.
    expect(result.durationMs).toBeGreaterThanOrEqual(600);
    expect(result.durationMs).toBeLessThanOrEqual(900);
    const wav = readWav(await readFile(result.path));
    expect(wav.data.length).toBe(result.durationMs * 16);
    expect(bestCorrelation(sound, toMono16(wav), 8000).value).toBeGreaterThan(0.95);

    const empty = engine.record(b, join(dir, 'empty.wav'), { mode: 'in', trim: true });
    await sleep(500);
    const nothing = await empty.stop();
    expect(nothing.durationMs).toBe(0);
    expect(readWav(await readFile(nothing.path)).data.length).toBe(0);
    a.close();
    b.close();
  });
});
