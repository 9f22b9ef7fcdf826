// SDP (RFC 4566) parse/serialize and the audio half of offer/answer (RFC 3264).
//
// The model keeps every line it does not interpret, so parse → serialize round-trips real
// traffic. Negotiation understands one audio stream of G.711 (PCMU 0, PCMA 8) plus
// RFC 4733 telephone-event; every other m-line is refused with port 0, as RFC 3264 §6 asks.

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type CodecName = 'PCMU' | 'PCMA';

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpAttribute {
  name: string;
  /** undefined for property attributes (`a=sendonly`). */
  value?: string;
}

export interface SdpMedia {
  type: string;
  port: number;
  portCount?: number;
  proto: string;
  formats: string[];
  /** i=, b=, k= and other lines of the media section, in order, raw (`b=AS:64`). */
  lines: string[];
  connection?: SdpConnection;
  attributes: SdpAttribute[];
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface Sdp {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  /** Session-level lines other than v o s c t a m (i u e p b r z k), raw, in order. */
  lines: string[];
  /** t= (and any r=/z= that follow it), raw. */
  timing: string[];
  connection?: SdpConnection;
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';
}

function parseConnection(value: string): SdpConnection {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3) throw new SdpParseError(`bad c= line: ${value}`);
  // Multicast TTL/count suffixes (224.2.1.1/127) are kept out of the address.
  const address = (parts[2] ?? '').split('/')[0] ?? '';
  return { netType: parts[0] ?? 'IN', addrType: parts[1] ?? 'IP4', address };
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  return colon < 0
    ? { name: value.trim() }
    : { name: value.slice(0, colon).trim(), value: value.slice(colon + 1).trim() };
}

/** Parses an SDP body. Tolerates LF-only line ends and trailing blanks; throws SdpParseError. */
export function parseSdp(input: string | Uint8Array): Sdp {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const sdp: Sdp = {
    version: 0,
    origin: {
      username: '-',
      sessionId: '0',
      sessionVersion: '0',
      netType: 'IN',
      addrType: 'IP4',
      address: '0.0.0.0',
    },
    sessionName: '-',
    lines: [],
    timing: [],
    attributes: [],
    media: [],
  };
  let sawVersion = false;
  let sawOrigin = false;
  let media: SdpMedia | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line === '') continue;
    if (line.length < 2 || line[1] !== '=') throw new SdpParseError(`bad SDP line: ${line}`);
    const type = line[0];
    const value = line.slice(2);
    if (media) {
      switch (type) {
        case 'm':
          break; // handled below
        case 'c':
          media.connection = parseConnection(value);
          continue;
        case 'a':
          media.attributes.push(parseAttribute(value));
          continue;
        default:
          media.lines.push(line);
          continue;
      }
    }
    switch (type) {
      case 'v':
        sdp.version = Number(value);
        if (!Number.isInteger(sdp.version)) throw new SdpParseError(`bad v= line: ${line}`);
        sawVersion = true;
        break;
      case 'o': {
        const p = value.trim().split(/\s+/);
        if (p.length < 6) throw new SdpParseError(`bad o= line: ${line}`);
        sdp.origin = {
          username: p[0] ?? '-',
          sessionId: p[1] ?? '0',
          sessionVersion: p[2] ?? '0',
          netType: p[3] ?? 'IN',
          addrType: p[4] ?? 'IP4',
          address: p[5] ?? '0.0.0.0',
        };
        sawOrigin = true;
        break;
      }
      case 's':
        sdp.sessionName = value;
        break;
      case 'c':
        sdp.connection = parseConnection(value);
        break;
      case 't':
      case 'r':
      case 'z':
        sdp.timing.push(line);
        break;
      case 'a':
        sdp.attributes.push(parseAttribute(value));
        break;
      case 'm': {
        // m=<media> <port>[/<count>] <proto> <fmt> ...
        const tokens = value.trim().split(/\s+/);
        if (tokens.length < 3) throw new SdpParseError(`bad m= line: ${line}`);
        const [portText = '', countText] = (tokens[1] ?? '').split('/');
        const port = Number(portText);
        if (!/^\d+$/.test(portText) || port > 65535)
          throw new SdpParseError(`bad m= port: ${line}`);
        media = {
          type: tokens[0] ?? '',
          port,
          proto: tokens[2] ?? '',
          formats: tokens.slice(3),
          lines: [],
          attributes: [],
        };
        if (countText !== undefined) media.portCount = Number(countText);
        sdp.media.push(media);
        break;
      }
      default:
        sdp.lines.push(line);
    }
  }
  if (!sawVersion || !sawOrigin) throw new SdpParseError('SDP needs v= and o= lines');
  return sdp;
}

