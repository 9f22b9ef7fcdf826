// Audio redaction: the words PII redaction took out of a sentence are found by their times and
// silenced on the speaker's channel only, in a real WAV file sox reads and writes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redact } from '../../src/intelligence/operators/run.js';
import {
  redactedWords,
  silencedRanges,
  writeSilenced,
} from '../../src/intelligence/media-redaction.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-redact-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const timed = (text: string, fromMs: number) =>
  text.split(' ').map((word, i) => ({
    word,
    startMs: fromMs + i * 500,
    endMs: fromMs + i * 500 + 400,
    confidence: 1,
  }));

describe('audio redaction', () => {
  it('finds the words a redaction tag replaced', () => {
    const words = 'my number is 415 555 1234 thanks'.split(' ');
    expect(redactedWords(words, 'my number is [PHONE] thanks')).toEqual([3, 4, 5]);
    expect(redactedWords(words, words.join(' '))).toEqual([]);
    expect(redactedWords('mail me at bob@example.com'.split(' '), 'mail me at [EMAIL]')).toEqual([
      3,
    ]);
  });

  it("silences those words' time on the speaker's channel of the media", async () => {
    const text = 'call me on 415 555 1234 please';
    const redacted = redact(text);
    expect(redacted).toContain('[PHONE]');
    const ranges = silencedRanges([
      { channel: 2, text, redactedText: redacted, words: timed(text, 1000) },
      { channel: 1, text: 'hello there', redactedText: null, words: timed('hello there', 0) },
    ]);
    // Words 3..5 (1.5 s – 2.9 s after the sentence's start at 1 s), padded and merged.
    expect(ranges).toEqual([{ channel: 2, fromMs: 2420, toMs: 3980 }]);

    const src = join(dir, 'call.wav');
    execFileSync('sox', [
      '-n', '-r', '8000', '-c', '2', '-b', '16', '-e', 'signed-integer', src,
      'synth', '5', 'sine', '440', 'sine', '660', 'vol', '0.5',
    ]); // prettier-ignore
    const dest = join(dir, 'out', 'redacted.wav');
    await writeSilenced(src, dest, ranges);
    const wav = readFileSync(dest);
    const data = wav.indexOf('data') + 8;
    const sample = (ms: number, ch: number) =>
      wav.readInt16LE(data + 2 * (Math.floor((ms / 1000) * 8000) * 2 + ch - 1));
    const peak = (fromMs: number, toMs: number, ch: number) => {
      let m = 0;
      for (let t = fromMs; t < toMs; t += 1) m = Math.max(m, Math.abs(sample(t, ch)));
      return m;
    };
    expect(peak(2450, 3950, 2)).toBe(0); // the phone number: silent on the caller's channel
    expect(peak(2450, 3950, 1)).toBeGreaterThan(10_000); // the other side untouched
    expect(peak(1000, 2400, 2)).toBeGreaterThan(10_000); // before it, sound
    expect(peak(4000, 4900, 2)).toBeGreaterThan(10_000); // after it, sound
  });
});
