import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRtp, parseRtp } from './rtp-packet.js';

describe('RTP packets', () => {
  it('parses what it builds', () => {
    fc.assert(
      fc.property(
        fc.record({
          marker: fc.boolean(),
          payloadType: fc.integer({ min: 0, max: 127 }).filter((p) => p < 72 || p > 76),
          sequence: fc.integer({ min: 0, max: 0xffff }),
          timestamp: fc.integer({ min: 0, max: 0xffffffff }),
          ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        fc.uint8Array({ maxLength: 400 }),
        (h, payload) => {
          const p = parseRtp(buildRtp(h, payload));
          expect(p).toMatchObject({ version: 2, ...h, csrcs: [] });
          expect(Buffer.from(p!.payload).equals(Buffer.from(payload))).toBe(true);
        },
      ),
    );
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const p = parseRtp(data);
        if (p) expect(p.payload.length).toBeLessThanOrEqual(data.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('handles CSRCs, header extension and padding', () => {
    const data = Buffer.from([
      0xb2,
      0x80 | 8,
      0x00,
      0x05,
      0,
      0,
      0,
      160,
      0xde,
      0xad,
      0xbe,
      0xef,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      2, // CSRCs
      0xbe,
      0xde,
      0,
      1,
      1,
      2,
      3,
      4, // extension, one word
      0xaa,
      0xbb,
      0,
      0,
      3, // payload + 3 bytes of padding
    ]);
    const p = parseRtp(data)!;
    expect(p).toMatchObject({
      marker: true,
      payloadType: 8,
      sequence: 5,
      timestamp: 160,
      ssrc: 0xdeadbeef,
      csrcs: [1, 2],
      extensionProfile: 0xbede,
    });
    expect([...p.payload]).toEqual([0xaa, 0xbb]);
    expect(parseRtp(data.subarray(0, 20))).toBeUndefined();
    expect(parseRtp(Buffer.from([0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // RTCP SR
    expect(parseRtp(Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // v1
  });
});
