import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptStore } from '../../src/media/prompt.js';
import { MediaToolError, run } from '../../src/media/sox.js';
import { encodeWav, readWav, toMono16, wavHeader } from '../../src/media/wav.js';
import { ALAW_ENCODE, ULAW_ENCODE } from '../../src/media/g711.js';
import { bestCorrelation, rms, testSignal } from './audio-helpers.js';

function has(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${tool} is required in CI`);
    console.warn(`\n*** SKIPPING tests that need ${tool}: it is not installed ***\n`);
    return false;
  }
}
const hasSox = has('sox');
const hasEspeak = has('espeak-ng');

/** A WAV file with an arbitrary fmt (for formats our writer does not produce). */
function wavOf(format: number, rate: number, channels: number, bits: number, data: Buffer): Buffer {
  const h = wavHeader(data.length, rate, channels);
  h.writeUInt16LE(format, 20);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  return Buffer.concat([h, data]);
}

let dir: string;
let server: Server;
let base: string;
const source = testSignal(1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-prompt-'));
  server = createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(Buffer.alloc(4096));
      return;
    }
    if (req.url === '/a.wav') {
      res.writeHead(200, { 'content-type': 'audio/x-wav' });
      res.end(encodeWav(source));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('WAV reader (8 kHz, in process)', () => {
  const pcm16 = Buffer.from(source.buffer.slice(0));
  it('reads 16-bit, 8-bit, 24-bit, float, μ-law, A-law and stereo', () => {
    const close = (got: Int16Array, tolerance: number): void => {
      expect(got.length).toBe(source.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++)
        worst = Math.max(worst, Math.abs((got[i] ?? 0) - (source[i] ?? 0)));
      expect(worst).toBeLessThanOrEqual(tolerance);
    };
    close(toMono16(readWav(encodeWav(source))), 0);
    const u8 = Buffer.from(Array.from(source, (s) => (s >> 8) + 128));
    close(toMono16(readWav(wavOf(1, 8000, 1, 8, u8))), 256);
    const s24 = Buffer.alloc(source.length * 3);
    source.forEach((s, i) => s24.writeIntLE(s * 256, i * 3, 3));
    close(toMono16(readWav(wavOf(1, 8000, 1, 24, s24))), 1);
    const f32 = Buffer.alloc(source.length * 4);
    source.forEach((s, i) => f32.writeFloatLE(s / 32767, i * 4));
    close(toMono16(readWav(wavOf(3, 8000, 1, 32, f32))), 1);
    const mu = Buffer.from(Array.from(source, (s) => ULAW_ENCODE[s & 0xffff] ?? 0));
    close(toMono16(readWav(wavOf(7, 8000, 1, 8, mu))), 600);
    const al = Buffer.from(Array.from(source, (s) => ALAW_ENCODE[s & 0xffff] ?? 0));
    close(toMono16(readWav(wavOf(6, 8000, 1, 8, al))), 600);
    const stereo = Buffer.alloc(source.length * 4);
    source.forEach((s, i) => {
      stereo.writeInt16LE(s, i * 4);
      stereo.writeInt16LE(s, i * 4 + 2);
    });
    close(toMono16(readWav(wavOf(1, 8000, 2, 16, stereo))), 0);
    expect(pcm16.length).toBe(source.length * 2);
  });

  it('refuses what is not a WAV', () => {
    expect(() => readWav(Buffer.from('hello world, not a wav'))).toThrow(/RIFF/);
    expect(() => readWav(wavOf(85, 8000, 1, 16, Buffer.alloc(4)))).toThrow(/format tag/);
  });
});

describe.skipIf(!hasSox)('prompts resampled by sox', () => {
  it('resamples a 44.1 kHz stereo 24-bit WAV once, to 8 kHz mono', async () => {
    const src = join(dir, 'src8k.wav');
    await writeFile(src, encodeWav(source));
    const hi = join(dir, 'hi.wav');
    await run('sox', [src, '-r', '44100', '-c', '2', '-b', '24', hi], undefined);
    const store = new PromptStore();
    const p = await store.file(hi);
    expect(Math.abs(p.samples.length - source.length)).toBeLessThan(20);
    expect(bestCorrelation(source.subarray(100, 7000), p.samples, 200).value).toBeGreaterThan(0.98);
    expect(await store.file(hi)).toBe(p); // cached
  });

  it('fetches a URL, with a bounded time and size', async () => {
    const store = new PromptStore({ fetchTimeoutMs: 10_000, fetchMaxBytes: 2048 + 16044 });
    const p = await store.url(`${base}/a.wav`);
    expect(p.samples.length).toBe(source.length);
    const impatient = new PromptStore({ fetchTimeoutMs: 300 });
    await expect(impatient.url(`${base}/hang`)).rejects.toThrow(/failed/);
    await expect(store.url(`${base}/missing.wav`)).rejects.toThrow(/404/);
    const small = new PromptStore({ fetchMaxBytes: 1000 });
    await expect(small.url(`${base}/big`)).rejects.toThrow(/larger/);
  });

  it('says a missing file clearly', async () => {
    await expect(new PromptStore().file(join(dir, 'nope.wav'))).rejects.toThrow(/not found/);
  });
});

describe.skipIf(!hasSox || !hasEspeak)('text-to-speech (espeak-ng | sox)', () => {
  it('renders speech at 8 kHz and caches it on disk and in memory', async () => {
    const cache = join(dir, 'tts');
    const store = new PromptStore({ ttsCacheDir: cache });
    const p = await store.say('Hello, this is Switchboard.', { voice: 'en-us' });
    expect(p.durationMs).toBeGreaterThan(800);
    expect(p.durationMs).toBeLessThan(5000);
    expect(rms(p.samples)).toBeGreaterThan(500);
    expect(await store.say('Hello, this is Switchboard.', { voice: 'en-us' })).toBe(p);
    expect((await readdir(cache)).length).toBe(1);
    const again = await new PromptStore({ ttsCacheDir: cache }).say('Hello, this is Switchboard.', {
      voice: 'en-us',
    });
    expect(again.samples).toEqual(p.samples);
    // Text is never read as options.
    const dash = await store.say('--help -v xx');
    expect(dash.durationMs).toBeGreaterThan(200);
  });
});

describe('missing tools', () => {
  it('say clearly that espeak-ng is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir; // nothing to run there
    try {
      const err = await new PromptStore().say('hello').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MediaToolError);
      expect((err as Error).message).toMatch(
        /espeak-ng is not installed.*apt-get install espeak-ng/,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('fail with a MediaToolError', async () => {
    const err = await run('espeak-ng-not-here', [], 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaToolError);
    expect((err as MediaToolError).missing).toBe(true);
    expect((err as Error).message).toMatch(/not installed/);
  });
});
