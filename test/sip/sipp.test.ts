// The SIP engine against sipp, an independent SIP implementation.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createSipEngine,
  type Binding,
  type IncomingCall,
  type SipEngine,
} from '../../src/sip/index.js';
import { SCENARIOS, counts, freePort, haveSipp, killSipps, runSipp, startSipp } from './sipp.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0 101\r\n' +
  'a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n';

const engines: SipEngine[] = [];
async function engine(opts: Parameters<typeof createSipEngine>[0] = {}): Promise<SipEngine> {
  const e = await createSipEngine({ host: '127.0.0.1', port: 0, ...opts });
  engines.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
afterAll(() => killSipps());

function answerAll(e: SipEngine, calls: IncomingCall[] = []): IncomingCall[] {
  e.on('invite', (c) => {
    calls.push(c);
    c.trying();
    c.ringing();
    void c.answer(SDP);
  });
  return calls;
}

function ended(c: IncomingCall): Promise<string> {
  return new Promise((resolve) =>
    c.state === 'ended' ? resolve(c.endReason ?? '') : c.once('ended', resolve),
  );
}

describe.skipIf(!haveSipp())('SIP engine against sipp', () => {
  it('takes inbound calls over UDP, sipp hangs up', async () => {
    const e = await engine();
    const calls = answerAll(e);
    const r = await runSipp(
      [
        '-sn',
        'uac',
        `127.0.0.1:${e.port}`,
        '-m',
        '3',
        '-l',
        '3',
        '-p',
        String(await freePort()),
        '-timeout',
        '20s',
      ],
      30,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 3, failed: 0 });
    expect(r.code).toBe(0);
    expect(await Promise.all(calls.map(ended))).toEqual(['bye', 'bye', 'bye']);
  });

  it('takes an inbound call over TCP', async () => {
    const e = await engine();
    const calls = answerAll(e);
    const r = await runSipp(
      [
        '-sn',
        'uac',
        '-t',
        't1',
        `127.0.0.1:${e.port}`,
        '-m',
        '1',
        '-p',
        String(await freePort()),
        '-timeout',
        '20s',
      ],
      30,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
    expect(calls[0]?.source.transport).toBe('tcp');
    expect(await ended(calls[0] as IncomingCall)).toBe('bye');
  });

  it('hangs up from the engine (BYE to sipp) and exposes X- headers', async () => {
    const e = await engine();
    const calls: IncomingCall[] = [];
    e.on('invite', (c) => {
      calls.push(c);
      void c.answer(SDP).then((acked) => {
        if (acked) c.hangup();
      });
    });
    const r = await runSipp(
      [
        '-sf',
        join(SCENARIOS, 'uac-bye-from-uas.xml'),
        `127.0.0.1:${e.port}`,
        '-m',
        '1',
        '-p',
        String(await freePort()),
        '-timeout',
        '20s',
      ],
      30,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
    expect(calls[0]?.xHeaders).toEqual({ 'X-Trace-Id': 'sipp-1' });
    expect(calls[0]?.endReason).toBe('hangup');
  });

  it('handles CANCEL before answer (200 to CANCEL, 487 to INVITE)', async () => {
    const e = await engine();
    const calls: IncomingCall[] = [];
    let cancelled = 0;
    e.on('invite', (c) => {
      calls.push(c);
      c.on('cancel', () => cancelled++);
      c.ringing();
    });
    const r = await runSipp(
      [
        '-sf',
        join(SCENARIOS, 'uac-cancel.xml'),
        `127.0.0.1:${e.port}`,
        '-m',
        '1',
        '-p',
        String(await freePort()),
        '-timeout',
        '20s',
      ],
      30,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
    expect(cancelled).toBe(1);
    expect(calls[0]?.endReason).toBe('cancel');
  });

  it('places an outbound call answered by a sipp UAS, then hangs up', async () => {
    const e = await engine();
    const port = await freePort();
    const uas = startSipp(['-sn', 'uas', '-p', String(port), '-m', '1', '-timeout', '20s'], 30);
    // sipp needs a moment to bind; INVITE retransmissions (Timer A) cover a late start.
    const call = e.invite(`sip:service@127.0.0.1:${port}`, {
      from: '+15550100',
      sdp: SDP,
      timeoutMs: 10_000,
    });
    const res = await call.result;
    expect(res.answered).toBe(true);
    if (res.answered) expect(res.sdp?.toString()).toContain('m=audio');
    call.hangup();
    const r = await uas.done;
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
    expect(r.code).toBe(0);
  });

  // sipp answers only the first challenge and only MD5; SHA-256 is covered in src/sip/registrar.test.ts.
  it('registers with MD5 digest auth, then unregisters', async () => {
    const algorithms = ['MD5'] as const;
    {
      const added: Binding[] = [];
      const removed: string[] = [];
      const e = await engine({
        registrar: {
          realm: 'switchboard.test',
          secret: 'shared-between-nodes',
          algorithms: [...algorithms],
          lookup: (user) => (user === 'alice' ? { password: 's3cret' } : undefined),
        },
      });
      e.on('binding-added', (b) => added.push(b));
      e.on('binding-removed', (_b, why) => removed.push(why));
      const r = await runSipp(
        [
          '-sf',
          join(SCENARIOS, 'register-auth.xml'),
          `127.0.0.1:${e.port}`,
          '-s',
          'alice',
          '-au',
          'alice',
          '-ap',
          's3cret',
          '-m',
          '1',
          '-p',
          String(await freePort()),
          '-timeout',
          '20s',
        ],
        30,
      );
      expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
      expect(added).toHaveLength(1);
      expect(added[0]?.aor).toBe('sip:alice@127.0.0.1');
      expect(added[0]?.username).toBe('alice');
      expect(removed).toEqual(['unregistered']);
      expect(e.registrar?.lookup('sip:alice@127.0.0.1')).toEqual([]);
    }
  });

  it('survives a malformed-message corpus over UDP and TCP and still takes calls', async () => {
    const e = await engine();
    const calls = answerAll(e);
    const via = (t: string): string => `Via: SIP/2.0/${t} 127.0.0.1:1;branch=z9hG4bKmal`;
    const good = (t: string, extra = '', cl = '0', body = ''): string =>
      `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${via(t)}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: mal@x\r\n` +
      `CSeq: 1 OPTIONS\r\n${extra}Content-Length: ${cl}\r\n\r\n${body}`;
    const corpus = (t: string): Buffer[] => [
      Buffer.from(good(t).slice(0, 60)), // truncated
      Buffer.from(good(t, '', '500', 'short')), // Content-Length larger than the body
      Buffer.from(good(t, '', 'abc')), // bad Content-Length
      Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 7919) % 256)), // binary garbage
      Buffer.from(good(t, `X-Huge: ${'a'.repeat(t === 'UDP' ? 20_000 : 70_000)}\r\n`)), // huge header
      Buffer.from(good(t).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS')), // bad CSeq
      Buffer.from('\x00\x01\x02INVITE\r\n\r\n'),
      Buffer.from(good(t).replace('From: <sip:a@b>;tag=1\r\n', '')), // no From
      Buffer.from(`${good(t).split('\r\n')[0]}\r\n${'X: y\r\n'.repeat(500)}\r\n`), // too many headers
    ];

    // UDP: each datagram on its own; collect what comes back.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString('latin1').split('\r\n')[0] ?? ''));
    for (const b of corpus('UDP')) sock.send(b, e.port, '127.0.0.1');
    // TCP: one connection per item (a framing error closes the connection).
    const tcpReplies: string[] = [];
    for (const b of corpus('TCP')) {
      await new Promise<void>((resolve) => {
        const s = connect(e.port, '127.0.0.1');
        let got = '';
        const t = setTimeout(() => s.destroy(), 1500);
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(t);
          if (got !== '') tcpReplies.push(got.split('\r\n')[0] ?? '');
          resolve();
        });
        s.write(b, () => {
          // A truncated message waits for more bytes: end our side so the server times out/closes.
          setTimeout(() => s.end(), 300);
        });
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    expect(replies.length).toBeGreaterThan(0);
    for (const line of [...replies, ...tcpReplies]) expect(line).toBe('SIP/2.0 400 Bad Request');
    expect(e.stats.malformed).toBeGreaterThanOrEqual(12);

    const r = await runSipp(
      [
        '-sn',
        'uac',
        `127.0.0.1:${e.port}`,
        '-m',
        '2',
        '-p',
        String(await freePort()),
        '-timeout',
        '20s',
      ],
      30,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 2, failed: 0 });
    expect(calls).toHaveLength(2);
  });
});
