import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { authorize, pickChallenge } from './digest.js';
import {
  createSipEngine,
  type Binding,
  type DomainDecision,
  type RegistrarOptions,
  type SipEngine,
} from './index.js';
import { Headers, newBranch, serialize, type SipResponse } from './message.js';
import { SipParseError, parseMessage } from './parser.js';

let engine: SipEngine | undefined;
let sock: Socket | undefined;
afterEach(async () => {
  await engine?.close();
  sock?.close();
  engine = sock = undefined;
});

async function setup(registrar?: RegistrarOptions): Promise<{
  e: SipEngine;
  register: (opts: RegOpts) => Promise<SipResponse>;
}> {
  const e = await createSipEngine({
    host: '127.0.0.1',
    port: 0,
    registrar: registrar ?? {
      realm: 'sb.test',
      secret: 'k',
      minExpires: 30,
      lookup: (u) => (u === 'bob' ? { password: 'pw' } : undefined),
    },
  });
  engine = e;
  const s = createSocket('udp4');
  sock = s;
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const waiting = new Map<string, (r: SipResponse) => void>();
  s.on('message', (buf) => {
    const m = parseMessage(buf);
    if (m instanceof SipParseError || m.kind !== 'response') return;
    waiting.get(m.vias[0]?.params.branch ?? '')?.(m);
  });
  const register = (o: RegOpts): Promise<SipResponse> => {
    const headers = new Headers();
    for (const c of o.contacts) headers.append('Contact', c);
    if (o.expires !== undefined) headers.append('Expires', String(o.expires));
    if (o.auth !== undefined) headers.append('Authorization', o.auth);
    const branch = newBranch();
    const wire = serialize({
      kind: 'request',
      method: 'REGISTER',
      uri: 'sip:sb.test',
      vias: [{ transport: 'UDP', host: '127.0.0.1', port: s.address().port, params: { branch } }],
      from: {
        uri: { scheme: 'sip', user: o.user, host: 'sb.test', params: {} },
        params: { tag: 'f1' },
      },
      to: { uri: { scheme: 'sip', user: o.user, host: 'sb.test', params: {} }, params: {} },
      callId: o.callId ?? 'reg-1',
      cseq: { seq: o.cseq, method: 'REGISTER' },
      headers,
      body: Buffer.alloc(0),
    });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no response')), 3000);
      waiting.set(branch, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      s.send(wire, e.port, '127.0.0.1');
    });
  };
  return { e, register };
}

interface RegOpts {
  user: string;
  contacts: string[];
  cseq: number;
  expires?: number;
  auth?: string;
  callId?: string;
}

