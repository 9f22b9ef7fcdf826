// WAV (RIFF) reading and writing. The reader understands PCM 8/16/24/32-bit, IEEE float
// 32/64, μ-law and A-law, mono or multi-channel, plain or WAVE_FORMAT_EXTENSIBLE. Files
// already at 8 kHz are converted here; other rates go through sox once (prompt.ts).

import { ALAW_DECODE, ULAW_DECODE } from './g711.js';

export type WavEncoding = 'pcm' | 'float' | 'ulaw' | 'alaw';

export interface WavInfo {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** The data chunk (view into the input). */
  data: Uint8Array;
}

export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

const FORMAT_TAGS: Readonly<Record<number, WavEncoding>> = {
  1: 'pcm',
  3: 'float',
  6: 'alaw',
  7: 'ulaw',
};

/** Parses a RIFF/WAVE header and locates the data. Throws WavFormatError. */
export function readWav(buf: Uint8Array): WavInfo {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number): string => String.fromCharCode(...buf.subarray(o, o + 4));
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new WavFormatError('not a RIFF/WAVE file');
  let offset = 12;
  let fmt: Omit<WavInfo, 'data'> | undefined;
  while (offset + 8 <= buf.length) {
    const id = tag(offset);
    let size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError('short fmt chunk');
      let format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 40 && body + 26 <= buf.length) {
        format = view.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      const encoding = FORMAT_TAGS[format];
      if (!encoding) throw new WavFormatError(`unsupported WAV format tag ${format}`);
      if (channels < 1 || sampleRate < 1) throw new WavFormatError('bad channel count or rate');
      const okBits =
        encoding === 'pcm'
          ? [8, 16, 24, 32].includes(bitsPerSample)
          : encoding === 'float'
            ? [32, 64].includes(bitsPerSample)
            : bitsPerSample === 8;
      if (!okBits) throw new WavFormatError(`unsupported ${encoding} depth ${bitsPerSample}`);
      fmt = { encoding, sampleRate, channels, bitsPerSample };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('data chunk before fmt chunk');
      // Streamed WAVs (espeak-ng --stdout) carry a bogus size: take what is there.
      if (body + size > buf.length) size = buf.length - body;
      const frame = (fmt.bitsPerSample / 8) * fmt.channels;
      size -= size % frame;
      return { ...fmt, data: buf.subarray(body, body + size) };
    }
    offset = body + size + (size % 2);
  }
  throw new WavFormatError('no data chunk');
}

/** Decodes to mono 16-bit samples at the file's own rate (channels averaged). */
export function toMono16(info: WavInfo): Int16Array {
  const { data, channels, bitsPerSample, encoding } = info;
  const bytes = bitsPerSample / 8;
  const frames = Math.floor(data.length / (bytes * channels));
  const out = new Int16Array(frames);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sample = (o: number): number => {
    switch (encoding) {
      case 'ulaw':
        return ULAW_DECODE[data[o] ?? 0] ?? 0;
      case 'alaw':
        return ALAW_DECODE[data[o] ?? 0] ?? 0;
      case 'float': {
        const f = bitsPerSample === 32 ? view.getFloat32(o, true) : view.getFloat64(o, true);
        return Math.max(-1, Math.min(1, f)) * 32767;
      }
      default:
        switch (bitsPerSample) {
          case 8:
            return ((data[o] ?? 128) - 128) << 8;
          case 16:
            return view.getInt16(o, true);
          case 24:
            return (view.getInt8(o + 2) << 8) | (data[o + 1] ?? 0);
          default:
            return view.getInt32(o, true) >> 16;
        }
    }
  };
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += sample((f * channels + c) * bytes);
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/** A 44-byte header for 16-bit PCM (`dataBytes` of samples follow). */
export function wavHeader(dataBytes: number, sampleRate = 8000, channels = 1): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A whole 8 kHz 16-bit mono WAV file. */
export function encodeWav(samples: Int16Array, sampleRate = 8000): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  // Int16Array is host-endian; the platforms Node runs on here are little-endian.
  return Buffer.concat([wavHeader(data.length, sampleRate), data]);
}
