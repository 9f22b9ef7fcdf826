import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createSipEngine, type IncomingCall, type SipEngine } from './index.js';

const sdp = (port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n`;

const engines: SipEngine[] = [];
async function engine(opts: Parameters<typeof createSipEngine>[0] = {}): Promise<SipEngine> {
  const e = await createSipEngine({ host: '127.0.0.1', port: 0, ...opts });
  engines.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function nextCall(e: SipEngine): Promise<IncomingCall> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no INVITE within 5 s')), 5000);
    e.once('invite', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
}

function within<T>(p: Promise<T>, ms = 5000, what = 'event'): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms),
    ),
  ]);
}

describe.each(['udp', 'tcp'] as const)('engine to engine over %s', (transport) => {
  it('answers, exchanges INFO and re-INVITE, and hangs up from the callee', async () => {
    const a = await engine();
    const b = await engine();
    const incoming = nextCall(b);
    const out = a.invite(`sip:bob@127.0.0.1:${b.port};transport=${transport}`, {
      from: 'alice',
      sdp: sdp(4000),
      headers: { 'X-Customer': 'c-42' },
    });
    const call = await incoming;
    expect(call.xHeaders).toEqual({ 'X-Customer': 'c-42' });
    expect(call.sdp?.toString()).toContain('m=audio 4000');
    expect(call.from.uri.user).toBe('alice');
    call.trying();
    call.ringing();
    const acked = call.answer(sdp(5000));
    const result = await within(out.result);
    expect(result.answered).toBe(true);
    if (result.answered) expect(result.sdp?.toString()).toContain('m=audio 5000');
    expect(await within(acked)).toBe(true);

    const infos: string[] = [];
    call.on('info', (i) => infos.push(i.body.toString()));
    expect(
      await within(out.sendInfo('Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay')),
    ).toBe(200);
    expect(infos).toEqual(['Signal=5\r\nDuration=160\r\n']);

    call.on('reinvite', (r) => r.accept(sdp(5002)));
    const re = await within(
      out.reinvite(sdp(4000).replace('t=0 0\r\n', 't=0 0\r\na=sendonly\r\n')),
    );
    expect(re.status).toBe(200);
    expect(re.sdp?.toString()).toContain('m=audio 5002');

    const ended = new Promise((r) => out.once('ended', r));
    call.hangup();
    expect(await within(ended)).toBe('bye');
    expect(call.state).toBe('ended');
    expect(a.stats.calls).toBe(0);
    expect(b.stats.calls).toBe(0);
  });

  it('CANCEL before answer ends both sides; rejection codes reach the caller', async () => {
    const a = await engine();
    const b = await engine();
    const incoming = nextCall(b);
    const out = a.invite(`sip:bob@127.0.0.1:${b.port};transport=${transport}`, { sdp: sdp(4000) });
    const call = await incoming;
    const cancelled = new Promise((r) => call.once('cancel', r));
    call.ringing();
    await within(new Promise((r) => out.once('provisional', r)));
    out.cancel();
    await within(cancelled);
    expect(call.state).toBe('ended');
    const r = await out.result;
    expect(r).toMatchObject({ answered: false, cancelled: true });

    const incoming2 = nextCall(b);
    const out2 = a.invite(`sip:bob@127.0.0.1:${b.port};transport=${transport}`, { sdp: sdp(4000) });
    (await incoming2).reject(486);
    expect(await within(out2.result)).toMatchObject({ answered: false, status: 486 });
  });
});

describe('engine behaviour', () => {
  it('fails over to the next trunk on 503 and authenticates a 407 challenge', async () => {
    const a = await engine();
    const busy = await engine();
    const good = await engine();
    busy.on('invite', (c) => c.reject(503));
    let challenged = 0;
    good.on('invite', (c) => {
      if (c.header('proxy-authorization') === undefined) {
        challenged++;
        c.reject(407, undefined, {
          'Proxy-Authenticate': 'Digest realm="trunk", nonce="abc123", algorithm=MD5, qop="auth"',
        });
      } else {
        expect(c.header('proxy-authorization')).toMatch(/username="acct"/);
        void c.answer(sdp(6000));
      }
    });
    const out = a.invite(
      [
        {
          host: '127.0.0.1',
          port: good.port,
          priority: 2,
          credentials: { username: 'acct', password: 'pw' },
        },
        { host: '127.0.0.1', port: busy.port, priority: 1 },
      ],
      { from: '+15550001', to: '+15550002', sdp: sdp(4000) },
    );
    const failovers: number[] = [];
    out.on('failover', (_t, status) => failovers.push(status));
    const r = await within(out.result);
    expect(r.answered).toBe(true);
    expect(failovers).toEqual([503]);
    expect(challenged).toBe(1);
    out.hangup();
  });

  it('sends to an explicit destination (NATed binding source) while keeping the Request-URI', async () => {
    const a = await engine();
    const b = await engine();
    const incoming = nextCall(b);
    const out = a.invite('sip:bob@192.0.2.10:5062', {
      sdp: sdp(1),
      destination: { address: '127.0.0.1', port: b.port },
    });
    const call = await incoming;
    expect(call.request.uri).toBe('sip:bob@192.0.2.10:5062');
    void call.answer(sdp(2));
    expect((await within(out.result)).answered).toBe(true);
    out.hangup();
  });

  it('times out an unanswered call with CANCEL and 408', async () => {
    const a = await engine();
    const b = await engine();
    b.on('invite', (c) => c.ringing());
    const out = a.invite(`sip:x@127.0.0.1:${b.port}`, { sdp: sdp(1), timeoutMs: 300 });
    expect(await within(out.result)).toMatchObject({ answered: false, status: 408 });
  });

  it('answers OPTIONS with 200 and unknown in-dialog requests with 481', async () => {
    const b = await engine();
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString().split('\r\n')[0] ?? ''));
    const req = (method: string, toTag: string): string =>
      `${method} sip:b@127.0.0.1:${b.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${method}${toTag}\r\n` +
      `From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>${toTag}\r\nCall-ID: opt@x\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    sock.send(req('OPTIONS', ''), b.port, '127.0.0.1');
    sock.send(req('BYE', ';tag=nope'), b.port, '127.0.0.1');
    await within(
      new Promise<void>((r) => {
        const t = setInterval(() => {
          if (got.length >= 2) {
            clearInterval(t);
            r();
          }
        }, 10);
      }),
    );
    sock.close();
    expect(got.sort()).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 481 Call/Transaction Does Not Exist']);
  });
});

