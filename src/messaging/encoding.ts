// SMS text encoding: GSM 03.38 7-bit (default alphabet + extension table) or UCS-2, segment
// counting as Twilio reports `num_segments`, and splitting a long text into concatenated parts
// (UDH with an 8- or 16-bit reference, or SAR TLVs). SMPP carries GSM-7 unpacked: one septet per
// octet, data_coding 0x00 (the SMSC default alphabet); UCS-2 is UTF-16BE, data_coding 0x08.

export type Encoding = 'GSM-7' | 'UCS-2';

/** GSM 03.38 default alphabet; index = septet value (0x1B is the escape to the extension table). */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Extension table: character -> septet after the 0x1B escape. */
const GSM_EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

const BASIC_ENC = new Map<string, number>();
for (let i = 0; i < GSM_BASIC.length; i++) if (i !== 0x1b) BASIC_ENC.set(GSM_BASIC[i]!, i);
const EXT_ENC = new Map<string, number>(GSM_EXTENSION);
const EXT_DEC = new Map<number, string>(GSM_EXTENSION.map(([c, s]) => [s, c]));

/** Septets a character costs in GSM-7 (1, or 2 for the extension table), or 0 if it has none. */
export function gsmCost(ch: string): 0 | 1 | 2 {
  if (BASIC_ENC.has(ch)) return 1;
  if (EXT_ENC.has(ch)) return 2;
  return 0;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (gsmCost(ch) === 0) return false;
  return true;
}

export function detectEncoding(text: string): Encoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/** GSM-7 septets, unpacked (one per octet), as SMPP's short_message carries them. */
export function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const b = BASIC_ENC.get(ch);
    if (b !== undefined) {
      out.push(b);
      continue;
    }
    const e = EXT_ENC.get(ch);
    if (e === undefined)
      throw new RangeError(`character U+${ch.codePointAt(0)?.toString(16)} has no GSM-7 code`);
    out.push(0x1b, e);
  }
  return Buffer.from(out);
}

export function decodeGsm7(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]! & 0x7f;
    if (b === 0x1b && i + 1 < bytes.length) {
      const ext = EXT_DEC.get(bytes[i + 1]! & 0x7f);
      i++;
      s += ext ?? ' ';
      continue;
    }
    s += GSM_BASIC[b] ?? '?';
  }
  return s;
}

export function encodeUcs2(text: string): Buffer {
  const buf = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) buf.writeUInt16BE(text.charCodeAt(i), i * 2);
  return buf;
}

export function decodeUcs2(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2)
    s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

/** Units per single message and per concatenated part (septets for GSM-7, UTF-16 units for UCS-2). */
const LIMITS: Record<Encoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/**
 * Splits text into the texts of its parts: one part when it fits a single message, otherwise
 * parts of at most 153 septets / 67 UTF-16 units, never splitting an escape pair or a surrogate pair.
 */
export function splitText(text: string, encoding: Encoding = detectEncoding(text)): string[] {
  const limits = LIMITS[encoding];
  const cost = (ch: string) => (encoding === 'GSM-7' ? gsmCost(ch) : ch.length);
  let total = 0;
  for (const ch of text) total += cost(ch);
  if (total <= limits.single) return [text];
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const ch of text) {
    const c = cost(ch);
    if (used + c > limits.part) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += c;
  }
  if (current !== '') parts.push(current);
  return parts;
}

export interface TextInfo {
  readonly encoding: Encoding;
  readonly numSegments: number;
  /** Septets (GSM-7) or UTF-16 units (UCS-2). */
  readonly units: number;
}

/** What Twilio reports for a body: encoding and `num_segments`. An empty body is one segment. */
export function describeText(text: string): TextInfo {
  const encoding = detectEncoding(text);
  let units = 0;
  for (const ch of text) units += encoding === 'GSM-7' ? gsmCost(ch) : ch.length;
  return { encoding, numSegments: Math.max(1, splitText(text, encoding).length), units };
}

export type Concatenation = 'udh8' | 'udh16' | 'sar';

/** One submit_sm worth of payload. */
export interface Part {
  /** short_message octets, including the UDH when there is one. */
  readonly payload: Buffer;
  /** 0x00 (SMSC default alphabet, GSM-7) or 0x08 (UCS-2). */
  readonly dataCoding: 0x00 | 0x08;
  /** True when payload starts with a UDH (esm_class must carry UDHI 0x40). */
  readonly udhi: boolean;
  /** SAR TLVs when concatenation is 'sar' and there are several parts. */
  readonly sar?: { readonly ref: number; readonly total: number; readonly seq: number };
  readonly text: string;
}

/** Encodes a text into the parts to submit; `ref` identifies the concatenated message. */
export function toParts(text: string, ref: number, mode: Concatenation = 'udh8'): Part[] {
  const encoding = detectEncoding(text);
  const dataCoding = encoding === 'GSM-7' ? 0x00 : 0x08;
  const texts = splitText(text, encoding);
  const encode = (t: string) => (encoding === 'GSM-7' ? encodeGsm7(t) : encodeUcs2(t));
  if (texts.length === 1) return [{ payload: encode(text), dataCoding, udhi: false, text }];
  const total = texts.length;
  return texts.map((t, i) => {
    const seq = i + 1;
    const body = encode(t);
    if (mode === 'sar') {
      return {
        payload: body,
        dataCoding,
        udhi: false,
        sar: { ref: ref & 0xffff, total, seq },
        text: t,
      };
    }
    const udh =
      mode === 'udh16'
        ? Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq])
        : Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
    return { payload: Buffer.concat([udh, body]), dataCoding, udhi: true, text: t };
  });
}

export interface ConcatInfo {
  readonly ref: number;
  readonly total: number;
  readonly seq: number;
}

/** Reads a concatenation UDH (IEI 0x00 or 0x08) from the start of a payload. */
export function readUdh(payload: Uint8Array): { concat?: ConcatInfo; body: Uint8Array } {
  const len = payload[0];
  if (len === undefined || len + 1 > payload.length) return { body: payload };
  let concat: ConcatInfo | undefined;
  let i = 1;
  while (i + 1 < len + 1) {
    const iei = payload[i]!;
    const ielen = payload[i + 1]!;
    const d = payload.subarray(i + 2, i + 2 + ielen);
    if (iei === 0x00 && ielen === 3) concat = { ref: d[0]!, total: d[1]!, seq: d[2]! };
    if (iei === 0x08 && ielen === 4)
      concat = { ref: (d[0]! << 8) | d[1]!, total: d[2]!, seq: d[3]! };
    i += 2 + ielen;
  }
  return { ...(concat ? { concat } : {}), body: payload.subarray(len + 1) };
}

export function decodeText(bytes: Uint8Array, dataCoding: number): string {
  if ((dataCoding & 0x0f) === 0x08) return decodeUcs2(bytes);
  if ((dataCoding & 0x0f) === 0x03) return Buffer.from(bytes).toString('latin1');
  return decodeGsm7(bytes);
}
