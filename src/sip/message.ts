// SIP message model (RFC 3261 section 7) and its serializer.
//
// The five headers every transaction and dialog needs (Via, From, To, Call-ID, CSeq) are
// structured fields of the message; every other header is kept as a string in `Headers`,
// in arrival order, under its canonical lowercase key. Bodies are opaque bytes.

export type Params = Record<string, string | null>;

export interface SipUri {
  scheme: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Params;
  /** Raw `?a=b&c=d` part without the `?`. */
  headers?: string;
}

export interface NameAddr {
  display?: string;
  uri: SipUri;
  params: Params;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface HeaderEntry {
  /** Canonical key: lowercase long form (`v` and `VIA` both become `via`). */
  key: string;
  /** Name as written on the wire. */
  name: string;
  value: string;
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  x: 'session-expires',
  y: 'identity',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
};

/** Lowercase long-form key of a header name (expands compact forms). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** Conventional spelling of a header key (`content-type` → `Content-Type`). */
export function canonicalName(key: string): string {
  const known = CANONICAL[key];
  if (known !== undefined) return known;
  let out = '';
  let up = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i] as string;
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  return out;
}

/** Headers other than the five structured ones and Content-Length. */
export class Headers {
  readonly list: HeaderEntry[] = [];

  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.list) if (h.key === key) return h.value;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.list) if (h.key === key) out.push(h.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  append(name: string, value: string): this {
    const key = headerKey(name);
    this.list.push({ key, name: key.length === 1 ? canonicalName(key) : name, value });
    return this;
  }

  set(name: string, value: string): this {
    this.delete(name);
    return this.append(name, value);
  }

  delete(name: string): this {
    const key = headerKey(name);
    for (let i = this.list.length - 1; i >= 0; i--) {
      if ((this.list[i] as HeaderEntry).key === key) this.list.splice(i, 1);
    }
    return this;
  }

  clone(): Headers {
    const h = new Headers();
    for (const e of this.list) h.list.push({ key: e.key, name: e.name, value: e.value });
    return h;
  }
}

interface MessageBase {
  vias: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  headers: Headers;
  body: Buffer;
}

export interface SipRequest extends MessageBase {
  kind: 'request';
  method: string;
  /** Request-URI as written; parse it with `parseUri` when needed. */
  uri: string;
}

export interface SipResponse extends MessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY_BODY: Buffer = Buffer.alloc(0);

// ---------------------------------------------------------------- serializing

function needsQuote(v: string): boolean {
  return !/^[A-Za-z0-9\-.!%*_+`'~]*$/.test(v);
}

export function formatParams(params: Params): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function formatUri(u: SipUri): string {
  let out = `${u.scheme}:`;
  if (u.user !== undefined) {
    out += u.user;
    if (u.password !== undefined) out += `:${u.password}`;
    out += '@';
  }
  out += formatHost(u.host);
  if (u.port !== undefined) out += `:${u.port}`;
  out += formatParams(u.params);
  if (u.headers !== undefined) out += `?${u.headers}`;
  return out;
}

export function formatNameAddr(a: NameAddr): string {
  let out = '';
  if (a.display !== undefined && a.display !== '') {
    out += needsQuote(a.display) ? `"${a.display.replace(/(["\\])/g, '\\$1')}" ` : `${a.display} `;
  }
  return `${out}<${formatUri(a.uri)}>${formatParams(a.params)}`;
}

export function formatVia(v: Via): string {
  const port = v.port !== undefined ? `:${v.port}` : '';
  return `SIP/2.0/${v.transport} ${formatHost(v.host)}${port}${formatParams(v.params)}`;
}

/** Serialize a message; Content-Length is always written from the body. */
export function serialize(m: SipMessage): Buffer {
  let head =
    m.kind === 'request'
      ? `${m.method} ${m.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${m.status} ${m.reason}\r\n`;
  for (const v of m.vias) head += `Via: ${formatVia(v)}\r\n`;
  head += `From: ${formatNameAddr(m.from)}\r\n`;
  head += `To: ${formatNameAddr(m.to)}\r\n`;
  head += `Call-ID: ${m.callId}\r\n`;
  head += `CSeq: ${m.cseq.seq} ${m.cseq.method}\r\n`;
  for (const h of m.headers.list) head += `${h.name}: ${h.value}\r\n`;
  head += `Content-Length: ${m.body.length}\r\n\r\n`;
  if (m.body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + m.body.length);
  out.write(head, 0, 'utf8');
  m.body.copy(out, headLen);
  return out;
}

// ---------------------------------------------------------------- helpers

export const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

const HEX = '0123456789abcdef';

/** Random token (tags, branches, Call-IDs): `len` hex characters. */
export function randomToken(len = 16): string {
  let out = '';
  for (let i = 0; i < len; i++) out += HEX[(Math.random() * 16) | 0];
  return out;
}

let branchCounter = 0;
/** RFC 3261 magic-cookie branch, unique per process. */
export function newBranch(): string {
  branchCounter = (branchCounter + 1) >>> 0;
  return `z9hG4bK${randomToken(10)}${branchCounter.toString(36)}`;
}

/**
 * Build a response to a request (RFC 3261 8.2.6): copies Via, From, To, Call-ID, CSeq;
 * adds `toTag` to To when the request has none.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  toTag?: string,
): SipResponse {
  const to: NameAddr = { display: req.to.display, uri: req.to.uri, params: { ...req.to.params } };
  if (toTag !== undefined && to.params.tag === undefined && status !== 100) to.params.tag = toTag;
  const headers = new Headers();
  if (status === 100) {
    const ts = req.headers.get('timestamp');
    if (ts !== undefined) headers.append('Timestamp', ts);
  }
  return {
    kind: 'response',
    status,
    reason: reason ?? REASONS[status] ?? 'Unknown',
    vias: req.vias,
    from: req.from,
    to,
    callId: req.callId,
    cseq: req.cseq,
    headers,
    body: EMPTY_BODY,
  };
}

export function tagOf(a: NameAddr): string | undefined {
  const t = a.params.tag;
  return t === null ? undefined : t;
}