describe('transaction timers (UDP, short T1)', () => {
  it('retransmits an unACKed 200, then sends BYE; retransmits an unACKed 486; absorbs INVITE retransmissions', async () => {
    const b = await engine({ timers: { T1: 20, T2: 80, T4: 100 } });
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    const lines: string[] = [];
    sock.on('message', (m) => lines.push(m.toString().split('\r\n')[0] ?? ''));
    const invite = (callId: string, branch: string): string =>
      `INVITE sip:b@127.0.0.1:${b.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}\r\n` +
      `From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:${port}>\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${sdp(1).length}\r\n\r\n${sdp(1)}`;
    let invites = 0;
    const endReasons: string[] = [];
    b.on('invite', (c) => {
      invites++;
      c.on('ended', (r) => endReasons.push(r));
      if (c.request.callId === 'ok') void c.answer(sdp(2));
      else c.reject(486);
    });
    sock.send(invite('ok', 'z9hG4bKok'), b.port, '127.0.0.1');
    sock.send(invite('ok', 'z9hG4bKok'), b.port, '127.0.0.1'); // retransmission: absorbed
    sock.send(invite('busy', 'z9hG4bKbusy'), b.port, '127.0.0.1');
    // 64*T1 = 1.28 s until the 2xx gives up and the engine sends BYE.
    await within(
      new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (lines.some((l) => l.startsWith('BYE'))) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      }),
      8000,
      'BYE after missing ACK',
    );
    const oks = lines.filter((l) => l === 'SIP/2.0 200 OK').length;
    const busies = lines.filter((l) => l === 'SIP/2.0 486 Busy Here').length;
    expect(invites).toBe(2);
    expect(oks).toBeGreaterThanOrEqual(3);
    expect(busies).toBeGreaterThanOrEqual(3);
    expect(endReasons.sort()).toEqual(['ack-timeout', 'rejected']);
    sock.close();
  });
});
