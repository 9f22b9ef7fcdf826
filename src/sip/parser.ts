// SIP message parser (RFC 3261 sections 7, 20, 25) and TCP stream framer (section 18.3).
// Nothing here throws on bad input: every entry point returns a SipParseError instead.

import {
  EMPTY_BODY,
  Headers,
  headerKey,
  type CSeq,
  type NameAddr,
  type Params,
  type SipMessage,
  type SipUri,
  type Via,
} from './message.js';

export type ParseErrorCode =
  | 'empty'
  | 'start-line'
  | 'header'
  | 'missing-header'
  | 'bad-header'
  | 'content-length'
  | 'too-large';

/** A parse failure. Not an Error subclass: garbage floods must not pay for stack traces. */
export class SipParseError {
  readonly name = 'SipParseError';
  constructor(
    readonly code: ParseErrorCode,
    readonly message: string,
    /** When the start line was a request line: enough to build a 400 (Via/From/To/Call-ID/CSeq). */
    readonly request?: { method: string; raw: Array<[string, string]> },
  ) {}
}

export const MAX_MESSAGE = 65_535;
export const MAX_HEADERS = 200;
export const MAX_HEADER_LINE = 8192;

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const LIST_HEADERS = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'allow-events',
  'path',
  'service-route',
]);

// ---------------------------------------------------------------- low-level splitting

