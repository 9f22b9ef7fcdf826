// REGISTER registrar (RFC 3261 section 10.3) with digest authentication (RFC 8760) on
// stateless nonces. Bindings live in memory on the node that took the REGISTER; the
// `added`/`removed` events are the hook for the presence layer to share them.

import { randomBytes } from 'node:crypto';
import {
  NonceFactory,
  challenges,
  verify,
  type CredentialsLookup,
  type DigestAlgorithm,
  type Verdict,
} from './digest.js';
import { Emitter } from './emitter.js';
import { createResponse, formatUri, type SipRequest, type SipUri } from './message.js';
import { SipParseError, parseNameAddrList } from './parser.js';
import type { ServerTransaction } from './transaction.js';
import type { Peer } from './transport.js';

export interface Binding {
  /** Address of record, `sip:user@domain`. */
  aor: string;
  /** Contact URI as registered. */
  contact: string;
  expiresAt: number;
  callId: string;
  cseq: number;
  q: number | undefined;
  /** Where the REGISTER came from (reach NATed phones here). */
  source: Peer;
  userAgent: string | undefined;
  /** Authenticated user name, if authentication is on. */
  username: string | undefined;
  /** Who owns the AOR's domain (an account SID), as the `domains` resolver said. */
  owner: string | undefined;
}

export type RemoveReason = 'expired' | 'unregistered';

export interface RegistrarEvents {
  added: [binding: Binding];
  refreshed: [binding: Binding];
  removed: [binding: Binding, reason: RemoveReason];
}

/**
 * What a registrar serving many domains knows about the domain of an AOR: its digest realm,
 * credential store and owner, or why REGISTERs for it are refused (RFC 3261 section 10.3:
 * 404 for a domain this registrar does not serve, 403 where registration is not allowed).
 */
export type DomainDecision =
  | { realm: string; lookup: CredentialsLookup; owner?: string }
  | { refuse: 403 | 404; reason: string };

export interface RegistrarOptions {
  /** Digest realm when `domains` is not set. */
  realm?: string;
  /** Credentials for a user; undefined means unknown user (403). Omit to accept anyone. */
  lookup?: CredentialsLookup;
  /**
   * Per-domain registrar: resolves the To URI's host (lower case) and overrides `realm` and
   * `lookup`. A rejection (database down) answers 503 + Retry-After, like a slow lookup.
   */
  domains?: (host: string) => Promise<DomainDecision> | DomainDecision;
  /** HMAC secret for nonces; share it between nodes. Random per process when omitted. */
  secret?: string | Buffer;
  nonceTtlSeconds?: number;
  algorithms?: DigestAlgorithm[];
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  /** Require the digest user name to equal the AOR's user (default true). */
  matchUser?: boolean;
  /** Bound on `lookup` (default 5 s); past it the REGISTER gets 503 + Retry-After. */
  lookupTimeoutMs?: number;
}

export function aorOf(uri: SipUri): string {
  return `${uri.scheme === 'sips' ? 'sips' : 'sip'}:${uri.user ?? ''}@${uri.host.toLowerCase()}`;
}

function normalizeAor(aor: string): string {
  const m = /^(sips?):([^@]*)@(.*)$/i.exec(aor.trim());
  return m === null
    ? aor
    : `${(m[1] as string).toLowerCase()}:${m[2] as string}@${(m[3] as string).toLowerCase()}`;
}

/** A credential store or domain lookup failed: the phone should retry later (503). */
class LookupFailed extends Error {}

async function guarded<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new LookupFailed('registrar lookup failed', { cause: err });
  }
}

