// HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 8760: MD5 and SHA-256, with -sess variants)
// and stateless nonces: a nonce is a timestamp plus an HMAC of it under a shared secret,
// so any node holding the secret validates any other node's nonces, and concurrent
// challenges to one user never invalidate each other.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { splitOutside } from './parser.js';

export type DigestAlgorithm =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

const HASH: Record<string, string> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

function baseAlgorithm(a: string): string {
  return a.toUpperCase().replace(/-SESS$/, '');
}

export function isSupportedAlgorithm(a: string): a is DigestAlgorithm {
  return HASH[baseAlgorithm(a)] !== undefined;
}

function h(algorithm: string, data: string): string {
  return createHash(HASH[baseAlgorithm(algorithm)] ?? 'md5')
    .update(data, 'utf8')
    .digest('hex');
}

/** Parse `Digest k=v, k="v"` into lowercase keys (values unquoted). */
export function parseAuthHeader(value: string): { scheme: string; params: Record<string, string> } {
  const s = value.trim();
  const sp = s.search(/\s/);
  const scheme = sp < 0 ? s : s.slice(0, sp);
  const params: Record<string, string> = {};
  if (sp >= 0) {
    for (const part of splitOutside(s.slice(sp + 1), ',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const k = part.slice(0, eq).trim().toLowerCase();
      let v = part.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2)
        v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      params[k] = v;
    }
  }
  return { scheme, params };
}

export interface Challenge {
  realm: string;
  nonce: string;
  algorithm: string;
  qop?: string;
  opaque?: string;
  stale: boolean;
}

/** Pick the best challenge we support from WWW-/Proxy-Authenticate values (SHA-256 first). */
export function pickChallenge(values: readonly string[]): Challenge | undefined {
  const order = ['SHA-512-256', 'SHA-256', 'MD5'];
  let best: Challenge | undefined;
  let bestRank = Infinity;
  for (const v of values) {
    const { scheme, params } = parseAuthHeader(v);
    if (scheme.toLowerCase() !== 'digest' || params.nonce === undefined) continue;
    const algorithm = params.algorithm ?? 'MD5';
    if (!isSupportedAlgorithm(algorithm)) continue;
    const rank = order.indexOf(baseAlgorithm(algorithm));
    if (rank < bestRank) {
      bestRank = rank;
      const c: Challenge = {
        realm: params.realm ?? '',
        nonce: params.nonce,
        algorithm,
        stale: (params.stale ?? '').toLowerCase() === 'true',
      };
      if (params.qop !== undefined) c.qop = params.qop;
      if (params.opaque !== undefined) c.opaque = params.opaque;
      best = c;
    }
  }
  return best;
}

export interface DigestInput {
  algorithm: string;
  username: string;
  realm: string;
  password?: string;
  /** Precomputed H(username:realm:password) for `algorithm`'s hash, instead of password. */
  ha1?: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  qop?: string;
  method: string;
  uri: string;
}