describe('registrar', () => {
  it('challenges, accepts SHA-256, keeps several contacts, refuses short expiry, and unregisters', async () => {
    const { e, register } = await setup();
    const events: string[] = [];
    e.on('binding-added', (b: Binding, refreshed) =>
      events.push(`${refreshed ? 'refresh' : 'add'} ${b.contact}`),
    );
    e.on('binding-removed', (b: Binding, why) => events.push(`${why} ${b.contact}`));
    const contacts = [
      '<sip:bob@10.0.0.1:5060>;expires=120',
      '<sip:bob@10.0.0.2:5062;transport=tcp>',
    ];

    const challenge = await register({ user: 'bob', contacts, cseq: 1 });
    expect(challenge.status).toBe(401);
    const offers = challenge.headers.getAll('www-authenticate');
    expect(offers[0]).toMatch(/algorithm=SHA-256/);
    expect(offers[1]).toMatch(/algorithm=MD5/);
    const c = pickChallenge(offers);
    if (c === undefined) throw new Error('no challenge');
    const auth = (pw: string): string =>
      authorize(c, { username: 'bob', password: pw }, 'REGISTER', 'sip:sb.test');

    expect((await register({ user: 'bob', contacts, cseq: 2, auth: auth('wrong') })).status).toBe(
      401,
    );
    const ok = await register({ user: 'bob', contacts, cseq: 3, auth: auth('pw'), expires: 600 });
    expect(ok.status).toBe(200);
    expect(ok.headers.getAll('contact')).toHaveLength(2);
    expect(
      e.registrar
        ?.lookup('sip:bob@SB.test')
        .map((b) => b.contact)
        .sort(),
    ).toEqual(['sip:bob@10.0.0.1:5060', 'sip:bob@10.0.0.2:5062;transport=tcp']);
    const short = await register({
      user: 'bob',
      contacts: ['<sip:bob@10.0.0.3>;expires=5'],
      cseq: 4,
      auth: auth('pw'),
    });
    expect(short.status).toBe(423);
    expect(short.headers.get('min-expires')).toBe('30');
    // Another user's credentials cannot register bob's address.
    expect((await register({ user: 'eve', contacts, cseq: 5, auth: auth('pw') })).status).toBe(403);

    const gone = await register({
      user: 'bob',
      contacts: ['*'],
      cseq: 6,
      auth: auth('pw'),
      expires: 0,
    });
    expect(gone.status).toBe(200);
    expect(e.registrar?.lookup('sip:bob@sb.test')).toEqual([]);
    expect(events).toEqual([
      'add sip:bob@10.0.0.1:5060',
      'add sip:bob@10.0.0.2:5062;transport=tcp',
      'unregistered sip:bob@10.0.0.1:5060',
      'unregistered sip:bob@10.0.0.2:5062;transport=tcp',
    ]);
  });

  it('expires bindings and reports them', async () => {
    const { e, register } = await setup();
    const c = pickChallenge(
      (await register({ user: 'bob', contacts: [], cseq: 1 })).headers.getAll('www-authenticate'),
    );
    if (c === undefined) throw new Error('no challenge');
    const auth = authorize(c, { username: 'bob', password: 'pw' }, 'REGISTER', 'sip:sb.test');
    expect(
      (
        await register({
          user: 'bob',
          contacts: ['<sip:bob@10.0.0.9>'],
          cseq: 2,
          auth,
          expires: 60,
        })
      ).status,
    ).toBe(200);
    const removed: string[] = [];
    e.on('binding-removed', (_b, why) => removed.push(why));
    e.registrar?.sweep(Date.now() + 61_000);
    expect(removed).toEqual(['expired']);
    expect(e.registrar?.size).toBe(0);
  });

  it('resolves each domain: 404, 403, 503 + Retry-After on lookup failures, owner on bindings', async () => {
    let decide: (host: string) => DomainDecision | Promise<DomainDecision> = () => {
      throw new Error('database down');
    };
    let lookupFails = true;
    const { e, register } = await setup({
      secret: 'k',
      domains: (host) => decide(host),
    });
    const down = await register({ user: 'bob', contacts: ['<sip:bob@10.0.0.1>'], cseq: 1 });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    decide = () => ({ refuse: 404, reason: 'Not Found (no such domain)' });
    expect((await register({ user: 'bob', contacts: [], cseq: 2 })).status).toBe(404);
    decide = () => ({ refuse: 403, reason: 'Forbidden' });
    expect((await register({ user: 'bob', contacts: [], cseq: 3 })).status).toBe(403);
    const hosts: string[] = [];
    decide = (host) => {
      hosts.push(host);
      return {
        realm: host,
        owner: 'AC1',
        lookup: async () => {
          if (lookupFails) throw new Error('credentials table unreachable');
          return { password: 'pw' };
        },
      };
    };
    const challenge = await register({ user: 'bob', contacts: [], cseq: 4 });
    expect(challenge.status).toBe(401);
    expect(hosts).toEqual(['sb.test']);
    const c = pickChallenge(challenge.headers.getAll('www-authenticate'));
    if (c === undefined) throw new Error('no challenge');
    expect(c.realm).toBe('sb.test');
    const auth = authorize(c, { username: 'bob', password: 'pw' }, 'REGISTER', 'sip:sb.test');
    const failed = await register({ user: 'bob', contacts: ['<sip:bob@10.0.0.1>'], cseq: 5, auth });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('5');
    lookupFails = false;
    const ok = await register({ user: 'bob', contacts: ['<sip:bob@10.0.0.1>'], cseq: 6, auth });
    expect(ok.status).toBe(200);
    expect(e.registrar?.lookup('sip:bob@sb.test').map((b) => b.owner)).toEqual(['AC1']);
  });
});
