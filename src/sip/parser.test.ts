import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Headers, formatNameAddr, serialize, type SipMessage, type SipRequest } from './message.js';
import {
  SipParseError,
  StreamFramer,
  parseMessage,
  parseNameAddr,
  parseNameAddrList,
  parseUri,
  rawErrorResponse,
} from './parser.js';

const INVITE = [
  'INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0',
  'v: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1',
  'Max-Forwards: 70',
  'TO: Bob <sip:bob@biloxi.example.com>',
  'f: "Alice \\"A\\" Liddell" <sip:alice@atlanta.example.com>;tag=1928301774',
  'i: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'm: <sip:alice@pc33.atlanta.example.com>;expires=60, sip:alice@10.0.0.1;q=0.5',
  'Subject: folded',
  '  header value',
  'X-Customer-Id: 42',
  'Allow: INVITE, ACK,BYE',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\r\nextra',
].join('\r\n');

function parseOk(s: string | Buffer): SipMessage {
  const m = parseMessage(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  if (m instanceof SipParseError) throw new Error(`${m.code}: ${m.message}`);
  return m;
}

describe('parseMessage', () => {
  it('parses a request with compact, folded, multi-value and case-varied headers', () => {
    const m = parseOk(INVITE) as SipRequest;
    expect(m.kind).toBe('request');
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:bob@biloxi.example.com;transport=udp');
    expect(m.vias).toHaveLength(2);
    expect(m.vias[0]).toMatchObject({
      transport: 'UDP',
      host: 'pc33.atlanta.example.com',
      port: 5060,
      params: { branch: 'z9hG4bK776asdhds', rport: null },
    });
    expect(m.vias[1]?.transport).toBe('TCP');
    expect(m.from.display).toBe('Alice "A" Liddell');
    expect(m.from.params.tag).toBe('1928301774');
    expect(m.to.uri.user).toBe('bob');
    expect(m.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.headers.get('subject')).toBe('folded header value');
    expect(m.headers.get('x-customer-id')).toBe('42');
    expect(m.headers.getAll('Allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(m.headers.get('Content-Type')).toBe('application/sdp');
    expect(m.body.toString()).toBe('v=0\r');
    const contacts = parseNameAddrList(m.headers.getAll('contact'));
    expect(contacts).toHaveLength(2);
    if (contacts instanceof SipParseError) throw new Error();
    expect(contacts[0]?.params.expires).toBe('60');
    expect(contacts[1]?.params.q).toBe('0.5');
    expect(contacts[1]?.uri.host).toBe('10.0.0.1');
  });

  it('parses a response and round-trips through serialize', () => {
    const raw =
      'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKx;received=1.2.3.4;rport=999\r\n' +
      'From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    const m = parseOk(raw);
    expect(m.kind === 'response' && m.status).toBe(180);
    const again = parseOk(serialize(m));
    expect(again).toEqual(m);
  });

  it('parses a tortuous but valid request (spacing, tabs, folding, mixed case, IPv6)', () => {
    const raw = [
      'OPTIONS sip:%61lice@[2001:db8::10]:5070;Transport=UDP;lr SIP/2.0',
      'vIa  :  SIP / 2.0 / udp   [2001:db8::9]:5061 ;branch = z9hG4bK-tort ;  rport',
      '\t,SIP/2.0/TCP host.example.org;branch=z9hG4bK2;received=192.0.2.7',
      'TO\t:\t"Bob \\\\ the \\"Builder\\"" <sip:bob@example.org?Subject=hi>',
      'from: sip:caller@example.org;tag=x.y-z',
      'cseq:\t  0009  OPTIONS',
      "Call-Id: odd!id%*_+`'~@[2001:db8::9]",
      'Max-Forwards: 0070',
      'Unknown-Header:  text with  spaces, and;semicolons',
      ' folded onto two lines',
      'Route: <sip:p1.example.org;lr>, "Proxy Two" <sip:p2.example.org;lr>',
      'L: 0',
      '',
      '',
    ].join('\r\n');
    const m = parseOk(raw) as SipRequest;
    expect(m.method).toBe('OPTIONS');
    expect(parseUri(m.uri)).toMatchObject({
      user: '%61lice',
      host: '[2001:db8::10]',
      port: 5070,
      params: { transport: 'UDP', lr: null },
    });
    expect(m.vias).toHaveLength(2);
    expect(m.vias[0]).toMatchObject({
      transport: 'UDP',
      host: '[2001:db8::9]',
      port: 5061,
      params: { branch: 'z9hG4bK-tort', rport: null },
    });
    expect(m.vias[1]?.params.received).toBe('192.0.2.7');
    expect(m.to.display).toBe('Bob \\ the "Builder"');
    expect(m.to.uri.headers).toBe('Subject=hi');
    expect(m.from.params.tag).toBe('x.y-z');
    expect(m.cseq).toEqual({ seq: 9, method: 'OPTIONS' });
    expect(m.callId).toBe("odd!id%*_+`'~@[2001:db8::9]");
    expect(m.headers.get('unknown-header')).toBe(
      'text with  spaces, and;semicolons folded onto two lines',
    );
    const routes = parseNameAddrList(m.headers.getAll('route'));
    expect(routes instanceof SipParseError ? [] : routes.map((r) => r.uri.host)).toEqual([
      'p1.example.org',
      'p2.example.org',
    ]);
    expect(parseOk(serialize(m))).toEqual(m);
  });

  it('parses URIs with user, password, port, params, headers and IPv6', () => {
    expect(parseUri('sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr?subject=x')).toEqual({
      scheme: 'sip',
      user: 'alice',
      password: 'secret',
      host: '[2001:db8::1]',
      port: 5070,
      params: { transport: 'tcp', lr: null },
      headers: 'subject=x',
    });
    expect(parseUri('tel:+15551234;phone-context=x')).toMatchObject({
      scheme: 'tel',
      host: '+15551234',
    });
    expect(parseUri('sip:a@host:99999')).toBeInstanceOf(SipParseError);
    expect(parseUri('nonsense')).toBeInstanceOf(SipParseError);
  });

  it('treats params after a bare addr-spec as header params', () => {
    const a = parseNameAddr('sip:alice@example.com;tag=abc');
    if (a instanceof SipParseError) throw new Error();
    expect(a.params.tag).toBe('abc');
    expect(a.uri.params).toEqual({});
    expect(formatNameAddr(a)).toBe('<sip:alice@example.com>;tag=abc');
  });

  it('returns typed errors for malformed input', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty'],
      ['HELLO\r\n\r\n', 'start-line'],
      ['INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n', 'missing-header'],
      [INVITE.replace('l: 4', 'l: 400'), 'content-length'],
      [INVITE.replace('l: 4', 'l: x'), 'content-length'],
      [INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 1 BYE'), 'bad-header'],
      [INVITE.replace('Max-Forwards: 70', 'Max-Forwards 70'), 'header'],
      [INVITE.replace('Max-Forwards: 70', `X-Big: ${'b'.repeat(9000)}`), 'too-large'],
    ];
    for (const [raw, code] of cases) {
      const r = parseMessage(Buffer.from(raw, 'latin1'));
      expect(r).toBeInstanceOf(SipParseError);
      expect((r as SipParseError).code).toBe(code);
    }
    const bad = parseMessage(
      Buffer.from(INVITE.replace('l: 4', 'l: 400'), 'latin1'),
    ) as SipParseError;
    const reply = rawErrorResponse(bad)?.toString() ?? '';
    expect(reply).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(reply).toContain('i: a84b4c76e66710@pc33.atlanta.example.com'.replace('i:', 'Call-ID:'));
  });

  it('property: serialize then parse round-trips', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.\-_]{0,15}$/);
    const host = fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}$/),
      fc.ipV4(),
    );
    const uri = fc.record({
      scheme: fc.constant('sip'),
      user: fc.option(token, { nil: undefined }),
      host,
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      params: fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/),
        fc.option(token, { nil: null }),
        {
          maxKeys: 3,
        },
      ),
    });
    const addr = fc.record({
      display: fc.option(fc.stringMatching(/^[A-Za-z0-9 "\\]{1,20}$/), { nil: undefined }),
      uri,
      params: fc.dictionary(fc.constantFrom('tag', 'expires', 'x'), token, { maxKeys: 2 }),
    });
    const msg = fc.record({
      method: fc.constantFrom('INVITE', 'BYE', 'OPTIONS', 'REGISTER', 'FOO'),
      from: addr,
      to: addr,
      callId: token,
      seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      via: fc.array(fc.record({ host, port: fc.integer({ min: 1, max: 65535 }), branch: token }), {
        minLength: 1,
        maxLength: 3,
      }),
      extra: fc.array(
        fc.tuple(fc.stringMatching(/^X-[A-Za-z]{1,8}$/), fc.stringMatching(/^[ -~]{1,30}$/)),
      ),
      body: fc.uint8Array({ maxLength: 200 }),
    });
    fc.assert(
      fc.property(msg, (g) => {
        const req: SipRequest = {
          kind: 'request',
          method: g.method,
          uri: 'sip:target@example.com',
          vias: g.via.map((v) => ({
            transport: 'UDP',
            host: v.host,
            port: v.port,
            params: { branch: v.branch },
          })),
          from: g.from.display?.trim() ? g.from : { uri: g.from.uri, params: g.from.params },
          to: g.to.display?.trim() ? g.to : { uri: g.to.uri, params: g.to.params },
          callId: g.callId,
          cseq: { seq: g.seq, method: g.method },
          headers: new Headers(),
          body: Buffer.from(g.body),
        };
        for (const [n, v] of g.extra) req.headers.append(n, v.trim() === '' ? 'x' : v.trim());
        const once = parseOk(serialize(req));
        const twice = parseOk(serialize(once));
        expect(twice).toEqual(once);
        expect(once.body.equals(req.body)).toBe(true);
        expect(once.callId).toBe(req.callId);
        expect(once.from.uri).toEqual(req.from.uri);
        expect(once.from.display?.trim()).toBe(req.from.display?.trim());
        expect(once.headers.list.map((h) => h.value)).toEqual(req.headers.list.map((h) => h.value));
      }),
      { numRuns: 300 },
    );
  });

  it('property: random bytes and mutated messages never throw', () => {
    const base = Buffer.from(INVITE, 'latin1');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
          fc
            .tuple(
              fc.integer({ min: 0, max: base.length - 1 }),
              fc.uint8Array({ minLength: 1, maxLength: 8 }),
            )
            .map(([at, junk]) =>
              Buffer.concat([base.subarray(0, at), Buffer.from(junk), base.subarray(at)]),
            ),
          fc.integer({ min: 0, max: base.length }).map((n) => base.subarray(0, n)),
        ),
        (buf) => {
          const r = parseMessage(buf);
          if (r instanceof SipParseError) rawErrorResponse(r);
          else serialize(r);
          const f = new StreamFramer();
          f.push(buf);
          for (let i = 0; i < 10 && f.next() !== null; i++);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('StreamFramer', () => {
  it('frames messages split and coalesced across chunks', () => {
    const a = Buffer.from(INVITE.replace('v=0\r\nextra', 'v=0\r'), 'latin1');
    const both = Buffer.concat([Buffer.from('\r\n\r\n'), a, a]);
    const f = new StreamFramer();
    const out: string[] = [];
    for (let i = 0; i < both.length; i += 7) {
      f.push(both.subarray(i, i + 7));
      for (let fr = f.next(); fr !== null; fr = f.next()) {
        out.push(fr.kind);
        if (fr.kind === 'message') expect(parseOk(fr.data).body.toString()).toBe('v=0\r');
      }
    }
    expect(out).toEqual(['ping', 'message', 'message']);
    expect(f.buffered).toBe(0);
  });

  it('fails on a missing Content-Length and on huge headers', () => {
    const f = new StreamFramer();
    f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n'));
    expect(f.next()).toMatchObject({ kind: 'error', error: { code: 'content-length' } });
    const g = new StreamFramer(1000);
    g.push(Buffer.alloc(2000, 0x41));
    expect(g.next()).toMatchObject({ kind: 'error', error: { code: 'too-large' } });
  });
});
