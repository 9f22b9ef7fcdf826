import { describe, expect, it } from 'vitest';
import {
  ALAW_DECODE,
  ALAW_ENCODE,
  ULAW_DECODE,
  ULAW_ENCODE,
  decode,
  encode,
  transcode,
} from './g711.js';

describe('G.711 tables', () => {
  it('has the reference values of G.711', () => {
    // μ-law: 0xFF and 0x7F are zero, 0x00 is the most negative (-32124), 0x80 the most positive.
    expect(ULAW_DECODE[0xff]).toBe(0);
    expect(ULAW_DECODE[0x00]).toBe(-32124);
    expect(ULAW_DECODE[0x80]).toBe(32124);
    expect(ULAW_ENCODE[0]).toBe(0xff);
    // A-law: 0xD5 / 0x55 are the smallest magnitudes (±8), 0xAA the largest positive (32256).
    expect(ALAW_DECODE[0xd5]).toBe(8);
    expect(ALAW_DECODE[0x55]).toBe(-8);
    expect(ALAW_DECODE[0xaa]).toBe(32256);
    expect(ALAW_DECODE[0x2a]).toBe(-32256);
    expect(ALAW_ENCODE[0]).toBe(0xd5);
  });

  it('encode(decode(b)) is b for every code (except μ-law negative zero)', () => {
    for (let b = 0; b < 256; b++) {
      const u = ULAW_ENCODE[(ULAW_DECODE[b] ?? 0) & 0xffff];
      expect(u === b || (b === 0x7f && u === 0xff)).toBe(true);
      expect(ALAW_ENCODE[(ALAW_DECODE[b] ?? 0) & 0xffff]).toBe(b);
    }
  });

  it('is monotonic and keeps the error within the segment step', () => {
    for (const [enc, dec] of [
      [ULAW_ENCODE, ULAW_DECODE],
      [ALAW_ENCODE, ALAW_DECODE],
    ] as const) {
      let prev = -Infinity;
      for (let s = -32768; s < 32768; s += 7) {
        const y = dec[enc[s & 0xffff] ?? 0] ?? 0;
        expect(y).toBeGreaterThanOrEqual(prev);
        prev = y;
        const err = Math.abs(y - s);
        expect(err).toBeLessThanOrEqual(Math.max(16, Math.abs(s) / 16) + 8);
      }
    }
  });

  it('encodes, decodes and transcodes buffers', () => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
    );
    const u = new Uint8Array(160);
    encode('PCMU', pcm, u);
    const back = new Int16Array(160);
    decode('PCMU', u, back);
    for (let i = 0; i < 160; i++)
      expect(Math.abs((back[i] ?? 0) - (pcm[i] ?? 0))).toBeLessThan(300);
    const a = transcode('PCMU', 'PCMA', Uint8Array.from(u));
    const viaA = new Int16Array(160);
    decode('PCMA', a, viaA);
    for (let i = 0; i < 160; i++)
      expect(Math.abs((viaA[i] ?? 0) - (pcm[i] ?? 0))).toBeLessThan(600);
    expect(transcode('PCMA', 'PCMA', a)).toBe(a);
  });
});