function formatConnection(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function formatAttribute(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

// RFC 4566 §5 order of session-level lines we keep raw.
const SESSION_ORDER = 'iuepb';

/** Serializes with CRLF line ends, in the order RFC 4566 §5 requires. */
export function serializeSdp(sdp: Sdp): string {
  const o = sdp.origin;
  const out: string[] = [
    `v=${sdp.version}`,
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${sdp.sessionName === '' ? ' ' : sdp.sessionName}`,
  ];
  const before = sdp.lines.filter((l) => SESSION_ORDER.slice(0, 4).includes(l[0] ?? ''));
  const bandwidth = sdp.lines.filter((l) => l[0] === 'b');
  const after = sdp.lines.filter((l) => !SESSION_ORDER.includes(l[0] ?? ''));
  out.push(...before);
  if (sdp.connection) out.push(formatConnection(sdp.connection));
  out.push(...bandwidth);
  out.push(...(sdp.timing.length > 0 ? sdp.timing : ['t=0 0']));
  out.push(...after);
  for (const a of sdp.attributes) out.push(formatAttribute(a));
  for (const m of sdp.media) {
    const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
    out.push(`m=${m.type} ${port} ${m.proto} ${m.formats.join(' ')}`.trimEnd());
    const info = m.lines.filter((l) => l[0] === 'i');
    out.push(...info);
    if (m.connection) out.push(formatConnection(m.connection));
    out.push(...m.lines.filter((l) => l[0] !== 'i'));
    for (const a of m.attributes) out.push(formatAttribute(a));
  }
  return out.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Offer/answer for one audio stream

/** What both sides agreed for the audio stream, from our point of view. */
export interface NegotiatedAudio {
  codec: CodecName;
  /** Payload type of the codec (0 or 8). */
  payloadType: number;
  /** Payload type of telephone-event, if the peer supports RFC 4733. */
  telephoneEvent?: number;
  /** Where the peer asked for RTP (before latching). Port 0 means the stream was refused. */
  remoteAddress: string;
  remotePort: number;
  /** What we may do: `sendrecv`, or `recvonly` when the peer holds us, etc. */
  direction: Direction;
  /** Packet time the peer asked for (ms); we always send 20 ms packets. */
  ptime: number;
  /** Index of the audio m-line in the SDP. */
  mediaIndex: number;
}

export interface LocalMediaInfo {
  /** Address advertised in o= and c= (the public address when behind NAT). */
  address: string;
  port: number;
  /** Codecs we accept, in our order of preference (used when we offer). */
  codecs: readonly CodecName[];
  /** Our wish for the stream: `sendonly` to hold the peer, `inactive`, or `sendrecv`. */
  direction: Direction;
  /** o= session id and version; bump the version on every new offer or answer. */
  sessionId: string;
  sessionVersion: number;
  /** Payload type we offer for telephone-event (default 101). */
  telephoneEventPt?: number;
}

const STATIC_PT: Readonly<Record<number, CodecName>> = { 0: 'PCMU', 8: 'PCMA' };
const PT_OF: Readonly<Record<CodecName, number>> = { PCMU: 0, PCMA: 8 };

function attr(list: readonly SdpAttribute[], name: string): SdpAttribute | undefined {
  const lower = name.toLowerCase();
  return list.find((a) => a.name.toLowerCase() === lower);
}

function directionOf(list: readonly SdpAttribute[]): Direction | undefined {
  for (const a of list) {
    const n = a.name.toLowerCase();
    if (DIRECTIONS.has(n)) return n as Direction;
  }
  return undefined;
}

/** rtpmap entries of a media section: payload type → encoding name/rate. */
function rtpmaps(m: SdpMedia): Map<number, { name: string; rate: number }> {
  const map = new Map<number, { name: string; rate: number }>();
  for (const a of m.attributes) {
    if (a.name.toLowerCase() !== 'rtpmap' || a.value === undefined) continue;
    const match = /^(\d+)\s+([^/\s]+)\/(\d+)/.exec(a.value);
    if (match) map.set(Number(match[1]), { name: match[2] ?? '', rate: Number(match[3]) });
  }
  return map;
}

/** The peer's view turned into ours: their sendonly is our recvonly. */
export function reverseDirection(d: Direction): Direction {
  if (d === 'sendonly') return 'recvonly';
  if (d === 'recvonly') return 'sendonly';
  return d;
}

/** Intersection of what we want and what the peer allows (both from our point of view). */
export function combineDirections(ours: Direction, allowed: Direction): Direction {
  const send =
    ours !== 'recvonly' &&
    ours !== 'inactive' &&
    (allowed === 'sendrecv' || allowed === 'sendonly');
  const recv =
    ours !== 'sendonly' &&
    ours !== 'inactive' &&
    (allowed === 'sendrecv' || allowed === 'recvonly');
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

function isRtpAvp(proto: string): boolean {
  const p = proto.toUpperCase();
  return p === 'RTP/AVP' || p === 'RTP/AVPF';
}

/** Reads the peer's audio stream from an SDP (offer or answer); `codecs` are the ones we accept. */
export function readAudio(
  sdp: Sdp,
  codecs: readonly CodecName[] = ['PCMU', 'PCMA'],
): NegotiatedAudio | undefined {
  for (let i = 0; i < sdp.media.length; i++) {
    const m = sdp.media[i];
    if (!m || m.type.toLowerCase() !== 'audio' || !isRtpAvp(m.proto)) continue;
    const maps = rtpmaps(m);
    let codec: CodecName | undefined;
    let payloadType = -1;
    let telephoneEvent: number | undefined;
    // RFC 3264 §6.1: the answerer should honour the offerer's order of preference.
    for (const f of m.formats) {
      const pt = Number(f);
      if (!Number.isInteger(pt)) continue;
      const mapped = maps.get(pt);
      const name = mapped ? mapped.name.toUpperCase() : STATIC_PT[pt];
      if (mapped && mapped.rate !== 8000) continue;
      if (name === 'TELEPHONE-EVENT') {
        telephoneEvent ??= pt;
      } else if (codec === undefined && (name === 'PCMU' || name === 'PCMA')) {
        if (codecs.includes(name)) {
          codec = name;
          payloadType = pt;
        }
      }
    }
    if (codec === undefined) continue;
    const address = (m.connection ?? sdp.connection)?.address ?? '0.0.0.0';
    let peer = directionOf(m.attributes) ?? directionOf(sdp.attributes) ?? 'sendrecv';
    // RFC 2543 hold: c=0.0.0.0 means "do not send to me".
    if (address === '0.0.0.0' && peer === 'sendrecv') peer = 'sendonly';
    if (address === '0.0.0.0' && peer === 'recvonly') peer = 'inactive';
    const ptimeAttr = attr(m.attributes, 'ptime') ?? attr(sdp.attributes, 'ptime');
    const ptime = ptimeAttr?.value ? Number(ptimeAttr.value) : 20;
    const result: NegotiatedAudio = {
      codec,
      payloadType,
      remoteAddress: address,
      remotePort: m.port,
      direction: reverseDirection(peer),
      ptime: Number.isFinite(ptime) && ptime > 0 ? ptime : 20,
      mediaIndex: i,
    };
    if (telephoneEvent !== undefined) result.telephoneEvent = telephoneEvent;
    if (m.port === 0) continue; // a refused stream; look for another
    return result;
  }
  return undefined;
}

function origin(local: LocalMediaInfo): SdpOrigin {
  return {
    username: 'switchboard',
    sessionId: local.sessionId,
    sessionVersion: String(local.sessionVersion),
    netType: 'IN',
    addrType: local.address.includes(':') ? 'IP6' : 'IP4',
    address: local.address,
  };
}

function audioAttributes(
  formats: readonly { pt: number; name: CodecName }[],
  telephoneEvent: number | undefined,
  direction: Direction,
): SdpAttribute[] {
  const attrs: SdpAttribute[] = formats.map((f) => ({
    name: 'rtpmap',
    value: `${f.pt} ${f.name}/8000`,
  }));
  if (telephoneEvent !== undefined) {
    attrs.push({ name: 'rtpmap', value: `${telephoneEvent} telephone-event/8000` });
    attrs.push({ name: 'fmtp', value: `${telephoneEvent} 0-16` });
  }
  attrs.push({ name: 'ptime', value: '20' });
  attrs.push({ name: direction });
  return attrs;
}

function baseSdp(local: LocalMediaInfo): Sdp {
  return {
    version: 0,
    origin: origin(local),
    sessionName: 'Switchboard',
    lines: [],
    timing: ['t=0 0'],
    connection: {
      netType: 'IN',
      addrType: local.address.includes(':') ? 'IP6' : 'IP4',
      address: local.address,
    },
    attributes: [],
    media: [],
  };
}

/** Our offer: one audio stream with our codecs and telephone-event. */
export function createOffer(local: LocalMediaInfo): Sdp {
  const te = local.telephoneEventPt ?? 101;
  const formats = local.codecs.map((name) => ({ pt: PT_OF[name], name }));
  const sdp = baseSdp(local);
  sdp.media.push({
    type: 'audio',
    port: local.port,
    proto: 'RTP/AVP',
    formats: [...formats.map((f) => String(f.pt)), String(te)],
    lines: [],
    attributes: audioAttributes(formats, te, local.direction),
  });
  return sdp;
}

export interface AnswerResult {
  /** The answer to send, or undefined when nothing is acceptable (answer 488). */
  answer: Sdp | undefined;
  audio: NegotiatedAudio | undefined;
}

/**
 * Answers an offer (RFC 3264 §6): accepts the first usable audio stream with one codec
 * (the offerer's first choice among ours) and telephone-event, refuses the rest with port 0.
 */
export function answerOffer(offer: Sdp, local: LocalMediaInfo): AnswerResult {
  const audio = readAudio(offer, local.codecs);
  if (!audio) return { answer: undefined, audio: undefined };
  const direction = combineDirections(local.direction, audio.direction);
  const sdp = baseSdp(local);
  offer.media.forEach((m, i) => {
    if (i !== audio.mediaIndex) {
      // Refused: same type/proto/formats with port 0.
      sdp.media.push({
        type: m.type,
        port: 0,
        proto: m.proto,
        formats: m.formats.length > 0 ? [m.formats[0] ?? '0'] : ['0'],
        lines: [],
        attributes: [],
      });
      return;
    }
    const formats = [{ pt: audio.payloadType, name: audio.codec }];
    const fmt = [String(audio.payloadType)];
    if (audio.telephoneEvent !== undefined) fmt.push(String(audio.telephoneEvent));
    sdp.media.push({
      type: 'audio',
      port: local.port,
      proto: m.proto,
      formats: fmt,
      lines: [],
      attributes: audioAttributes(formats, audio.telephoneEvent, direction),
    });
  });
  return { answer: sdp, audio: { ...audio, direction } };
}

/** Reads the peer's answer to our offer; undefined when the audio stream was refused. */
export function readAnswer(answer: Sdp, local: LocalMediaInfo): NegotiatedAudio | undefined {
  const audio = readAudio(answer, local.codecs);
  if (!audio) return undefined;
  return { ...audio, direction: combineDirections(local.direction, audio.direction) };
}