/** Split on `sep` outside quotes and angle brackets. */
export function splitOutside(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') angle++;
    else if (ch === '>') angle = angle > 0 ? angle - 1 : 0;
    else if (ch === sep && angle === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Parse `;a=b;c` (leading `;` optional) into lowercase-keyed params. Null on bad syntax. */
export function parseParams(s: string): Params | null {
  const params: Params = {};
  if (s.trim() === '') return params;
  const parts = splitOutside(s.startsWith(';') ? s.slice(1) : s, ';');
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '' || !/^[a-z0-9\-.!%*_+`'~[\]/:&$]+$/.test(name)) return null;
    if (eq < 0) params[name] = null;
    else {
      const value = part.slice(eq + 1).trim();
      if (/[\s]/.test(value) && !value.startsWith('"')) return null;
      params[name] = value;
    }
  }
  return params;
}

// ---------------------------------------------------------------- URIs and addresses

function parseHostPort(s: string): { host: string; port?: number } | null {
  let host: string;
  let rest: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    host = s.slice(0, end + 1);
    rest = s.slice(end + 1);
  } else {
    const colon = s.indexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    rest = colon < 0 ? '' : s.slice(colon);
  }
  if (host === '' || !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._+]+)$/.test(host)) return null;
  if (rest === '') return { host };
  if (!/^:\d{1,5}$/.test(rest)) return null;
  const port = Number(rest.slice(1));
  if (port > 65535) return null;
  return { host, port };
}

/** Parse a SIP/SIPS URI (other schemes: everything after `scheme:` up to `;` is `host`). */
export function parseUri(input: string): SipUri | SipParseError {
  const s = input.trim();
  const colon = s.indexOf(':');
  if (colon <= 0) return new SipParseError('bad-header', `bad URI "${s.slice(0, 80)}"`);
  const scheme = s.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+\-.]*$/.test(scheme))
    return new SipParseError('bad-header', 'bad URI scheme');
  let rest = s.slice(colon + 1);
  let headers: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (scheme !== 'sip' && scheme !== 'sips') {
    const semi = rest.indexOf(';');
    const host = semi < 0 ? rest : rest.slice(0, semi);
    const params = parseParams(semi < 0 ? '' : rest.slice(semi));
    if (host === '' || params === null || /\s/.test(host))
      return new SipParseError('bad-header', 'bad URI');
    const uri: SipUri = { scheme, host, params };
    if (headers !== undefined) uri.headers = headers;
    return uri;
  }
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (pc >= 0) password = userinfo.slice(pc + 1);
    if (user === '' || /[\s<>"]/.test(userinfo))
      return new SipParseError('bad-header', 'bad URI user');
  }
  const semi = rest.indexOf(';');
  const hp = parseHostPort(semi < 0 ? rest : rest.slice(0, semi));
  if (hp === null) return new SipParseError('bad-header', 'bad URI host');
  const params = parseParams(semi < 0 ? '' : rest.slice(semi));
  if (params === null) return new SipParseError('bad-header', 'bad URI params');
  const uri: SipUri = { scheme, host: hp.host, params };
  if (hp.port !== undefined) uri.port = hp.port;
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (headers !== undefined) uri.headers = headers;
  return uri;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"'))
    return s.slice(1, -1).replace(/\\(.)/g, '$1');
  return s;
}

/** Parse a From/To/Contact/Route value: `"Name" <uri>;params` or `uri;params`. */
export function parseNameAddr(input: string): NameAddr | SipParseError {
  const s = input.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) {
    // The `<` must not be inside the display-name quotes.
    let quoteEnd = -1;
    if (s.startsWith('"')) {
      for (let i = 1; i < s.length; i++) {
        if (s[i] === '\\') i++;
        else if (s[i] === '"') {
          quoteEnd = i;
          break;
        }
      }
      if (quoteEnd < 0) return new SipParseError('bad-header', 'unterminated display name');
    }
    const open = quoteEnd >= 0 ? s.indexOf('<', quoteEnd) : lt;
    const close = s.indexOf('>', open);
    if (open < 0 || close < 0) return new SipParseError('bad-header', 'unbalanced <>');
    const displayRaw = s.slice(0, open).trim();
    if (quoteEnd >= 0 && displayRaw.length !== quoteEnd + 1)
      return new SipParseError('bad-header', 'bad display name');
    const uri = parseUri(s.slice(open + 1, close));
    if (uri instanceof SipParseError) return uri;
    const params = parseParams(s.slice(close + 1).trim());
    if (params === null) return new SipParseError('bad-header', 'bad address params');
    const out: NameAddr = { uri, params };
    if (displayRaw !== '') out.display = unquote(displayRaw);
    return out;
  }
  // addr-spec: parameters after the URI belong to the header, not the URI.
  if (/[\s"]/.test(s)) return new SipParseError('bad-header', 'bad address');
  const semi = s.indexOf(';');
  const uri = parseUri(semi < 0 ? s : s.slice(0, semi));
  if (uri instanceof SipParseError) return uri;
  const params = parseParams(semi < 0 ? '' : s.slice(semi));
  if (params === null) return new SipParseError('bad-header', 'bad address params');
  return { uri, params };
}

/** Parse one Via value (`SIP/2.0/UDP host:port;branch=...`). */
export function parseVia(input: string): Via | SipParseError {
  const m = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+([^;\s]+)\s*(;.*)?$/is.exec(
    input,
  );
  if (m === null) return new SipParseError('bad-header', 'bad Via');
  const hp = parseHostPort(m[2] as string);
  if (hp === null) return new SipParseError('bad-header', 'bad Via host');
  const params = parseParams(m[3] ?? '');
  if (params === null) return new SipParseError('bad-header', 'bad Via params');
  const via: Via = { transport: (m[1] as string).toUpperCase(), host: hp.host, params };
  if (hp.port !== undefined) via.port = hp.port;
  return via;
}

export function parseCSeq(input: string): CSeq | SipParseError {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(input);
  if (m === null) return new SipParseError('bad-header', 'bad CSeq');
  const seq = Number(m[1]);
  if (seq > 0x7fffffff) return new SipParseError('bad-header', 'CSeq out of range');
  return { seq, method: m[2] as string };
}

/** Parse a list-valued address header (Contact, Route, Record-Route). `*` gives []. */
export function parseNameAddrList(values: readonly string[]): NameAddr[] | SipParseError {
  const out: NameAddr[] = [];
  for (const v of values) {
    for (const part of splitOutside(v, ',')) {
      if (part.trim() === '' || part.trim() === '*') continue;
      const a = parseNameAddr(part);
      if (a instanceof SipParseError) return a;
      out.push(a);
    }
  }
  return out;
}

// ---------------------------------------------------------------- messages

/** Control characters other than horizontal tab. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

function headerEnd(buf: Buffer): { end: number; sep: number } {
  const a = buf.indexOf(CRLFCRLF);
  const b = buf.indexOf(LFLF);
  if (a >= 0 && (b < 0 || a < b)) return { end: a, sep: 4 };
  if (b >= 0) return { end: b, sep: 2 };
  return { end: -1, sep: 0 };
}

/** Extract the raw (unparsed) values of the headers a 400 needs. */
function rawForReply(lines: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = headerKey(line.slice(0, colon).trim());
    if (key === 'via' || key === 'from' || key === 'to' || key === 'call-id' || key === 'cseq')
      out.push([key, line.slice(colon + 1).trim()]);
  }
  return out;
}

/**
 * Parse one complete SIP message (a UDP datagram, or one frame from `StreamFramer`).
 * `stream` = true means the body must be exactly Content-Length bytes (already framed).
 */
export function parseMessage(buf: Buffer): SipMessage | SipParseError {
  // Leading CRLFs are allowed (RFC 3261 7.5) and are keep-alives on their own.
  let start = 0;
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) return new SipParseError('empty', 'empty message');
  if (buf.length > MAX_MESSAGE) return new SipParseError('too-large', 'message too large');
  const work = start === 0 ? buf : buf.subarray(start);
  const { end, sep } = headerEnd(work);
  const headText = (end < 0 ? work : work.subarray(0, end)).toString('latin1');
  const rawBody = end < 0 ? EMPTY_BODY : work.subarray(end + sep);

  // Unfold: a line starting with whitespace continues the previous one.
  const physical = headText.split(/\r?\n/);
  const lines: string[] = [];
  for (const line of physical) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 1) {
      lines[lines.length - 1] += ' ' + line.trim();
    } else lines.push(line);
  }
  if (lines.length - 1 > MAX_HEADERS) return new SipParseError('too-large', 'too many headers');
  const startLine = lines[0] as string;

  let method: string | undefined;
  let uri = '';
  let status = 0;
  let reason = '';
  const resp = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (resp !== null) {
    status = Number(resp[1]);
    reason = resp[2] as string;
    if (status < 100 || status > 699) return new SipParseError('start-line', 'bad status code');
    if (hasControl(reason)) return new SipParseError('start-line', 'bad reason phrase');
  } else {
    const req = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(startLine);
    if (req === null) return new SipParseError('start-line', 'bad start line');
    method = req[1] as string;
    uri = req[2] as string;
  }
  const fail = (code: ParseErrorCode, message: string): SipParseError =>
    new SipParseError(
      code,
      message,
      method !== undefined ? { method, raw: rawForReply(lines.slice(1)) } : undefined,
    );
  if (method !== undefined && parseUri(uri) instanceof SipParseError)
    return fail('start-line', 'bad Request-URI');

  const headers = new Headers();
  const vias: Via[] = [];
  let from: NameAddr | undefined;
  let to: NameAddr | undefined;
  let callId: string | undefined;
  let cseq: CSeq | undefined;
  let contentLength = -1;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return fail('header', 'header line without a colon');
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) return fail('header', 'bad header name');
    if (line.length > MAX_HEADER_LINE) return fail('too-large', 'header line too long');
    const value = line.slice(colon + 1).trim();
    if (hasControl(value)) return fail('header', 'control character in header');
    const key = headerKey(name);
    switch (key) {
      case 'via':
        for (const part of splitOutside(value, ',')) {
          const via = parseVia(part);
          if (via instanceof SipParseError) return fail('bad-header', via.message);
          vias.push(via);
        }
        break;
      case 'from':
      case 'to': {
        if ((key === 'from' ? from : to) !== undefined) return fail('bad-header', `two ${key}`);
        const a = parseNameAddr(value);
        if (a instanceof SipParseError) return fail('bad-header', `${key}: ${a.message}`);
        if (key === 'from') from = a;
        else to = a;
        break;
      }
      case 'call-id':
        if (callId !== undefined || value === '' || /\s/.test(value))
          return fail('bad-header', 'bad Call-ID');
        callId = value;
        break;
      case 'cseq': {
        const c = parseCSeq(value);
        if (c instanceof SipParseError || cseq !== undefined) return fail('bad-header', 'bad CSeq');
        cseq = c;
        break;
      }
      case 'content-length':
        if (!/^\d{1,9}$/.test(value)) return fail('content-length', 'bad Content-Length');
        contentLength = Number(value);
        break;
      default:
        if (LIST_HEADERS.has(key) && value.includes(',')) {
          for (const part of splitOutside(value, ',')) {
            const p = part.trim();
            if (p !== '') headers.list.push({ key, name, value: p });
          }
        } else headers.list.push({ key, name, value });
    }
  }
  if (vias.length === 0) return fail('missing-header', 'missing Via');
  if (from === undefined) return fail('missing-header', 'missing From');
  if (to === undefined) return fail('missing-header', 'missing To');
  if (callId === undefined) return fail('missing-header', 'missing Call-ID');
  if (cseq === undefined) return fail('missing-header', 'missing CSeq');
  if (method !== undefined && cseq.method !== method)
    return fail('bad-header', 'CSeq method does not match the request method');

  let body = rawBody;
  if (contentLength >= 0) {
    if (contentLength > rawBody.length)
      return fail('content-length', 'body shorter than Content-Length');
    body = rawBody.subarray(0, contentLength);
  }
  if (body.length === 0) body = EMPTY_BODY;
  if (method !== undefined) {
    return { kind: 'request', method, uri, vias, from, to, callId, cseq, headers, body };
  }
  return { kind: 'response', status, reason, vias, from, to, callId, cseq, headers, body };
}

// ---------------------------------------------------------------- stream framing

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

/** One frame out of a stream: a message buffer, a keep-alive ping, or a fatal framing error. */
export type Frame =
  { kind: 'message'; data: Buffer } | { kind: 'ping' } | { kind: 'error'; error: SipParseError };

/**
 * Cuts a TCP byte stream into SIP messages by Content-Length. After an error the stream
 * cannot be resynchronised: the caller answers (if it can) and closes the connection.
 */
export class StreamFramer {
  private buf: Buffer = EMPTY_BODY;
  private failed = false;

  constructor(
    private readonly maxHeader = 16_384,
    private readonly maxBody = MAX_MESSAGE,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  get buffered(): number {
    return this.buf.length;
  }

  /** Next frame, or null when more bytes are needed. */
  next(): Frame | null {
    if (this.failed) return null;
    let start = 0;
    while (start < this.buf.length && (this.buf[start] === 13 || this.buf[start] === 10)) start++;
    if (start > 0) {
      // RFC 5626 double-CRLF keep-alive.
      const ping = start >= 4 && this.buf[0] === 13 && this.buf[1] === 10;
      this.buf = this.buf.subarray(start);
      if (ping) return { kind: 'ping' };
    }
    if (this.buf.length === 0) return null;
    const { end, sep } = headerEnd(this.buf);
    if (end < 0) {
      if (this.buf.length > this.maxHeader) return this.fail('too-large', 'header block too large');
      return null;
    }
    if (end > this.maxHeader) return this.fail('too-large', 'header block too large');
    const head = this.buf.subarray(0, end).toString('latin1');
    const m = CL_RE.exec(head);
    if (m === null) return this.fail('content-length', 'missing Content-Length on a stream', head);
    const len = Number(m[1]);
    if (len > this.maxBody) return this.fail('too-large', 'body too large', head);
    const total = end + sep + len;
    if (this.buf.length < total) return null;
    const data = this.buf.subarray(0, total);
    this.buf = this.buf.length === total ? EMPTY_BODY : this.buf.subarray(total);
    return { kind: 'message', data };
  }

  private fail(code: ParseErrorCode, message: string, head?: string): Frame {
    this.failed = true;
    this.buf = EMPTY_BODY;
    let request: SipParseError['request'];
    if (head !== undefined) {
      const lines = head.split(/\r?\n/);
      const req = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(lines[0] ?? '');
      if (req !== null) request = { method: req[1] as string, raw: rawForReply(lines.slice(1)) };
    }
    return { kind: 'error', error: new SipParseError(code, message, request) };
  }
}

/** Build a raw 400 (or other) response from the salvaged headers of a malformed request. */
export function rawErrorResponse(
  err: SipParseError,
  status = 400,
  reason = 'Bad Request',
): Buffer | null {
  const r = err.request;
  if (r === undefined || r.method === 'ACK') return null;
  const need = ['via', 'from', 'to', 'call-id', 'cseq'];
  const have = new Set(r.raw.map(([k]) => k));
  for (const k of need) if (!have.has(k)) return null;
  const names: Record<string, string> = {
    via: 'Via',
    from: 'From',
    to: 'To',
    'call-id': 'Call-ID',
    cseq: 'CSeq',
  };
  let out = `SIP/2.0 ${status} ${reason}\r\n`;
  for (const [k, v] of r.raw) {
    if (/[\r\n]/.test(v)) return null;
    out += `${names[k] ?? k}: ${v}\r\n`;
  }
  const detail = err.message.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
  out += `Warning: 399 switchboard "${detail.replace(/"/g, "'")}"\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.from(out, 'latin1');
}
