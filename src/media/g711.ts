// G.711 μ-law (PCMU) and A-law (PCMA), ITU-T G.711, by lookup table: decoding is a 256-entry
// table, encoding a 64 Ki-entry table indexed by the 16-bit sample, transcoding a 256-entry
// table. Tables are built once at load (≈130 KB) so the per-packet work is one load per sample.

import type { CodecName } from './sdp.js';

function ulawEncodeSlow(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawDecodeSlow(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawEncodeSlow(sample: number): number {
  // 13-bit magnitude; negative values are one's complement so -1 maps like 0.
  let s = sample >> 3;
  let mask: number;
  if (s >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  let segment = 0;
  while (segment < 8 && s > (0x20 << segment) - 1) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (s >> 1) & 0x0f : (s >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function alawDecodeSlow(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (segment === 0) t += 8;
  else t = (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

export const ULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
export const ULAW_ENCODE = new Uint8Array(65536);
export const ALAW_ENCODE = new Uint8Array(65536);
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  ULAW_DECODE[i] = ulawDecodeSlow(i);
  ALAW_DECODE[i] = alawDecodeSlow(i);
}
for (let i = 0; i < 65536; i++) {
  const sample = i < 32768 ? i : i - 65536;
  ULAW_ENCODE[i] = ulawEncodeSlow(sample);
  ALAW_ENCODE[i] = alawEncodeSlow(sample);
}
for (let i = 0; i < 256; i++) {
  ULAW_TO_ALAW[i] = ALAW_ENCODE[(ULAW_DECODE[i] ?? 0) & 0xffff] ?? 0;
  ALAW_TO_ULAW[i] = ULAW_ENCODE[(ALAW_DECODE[i] ?? 0) & 0xffff] ?? 0;
}

/** The byte each codec uses for silence. */
export const SILENCE_BYTE: Readonly<Record<CodecName, number>> = { PCMU: 0xff, PCMA: 0xd5 };

/** Encodes `pcm` into `out` (same length, or `out` from offset). */
export function encode(
  codec: CodecName,
  pcm: Int16Array,
  out: Uint8Array,
  offset = 0,
  length = pcm.length,
): void {
  const table = codec === 'PCMU' ? ULAW_ENCODE : ALAW_ENCODE;
  for (let i = 0; i < length; i++) out[offset + i] = table[(pcm[i] ?? 0) & 0xffff] ?? 0;
}

/** Decodes `length` bytes of `payload` from `offset` into `out`. */
export function decode(
  codec: CodecName,
  payload: Uint8Array,
  out: Int16Array,
  offset = 0,
  length = payload.length - offset,
): void {
  const table = codec === 'PCMU' ? ULAW_DECODE : ALAW_DECODE;
  for (let i = 0; i < length; i++) out[i] = table[payload[offset + i] ?? 0] ?? 0;
}

/** Transcodes G.711 bytes between the two laws in place (or copies when `from === to`). */
export function transcode(from: CodecName, to: CodecName, data: Uint8Array): Uint8Array {
  if (from === to) return data;
  const table = from === 'PCMU' ? ULAW_TO_ALAW : ALAW_TO_ULAW;
  for (let i = 0; i < data.length; i++) data[i] = table[data[i] ?? 0] ?? 0;
  return data;
}
