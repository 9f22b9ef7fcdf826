// What sipp sends when a scenario plays /usr/share/sip-tester/dtmf_2833_*.pcap: PT 101
// telephone-events whose end packet is repeated with the same sequence number. Replayed
// here over UDP into a session that negotiated PT 101.
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaEngine, type MediaEngine } from '../../src/media/index.js';
import { pcapUdpPayloads, waitFor } from './audio-helpers.js';

const PCAPS = '/usr/share/sip-tester';
const present = existsSync(join(PCAPS, 'dtmf_2833_1.pcap'));
if (!present) {
  if (process.env.CI === 'true')
    throw new Error('sip-tester pcaps missing (apt-get install sip-tester)');
  console.warn(
    '\n*** SKIPPING sipp DTMF pcap test: /usr/share/sip-tester is missing (apt-get install sip-tester) ***\n',
  );
}

const OFFER = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');

let engine: MediaEngine;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-media-'));
  engine = createMediaEngine({
    bindAddress: '127.0.0.1',
    portRange: '0',
    rtpTimeoutS: 0,
    dataDir: dir,
  });
});
afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!present)('DTMF as sipp sends it', () => {
  it('detects each digit of the sipp pcaps once', async () => {
    const session = await engine.createSession();
    expect(session.answerOffer(OFFER)).toContain('101 telephone-event/8000');
    const got: string[] = [];
    session.on('dtmf', (e) => got.push(e.digit));
    const sender = createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    try {
      const names = ['1', '5', '9', 'star', 'pound'];
      for (const name of names) {
        const packets = pcapUdpPayloads(readFileSync(join(PCAPS, `dtmf_2833_${name}.pcap`)));
        expect(packets.length).toBeGreaterThan(3);
        for (const p of packets) {
          await new Promise<void>((r) => sender.send(p, session.localPort, '127.0.0.1', () => r()));
        }
      }
      await waitFor(() => got.length >= names.length, 5_000, 'digits');
      await new Promise((r) => setTimeout(r, 400));
      expect(got).toEqual(['1', '5', '9', '*', '#']);
    } finally {
      sender.close();
      session.close();
    }
  });
});
