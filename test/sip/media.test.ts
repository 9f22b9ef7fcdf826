// Calls with media: sipp plays RTP from the Debian sip-tester pcaps into a call the engine
// answered with a media session, which must receive the audio and detect the DTMF digit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createMediaEngine,
  type DtmfEvent,
  type MediaEngine,
  type MediaSession,
} from '../../src/media/index.js';
import {
  answerWithMedia,
  createSipEngine,
  inviteWithMedia,
  type SipEngine,
} from '../../src/sip/index.js';
import { SCENARIOS, counts, freePort, haveSipp, killSipps, runSipp } from './sipp.js';

let sip: SipEngine | undefined;
let media: MediaEngine | undefined;
const dir = mkdtempSync(join(tmpdir(), 'sip-media-'));
afterEach(async () => {
  await sip?.close();
  media?.close();
  sip = media = undefined;
});
afterAll(() => {
  killSipps();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveSipp())('SIP + media against sipp', () => {
  it('receives g711a.pcap audio and detects the RFC 2833 digit from dtmf_2833_1.pcap', async () => {
    media = createMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: '0',
      rtpTimeoutS: 0,
      dataDir: dir,
    });
    sip = await createSipEngine({ host: '127.0.0.1', port: 0 });
    const m = media;
    const digits: DtmfEvent[] = [];
    const sessions: MediaSession[] = [];
    const received: number[] = [];
    sip.on('invite', (call) => {
      call.once('ended', () => received.push(sessions[0]?.stats.packetsReceived ?? -1));
      void answerWithMedia(call, m, { ring: true }).then((s) => {
        if (s === undefined) return;
        sessions.push(s);
        s.on('dtmf', (d) => digits.push(d));
      });
    });
    const r = await runSipp(
      [
        '-sf',
        join(SCENARIOS, 'uac-pcap-dtmf.xml'),
        `127.0.0.1:${sip.port}`,
        '-m',
        '1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort()),
        '-timeout',
        '30s',
      ],
      40,
    );
    expect(counts(r.stdout), r.stderr).toEqual({ ok: 1, failed: 0 });
    expect(digits.map((d) => d.digit)).toEqual(['1']);
    expect(digits[0]?.source).toBe('rfc4733');
    expect(sessions[0]?.negotiated?.codec).toBe('PCMA');
    // g711a.pcap holds 236 packets; allow for a few lost on a loaded box.
    expect(received[0]).toBeGreaterThan(200);
    expect(sessions[0]?.isClosed).toBe(true);
  }, 60_000);
});

describe('SIP + media, engine to engine', () => {
  it('inviteWithMedia/answerWithMedia: negotiated both ways, INFO DTMF reaches the session, hold by re-INVITE, ports released', async () => {
    media = createMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: '0',
      rtpTimeoutS: 0,
      dataDir: dir,
    });
    sip = await createSipEngine({ host: '127.0.0.1', port: 0 });
    const m = media;
    const callee = await createSipEngine({ host: '127.0.0.1', port: 0 });
    try {
      const answered = new Promise<MediaSession | undefined>((resolve) =>
        callee.on('invite', (call) => void answerWithMedia(call, m).then(resolve)),
      );
      const { call, session } = await inviteWithMedia(sip, m, `sip:bob@127.0.0.1:${callee.port}`, {
        from: 'alice',
      });
      const result = await call.result;
      expect(result.answered).toBe(true);
      const remote = await answered;
      if (remote === undefined) throw new Error('callee did not answer');
      expect(session.negotiated?.codec).toBe('PCMU');
      expect(remote.negotiated?.remotePort).toBe(session.localPort);
      expect(session.negotiated?.remotePort).toBe(remote.localPort);

      const digits: DtmfEvent[] = [];
      remote.on('dtmf', (d) => digits.push(d));
      expect(await call.sendInfo('Signal=7\r\nDuration=160\r\n', 'application/dtmf-relay')).toBe(
        200,
      );
      expect(digits).toMatchObject([{ digit: '7', source: 'info' }]);

      const hold = await call.reinvite(session.createOffer({ direction: 'sendonly' }));
      expect(hold.status).toBe(200);
      expect(remote.direction).toBe('recvonly');

      const before = m.stats().sessions;
      call.hangup();
      const deadline = Date.now() + 5000;
      while (m.stats().sessions > before - 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(session.isClosed).toBe(true);
      expect(remote.isClosed).toBe(true);
    } finally {
      await callee.close();
    }
  });
});