/** The `response` value of RFC 2617 / 7616 section 3.4.1 (qop=auth or none). */
export function digestResponse(d: DigestInput): string {
  let ha1 = d.ha1 ?? h(d.algorithm, `${d.username}:${d.realm}:${d.password ?? ''}`);
  if (/-sess$/i.test(d.algorithm)) ha1 = h(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = h(d.algorithm, `${d.method}:${d.uri}`);
  if (d.qop !== undefined && d.qop !== '')
    return h(d.algorithm, `${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
  return h(d.algorithm, `${ha1}:${d.nonce}:${ha2}`);
}

/** H(username:realm:password), for credential stores that keep no clear passwords. */
export function computeHa1(
  algorithm: string,
  username: string,
  realm: string,
  password: string,
): string {
  return h(algorithm, `${username}:${realm}:${password}`);
}

function quote(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** Client side: build an Authorization / Proxy-Authorization value answering `c`. */
export function authorize(
  c: Challenge,
  creds: { username: string; password: string },
  method: string,
  uri: string,
  nc = 1,
): string {
  const qops = (c.qop ?? '').split(',').map((q) => q.trim());
  const qop = qops.includes('auth') ? 'auth' : undefined;
  const cnonce = randomBytes(8).toString('hex');
  const ncs = nc.toString(16).padStart(8, '0');
  const response = digestResponse({
    algorithm: c.algorithm,
    username: creds.username,
    realm: c.realm,
    password: creds.password,
    nonce: c.nonce,
    cnonce,
    nc: ncs,
    qop,
    method,
    uri,
  });
  let out =
    `Digest username=${quote(creds.username)}, realm=${quote(c.realm)}, nonce=${quote(c.nonce)}, ` +
    `uri=${quote(uri)}, response=${quote(response)}, algorithm=${c.algorithm}`;
  if (qop !== undefined) out += `, qop=${qop}, nc=${ncs}, cnonce=${quote(cnonce)}`;
  if (c.opaque !== undefined) out += `, opaque=${quote(c.opaque)}`;
  return out;
}

// ------------------------------------------------------------------ server side

export interface NonceOptions {
  /** Shared secret (the same on every node). */
  secret: string | Buffer;
  /** Nonce lifetime in seconds (default 300); an older valid nonce is answered stale=true. */
  ttlSeconds?: number;
}

export type NonceCheck = 'ok' | 'stale' | 'invalid';

/** Stateless nonces: `<timestamp hex>.<HMAC-SHA256(secret, timestamp:realm) base64url>`. */
export class NonceFactory {
  private readonly secret: Buffer;
  private readonly ttlMs: number;

  constructor(opts: NonceOptions) {
    this.secret = typeof opts.secret === 'string' ? Buffer.from(opts.secret) : opts.secret;
    this.ttlMs = (opts.ttlSeconds ?? 300) * 1000;
  }

  private mac(ts: string, realm: string): string {
    return createHmac('sha256', this.secret)
      .update(`${ts}:${realm}`)
      .digest('base64url')
      .slice(0, 22);
  }

  create(realm: string, now = Date.now()): string {
    const ts = now.toString(16);
    return `${ts}.${this.mac(ts, realm)}`;
  }

  check(nonce: string, realm: string, now = Date.now()): NonceCheck {
    const dot = nonce.indexOf('.');
    if (dot <= 0) return 'invalid';
    const ts = nonce.slice(0, dot);
    if (!/^[0-9a-f]{1,13}$/.test(ts)) return 'invalid';
    const given = Buffer.from(nonce.slice(dot + 1));
    const want = Buffer.from(this.mac(ts, realm));
    if (given.length !== want.length || !timingSafeEqual(given, want)) return 'invalid';
    const age = now - parseInt(ts, 16);
    if (age < -30_000 || age > this.ttlMs) return 'stale';
    return 'ok';
  }
}

/** What a credentials lookup returns: the clear password or per-algorithm HA1 values. */
export type StoredCredentials =
  { password: string } | { ha1: Partial<Record<'MD5' | 'SHA-256' | 'SHA-512-256', string>> };

export type CredentialsLookup = (
  username: string,
  realm: string,
) => Promise<StoredCredentials | undefined> | StoredCredentials | undefined;

export interface Verdict {
  ok: boolean;
  username?: string;
  /** Set when the nonce was authentic but old: re-challenge with stale=true. */
  stale?: boolean;
  reason?: string;
}

/** Build the challenge header values, strongest first (RFC 8760 section 2.4). */
export function challenges(
  nonces: NonceFactory,
  realm: string,
  algorithms: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'],
  stale = false,
): string[] {
  const nonce = nonces.create(realm);
  return algorithms.map(
    (a) =>
      `Digest realm=${quote(realm)}, nonce=${quote(nonce)}, algorithm=${a}, qop="auth"${stale ? ', stale=TRUE' : ''}`,
  );
}

/** Verify an Authorization value for `method` against stored credentials. */
export async function verify(
  header: string | undefined,
  method: string,
  realm: string,
  nonces: NonceFactory,
  lookup: CredentialsLookup,
): Promise<Verdict> {
  if (header === undefined) return { ok: false, reason: 'no credentials' };
  const { scheme, params: p } = parseAuthHeader(header);
  if (scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'not digest' };
  const { username, nonce, uri, response } = p;
  if (username === undefined || nonce === undefined || uri === undefined || response === undefined)
    return { ok: false, reason: 'incomplete credentials' };
  if ((p.realm ?? '') !== realm) return { ok: false, username, reason: 'wrong realm' };
  const algorithm = p.algorithm ?? 'MD5';
  if (!isSupportedAlgorithm(algorithm))
    return { ok: false, username, reason: 'unsupported algorithm' };
  if (p.qop !== undefined && (p.qop !== 'auth' || p.nc === undefined || p.cnonce === undefined))
    return { ok: false, username, reason: 'bad qop' };
  const n = nonces.check(nonce, realm);
  if (n === 'invalid') return { ok: false, username, reason: 'bad nonce' };
  const stored = await lookup(username, realm);
  if (stored === undefined) return { ok: false, username, reason: 'unknown user' };
  const base = baseAlgorithm(algorithm) as 'MD5' | 'SHA-256' | 'SHA-512-256';
  const input: DigestInput = {
    algorithm,
    username,
    realm,
    nonce,
    method,
    uri,
    qop: p.qop,
    nc: p.nc,
    cnonce: p.cnonce,
  };
  if ('password' in stored) input.password = stored.password;
  else {
    const ha1 = stored.ha1[base];
    if (ha1 === undefined) return { ok: false, username, reason: 'no HA1 for algorithm' };
    input.ha1 = ha1;
  }
  const want = Buffer.from(digestResponse(input));
  const got = Buffer.from(response.toLowerCase());
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return { ok: false, username, reason: 'wrong password' };
  if (n === 'stale') return { ok: false, username, stale: true, reason: 'stale nonce' };
  return { ok: true, username };
}
