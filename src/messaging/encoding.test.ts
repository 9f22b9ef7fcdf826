import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGsm7,
  decodeText,
  decodeUcs2,
  describeText,
  detectEncoding,
  encodeGsm7,
  gsmCost,
  readUdh,
  splitText,
  toParts,
} from './encoding.js';

const GSM_CHARS = [
  ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ...'\f^{}\\[~]|€',
];
const gsmText = fc.array(fc.constantFrom(...GSM_CHARS), { maxLength: 700 }).map((a) => a.join(''));
const anyText = fc.string({ unit: 'grapheme', maxLength: 300 });

describe('GSM-7 / UCS-2 detection and segments', () => {
  it('counts segments as Twilio does', () => {
    expect(describeText('')).toMatchObject({ encoding: 'GSM-7', numSegments: 1 });
    expect(describeText('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', numSegments: 1 });
    expect(describeText('a'.repeat(161))).toMatchObject({ numSegments: 2 });
    expect(describeText('a'.repeat(306))).toMatchObject({ numSegments: 2 });
    expect(describeText('a'.repeat(307))).toMatchObject({ numSegments: 3 });
    // Extension characters cost two septets.
    expect(describeText('€'.repeat(80))).toMatchObject({
      encoding: 'GSM-7',
      numSegments: 1,
      units: 160,
    });
    expect(describeText('€'.repeat(81))).toMatchObject({ numSegments: 2 });
    expect(describeText('é'.repeat(70) + 'ш')).toMatchObject({ encoding: 'UCS-2', numSegments: 2 });
    expect(describeText('ш'.repeat(70))).toMatchObject({ encoding: 'UCS-2', numSegments: 1 });
    expect(describeText('ш'.repeat(134))).toMatchObject({ numSegments: 2 });
    expect(describeText('ш'.repeat(135))).toMatchObject({ numSegments: 3 });
    // An emoji is two UTF-16 units.
    expect(describeText('😀'.repeat(35))).toMatchObject({
      encoding: 'UCS-2',
      numSegments: 1,
      units: 70,
    });
  });

  it('never splits an escape pair across parts', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const parts = splitText(text);
    expect(parts[0]).toBe('a'.repeat(152));
    expect(parts[1]).toBe('€' + 'b'.repeat(10));
  });

  it('round-trips GSM-7 text through the septet codec', () => {
    fc.assert(
      fc.property(gsmText, (t) => {
        expect(detectEncoding(t)).toBe('GSM-7');
        expect(decodeGsm7(encodeGsm7(t))).toBe(t);
      }),
    );
  });

  it('parts reassemble to the text, each within its limit', () => {
    fc.assert(
      fc.property(fc.oneof(gsmText, anyText), (t) => {
        const info = describeText(t);
        const parts = splitText(t);
        expect(parts.join('')).toBe(t);
        expect(Math.max(1, parts.length)).toBe(info.numSegments);
        for (const p of parts) {
          const units =
            info.encoding === 'GSM-7' ? [...p].reduce((n, c) => n + gsmCost(c), 0) : p.length;
          expect(units).toBeLessThanOrEqual(
            parts.length === 1
              ? info.encoding === 'GSM-7'
                ? 160
                : 70
              : info.encoding === 'GSM-7'
                ? 153
                : 67,
          );
        }
      }),
    );
  });

  it('builds parts with UDH (8/16-bit refs) or SAR that decode back to the text', () => {
    fc.assert(
      fc.property(fc.oneof(gsmText, anyText), fc.integer({ min: 0, max: 0xffff }), (t, ref) => {
        for (const mode of ['udh8', 'udh16', 'sar'] as const) {
          const parts = toParts(t, ref, mode);
          let text = '';
          parts.forEach((p, i) => {
            expect(p.dataCoding).toBe(detectEncoding(t) === 'GSM-7' ? 0 : 8);
            let body: Uint8Array = p.payload;
            if (p.udhi) {
              const u = readUdh(p.payload);
              expect(u.concat).toEqual({
                ref: mode === 'udh8' ? ref & 0xff : ref,
                total: parts.length,
                seq: i + 1,
              });
              body = u.body;
            }
            if (parts.length > 1 && mode === 'sar')
              expect(p.sar).toEqual({ ref, total: parts.length, seq: i + 1 });
            expect(p.payload.length).toBeLessThanOrEqual(254);
            text += decodeText(body, p.dataCoding);
          });
          expect(text).toBe(t);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('decodes UCS-2 including surrogate pairs', () => {
    const t = 'Привет 😀';
    expect(decodeUcs2(toParts(t, 1)[0]!.payload)).toBe(t);
  });
});
