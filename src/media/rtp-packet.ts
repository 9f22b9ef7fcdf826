// RTP fixed header (RFC 3550 §5.1): parse without copying, build into a caller's buffer.

export const RTP_HEADER_SIZE = 12;

export interface RtpPacket {
  version: number;
  padding: boolean;
  extension: boolean;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** Header extension profile and data (RFC 3550 §5.3.1), when the X bit is set. */
  extensionProfile?: number;
  /** Payload as a view into the datagram (padding removed). Copy it to keep it. */
  payload: Uint8Array;
}

/**
 * Parses an RTP datagram; returns undefined for anything that is not a well-formed RTP v2
 * packet (truncated, bad padding, RTCP payload types 72-76 when `rejectRtcp`). Never throws.
 */
export function parseRtp(data: Uint8Array, rejectRtcp = true): RtpPacket | undefined {
  if (data.length < RTP_HEADER_SIZE) return undefined;
  const b0 = data[0] ?? 0;
  const b1 = data[1] ?? 0;
  const version = b0 >> 6;
  if (version !== 2) return undefined;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const payloadType = b1 & 0x7f;
  // RFC 5761 §4: RTCP SR/RR/SDES/BYE/APP show as PT 72-76 with the marker bit seen as RTP.
  if (rejectRtcp && payloadType >= 72 && payloadType <= 76) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = RTP_HEADER_SIZE + csrcCount * 4;
  if (data.length < offset) return undefined;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(RTP_HEADER_SIZE + i * 4));
  let extensionProfile: number | undefined;
  if (extension) {
    if (data.length < offset + 4) return undefined;
    extensionProfile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    offset += 4 + words * 4;
    if (data.length < offset) return undefined;
  }
  let end = data.length;
  if (padding) {
    const pad = data[data.length - 1] ?? 0;
    if (pad === 0 || end - pad < offset) return undefined;
    end -= pad;
  }
  const packet: RtpPacket = {
    version,
    padding,
    extension,
    marker: (b1 & 0x80) !== 0,
    payloadType,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    payload: data.subarray(offset, end),
  };
  if (extensionProfile !== undefined) packet.extensionProfile = extensionProfile;
  return packet;
}

export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** Writes a 12-byte header (no CSRC, no extension) at the start of `buf`; returns 12. */
export function writeRtpHeader(buf: Uint8Array, h: RtpHeaderFields): number {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf[2] = (h.sequence >>> 8) & 0xff;
  buf[3] = h.sequence & 0xff;
  const ts = h.timestamp >>> 0;
  buf[4] = ts >>> 24;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
  const ssrc = h.ssrc >>> 0;
  buf[8] = ssrc >>> 24;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
  return RTP_HEADER_SIZE;
}

/** Builds a whole packet in a new buffer (tests and tools; the session writes in place). */
export function buildRtp(h: RtpHeaderFields, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
  writeRtpHeader(buf, h);
  buf.set(payload, RTP_HEADER_SIZE);
  return buf;
}