export class Registrar extends Emitter<RegistrarEvents> {
  private readonly bindings = new Map<string, Map<string, Binding>>();
  private readonly nonces: NonceFactory;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: RegistrarOptions) {
    super();
    this.nonces = new NonceFactory({
      secret: opts.secret ?? randomBytes(32),
      ttlSeconds: opts.nonceTtlSeconds,
    });
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /**
   * Digest for requests other than REGISTER (an INVITE to a domain whose calls need
   * credentials), with the same stateless nonces and algorithms. A lookup failure rejects.
   */
  async verifyRequest(
    req: SipRequest,
    realm: string,
    lookup: CredentialsLookup,
    header: 'authorization' | 'proxy-authorization' = 'proxy-authorization',
  ): Promise<Verdict> {
    return verify(req.headers.get(header), req.method, realm, this.nonces, lookup);
  }

  /** Challenge header values (WWW-/Proxy-Authenticate) for `realm`. */
  challengeValues(realm: string, stale = false): string[] {
    return challenges(this.nonces, realm, this.opts.algorithms, stale);
  }

  /** Current bindings of an address of record (`sip:alice@example.com`). */
  lookup(aor: string): Binding[] {
    const m = this.bindings.get(normalizeAor(aor));
    return m === undefined ? [] : [...m.values()];
  }

  get size(): number {
    let n = 0;
    for (const m of this.bindings.values()) n += m.size;
    return n;
  }

  aors(): string[] {
    return [...this.bindings.keys()];
  }

  /** Answer a REGISTER on its server transaction. Never throws. */
  async handle(req: SipRequest, tx: ServerTransaction): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A credentials lookup that hangs must not leave the phone without an answer.
      const limit = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.opts.lookupTimeoutMs ?? 5000);
      });
      if ((await Promise.race([this.process(req, tx), limit])) === 'timeout') {
        const res = createResponse(req, 503);
        res.headers.append('Retry-After', '5');
        tx.respond(res);
      }
    } catch (err) {
      this.listenerError(err);
      if (err instanceof LookupFailed) {
        const res = createResponse(req, 503);
        res.headers.append('Retry-After', '5');
        tx.respond(res);
      } else tx.respond(createResponse(req, 500));
    } finally {
      clearTimeout(timer);
    }
  }

  private async process(req: SipRequest, tx: ServerTransaction): Promise<void> {
    let realm = this.opts.realm ?? 'switchboard';
    let lookup = this.opts.lookup;
    let owner: string | undefined;
    const resolveDomain = this.opts.domains;
    if (resolveDomain !== undefined) {
      const d = await guarded(() => resolveDomain(req.to.uri.host.toLowerCase()));
      if ('refuse' in d) {
        tx.respond(createResponse(req, d.refuse, d.reason));
        return;
      }
      ({ realm, lookup, owner } = d);
    }
    let username: string | undefined;
    const aor = aorOf(req.to.uri);
    if (lookup !== undefined) {
      const store = lookup;
      const v = await verify(
        req.headers.get('authorization'),
        'REGISTER',
        realm,
        this.nonces,
        (user, r) => guarded(() => store(user, r)),
      );
      if (!v.ok) {
        if (v.reason === 'unknown user') {
          tx.respond(createResponse(req, 403));
          return;
        }
        const res = createResponse(req, 401, undefined, randomBytes(6).toString('hex'));
        for (const c of challenges(this.nonces, realm, this.opts.algorithms, v.stale === true))
          res.headers.append('WWW-Authenticate', c);
        tx.respond(res);
        return;
      }
      username = v.username;
      if (this.opts.matchUser !== false && username !== req.to.uri.user) {
        tx.respond(createResponse(req, 403, 'Forbidden (user does not own this address)'));
        return;
      }
    }

    const now = Date.now();
    const contactValues = req.headers.getAll('contact');
    const headerExpires = req.headers.get('expires');
    const defaultExpires =
      headerExpires !== undefined && /^\d+$/.test(headerExpires.trim())
        ? Number(headerExpires.trim())
        : (this.opts.defaultExpires ?? 3600);
    const current = this.bindings.get(aor);

    if (contactValues.some((c) => c.trim() === '*')) {
      if (contactValues.length !== 1 || defaultExpires !== 0) {
        tx.respond(createResponse(req, 400, 'Bad Request (wildcard Contact)'));
        return;
      }
      if (current !== undefined) {
        for (const b of current.values()) {
          if (b.callId === req.callId && req.cseq.seq <= b.cseq) continue;
          current.delete(b.contact);
          this.emit('removed', b, 'unregistered');
        }
        if (current.size === 0) this.bindings.delete(aor);
      }
      this.ok(req, tx, aor, now);
      return;
    }

    const contacts = parseNameAddrList(contactValues);
    if (contacts instanceof SipParseError) {
      tx.respond(createResponse(req, 400, 'Bad Request (Contact)'));
      return;
    }
    const min = this.opts.minExpires ?? 60;
    const max = this.opts.maxExpires ?? 3600;
    const plan: Array<{ contact: string; expires: number; q: number | undefined }> = [];
    for (const c of contacts) {
      const pe = c.params.expires;
      let expires =
        pe !== undefined && pe !== null && /^\d+$/.test(pe) ? Number(pe) : defaultExpires;
      if (expires > 0 && expires < min) {
        const res = createResponse(req, 423);
        res.headers.append('Min-Expires', String(min));
        tx.respond(res);
        return;
      }
      expires = Math.min(expires, max);
      const q = c.params.q;
      plan.push({
        contact: formatUri(c.uri),
        expires,
        q: q !== undefined && q !== null ? Number(q) : undefined,
      });
    }
    let map = current;
    for (const p of plan) {
      const existing = map?.get(p.contact);
      if (existing !== undefined && existing.callId === req.callId && req.cseq.seq <= existing.cseq)
        continue;
      if (p.expires === 0) {
        if (existing !== undefined && map !== undefined) {
          map.delete(p.contact);
          this.emit('removed', existing, 'unregistered');
        }
        continue;
      }
      const b: Binding = {
        aor,
        contact: p.contact,
        expiresAt: now + p.expires * 1000,
        callId: req.callId,
        cseq: req.cseq.seq,
        q: p.q,
        source: tx.source,
        userAgent: req.headers.get('user-agent'),
        username,
        owner,
      };
      if (map === undefined) {
        map = new Map();
        this.bindings.set(aor, map);
      }
      map.set(p.contact, b);
      this.emit(existing === undefined ? 'added' : 'refreshed', b);
    }
    if (map !== undefined && map.size === 0) this.bindings.delete(aor);
    this.ok(req, tx, aor, now);
  }

  private ok(req: SipRequest, tx: ServerTransaction, aor: string, now: number): void {
    const res = createResponse(req, 200, undefined, randomBytes(6).toString('hex'));
    for (const b of this.lookup(aor)) {
      res.headers.append(
        'Contact',
        `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
      );
    }
    res.headers.append('Date', new Date(now).toUTCString());
    tx.respond(res);
  }

  /** Drop expired bindings (runs every second). */
  sweep(now = Date.now()): void {
    for (const [aor, map] of this.bindings) {
      for (const [k, b] of map) {
        if (b.expiresAt <= now) {
          map.delete(k);
          this.emit('removed', b, 'expired');
        }
      }
      if (map.size === 0) this.bindings.delete(aor);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
