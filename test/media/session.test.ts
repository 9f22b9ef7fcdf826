import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMediaEngine,
  encodeWav,
  readWav,
  toMono16,
  type DtmfEvent,
  type MediaEngine,
  type MediaSession,
} from '../../src/media/index.js';
import {
  bestCorrelation,
  rms,
  testSignal,
  waitFor,
  windowedResemblance,
  withTimeout,
} from './audio-helpers.js';

let dir: string;
let engine: MediaEngine;

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

/** Two legs that talk to each other: `a` offers, `b` answers. */
async function pair(
  codecsA: ('PCMU' | 'PCMA')[] = ['PCMU', 'PCMA'],
  codecsB: ('PCMU' | 'PCMA')[] = ['PCMU', 'PCMA'],
): Promise<[MediaSession, MediaSession]> {
  const a = await engine.createSession({ codecs: codecsA });
  const b = await engine.createSession({ codecs: codecsB });
  const answer = b.answerOffer(a.createOffer());
  expect(answer).toBeDefined();
  expect(a.applyAnswer(answer!)).toBe(true);
  return [a, b];
}

async function readRecording(path: string): Promise<Int16Array> {
  return toMono16(readWav(await readFile(path)));
}

describe('two RTP sessions on 127.0.0.1', () => {
  it('carry a played WAV that the other side records recognisably', async () => {
    const [a, b] = await pair();
    const source = testSignal(1.5);
    const wavPath = join(dir, 'source.wav');
    await writeFile(wavPath, encodeWav(source));
    const prompt = await engine.prompts.file(wavPath);
    expect(prompt.samples.length).toBe(source.length);

    const recording = engine.record(b, join(dir, 'rec.wav'), { mode: 'in' });
    const both = engine.record(a, join(dir, 'both.wav')); // a's leg, both directions mixed
    const playback = a.play(prompt);
    expect(await withTimeout(playback.done, 10_000, 'playback')).toBe('finished');
    await new Promise((r) => setTimeout(r, 200)); // let the tail arrive
    const result = await recording.stop();
    expect(result.durationMs).toBeGreaterThanOrEqual(1500);

    const rec = await readRecording(result.path);
    // Shape: every 200 ms of the source is found in the recording (G.711 keeps ≈0.99).
    const shape = windowedResemblance(source, rec, 8000);
    expect(shape.median).toBeGreaterThan(0.95);
    expect(shape.fractionAbove09).toBeGreaterThanOrEqual(0.75);
    // Energy: the loud part of the recording carries the source's energy.
    const { lag } = bestCorrelation(source.subarray(0, 1600), rec, 8000);
    const energy = rms(rec, lag, lag + source.length) / rms(source);
    expect(energy).toBeGreaterThan(0.8);
    expect(energy).toBeLessThan(1.2);
    // The mixed recording of the sending leg holds what it sent, sample-exact.
    const mixed = await readRecording((await both.stop()).path);
    expect(bestCorrelation(source, mixed, 8000).value).toBeGreaterThan(0.99);
    expect(a.stats.packetsSent).toBeGreaterThanOrEqual(75);
    expect(b.stats.packetsReceived).toBeGreaterThanOrEqual(75);
    a.close();
    b.close();
  });

  it('sends DTMF that the other side detects once per digit', async () => {
    const [a, b] = await pair();
    const got: DtmfEvent[] = [];
    b.on('dtmf', (e) => got.push(e));
    await withTimeout(a.sendDtmf('19*#'), 10_000, 'dtmf send');
    await waitFor(() => got.length >= 4, 5_000, 'four digits');
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((e) => e.digit).join('')).toBe('19*#');
    expect(got.every((e) => e.source === 'rfc4733' && e.durationMs === 100)).toBe(true);
    a.close();
    b.close();
  });

  it('latches to where packets come from, not to the advertised address', async () => {
    const wrong = createMediaEngine({
      bindAddress: '127.0.0.1',
      publicAddress: '127.0.0.2', // nothing listens there
      portRange: '0',
      rtpTimeoutS: 0,
      dataDir: dir,
    });
    try {
      const a = await wrong.createSession();
      const b = await engine.createSession();
      const latched: string[] = [];
      b.on('latched', (addr, port) => latched.push(`${addr}:${port}`));
      a.applyAnswer(b.answerOffer(a.createOffer())!);
      expect(b.remoteTarget?.address).toBe('127.0.0.2');
      await waitFor(() => a.stats.packetsReceived > 5, 5_000, 'packets reaching a');
      expect(latched).toEqual([`127.0.0.1:${a.localPort}`]);
      a.close();
      b.close();
    } finally {
      wrong.close();
    }
  });

  it('holds: a sendonly offer stops the peer sending, and resumes', async () => {
    const [a, b] = await pair();
    await waitFor(() => a.stats.packetsReceived > 3, 5_000, 'media flowing');
    const answer = b.answerOffer(a.createOffer({ direction: 'sendonly' }));
    expect(answer).toContain('a=recvonly');
    a.applyAnswer(answer!);
    expect(a.direction).toBe('sendonly');
    expect(b.direction).toBe('recvonly');
    await new Promise((r) => setTimeout(r, 100));
    const sentByB = b.stats.packetsSent;
    const sentByA = a.stats.packetsSent;
    // Silence keeps flowing to the held peer; the held peer sends nothing meanwhile.
    await waitFor(() => a.stats.packetsSent > sentByA + 5, 5_000, 'a sending on hold');
    expect(b.stats.packetsSent).toBe(sentByB);
    a.applyAnswer(b.answerOffer(a.createOffer({ direction: 'sendrecv' }))!);
    await waitFor(() => b.stats.packetsSent > sentByB + 3, 5_000, 'resumed');
    a.close();
    b.close();
  });

  it('emits rtp-timeout when the peer stops sending', async () => {
    const a = await engine.createSession({ rtpTimeoutS: 1 });
    const b = await engine.createSession();
    a.applyAnswer(b.answerOffer(a.createOffer())!);
    let timedOut = false;
    a.on('rtp-timeout', () => (timedOut = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(timedOut).toBe(false);
    b.close();
    await waitFor(() => timedOut, 8_000, 'rtp-timeout');
    a.close();
  });

  it('bridges a PCMU leg to a PCMA leg with transcoding', async () => {
    const [x, a] = await pair(['PCMU'], ['PCMU']);
    const [b, y] = await pair(['PCMA'], ['PCMA']);
    expect(a.negotiated?.codec).toBe('PCMU');
    expect(b.negotiated?.codec).toBe('PCMA');
    const br = engine.bridge(a, b);
    const source = testSignal(1);
    const recording = engine.record(y, join(dir, 'bridged.wav'), { mode: 'in' });
    await withTimeout(
      x.play(engine.prompts.fromSamples('bridge-src', source)).done,
      10_000,
      'playback',
    );
    await new Promise((r) => setTimeout(r, 250));
    const rec = await readRecording((await recording.stop()).path);
    const shape = windowedResemblance(source, rec, 8000);
    expect(shape.median).toBeGreaterThan(0.9);
    expect(shape.fractionAbove09).toBeGreaterThanOrEqual(0.6);
    br.stop();
    for (const s of [x, a, b, y]) s.close();
  });

  it('mixes a conference: each participant hears the others, not itself', async () => {
    const legs = await Promise.all([pair(), pair(), pair()]);
    const mixer = engine.createMixer();
    for (const [, inside] of legs) mixer.add(inside);
    const phones = legs.map(([phone]) => phone);
    const tone = (hz: number): Int16Array =>
      Int16Array.from({ length: 8000 }, (_, i) =>
        Math.round(6000 * Math.sin((2 * Math.PI * hz * i) / 8000)),
      );
    // Only phone 0 speaks.
    const recs = phones.map((p, i) => engine.record(p, join(dir, `conf${i}.wav`), { mode: 'in' }));
    await withTimeout(
      phones[0]!.play(engine.prompts.fromSamples('t', tone(500))).done,
      10_000,
      'play',
    );
    await new Promise((r) => setTimeout(r, 250));
    const heard = await Promise.all(
      recs.map(async (r) => rms(await readRecording((await r.stop()).path))),
    );
    expect(heard[0]).toBeLessThan(50);
    expect(heard[1]).toBeGreaterThan(1500);
    expect(heard[2]).toBeGreaterThan(1500);
    mixer.close();
    for (const [p, q] of legs) {
      p.close();
      q.close();
    }
  });

  it('shrugs off garbage datagrams from strangers and keeps its peer', async () => {
    const { createSocket } = await import('node:dgram');
    const { randomBytes } = await import('node:crypto');
    const [a, b] = await pair();
    await waitFor(() => b.stats.packetsReceived > 3, 5_000, 'media flowing');
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    try {
      for (let i = 0; i < 200; i++) {
        const junk = randomBytes(1 + (i % 200));
        if (i % 2 === 0) junk[0] = 0x80; // half of them look like RTP v2
        await new Promise<void>((r) => stranger.send(junk, b.localPort, '127.0.0.1', () => r()));
      }
      const got: string[] = [];
      b.on('dtmf', (e) => got.push(e.digit));
      await withTimeout(a.sendDtmf('5'), 5_000, 'dtmf');
      await waitFor(() => got.length === 1, 5_000, 'digit after garbage');
      expect(b.remoteTarget).toEqual({ address: '127.0.0.1', port: a.localPort });
      expect(b.stats.invalidPackets).toBeGreaterThan(0);
    } finally {
      stranger.close();
      a.close();
      b.close();
    }
  });

  it('releases ports when sessions close', async () => {
    const before = engine.stats().portsInUse;
    const s = await engine.createSession();
    expect(engine.stats().portsInUse).toBe(before + 1);
    s.close();
    s.close();
    expect(engine.stats().portsInUse).toBe(before);
  });
});

describe('incoming RTP placement', () => {
  it('drops duplicates and late packets, and fills a lost packet with silence', async () => {
    const { createSocket } = await import('node:dgram');
    const { buildRtp } = await import('../../src/media/rtp-packet.js');
    const session = await engine.createSession();
    const offer = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 9 RTP/AVP 0',
      '',
    ].join('\r\n');
    session.answerOffer(offer);
    const recording = engine.record(session, join(dir, 'placed.wav'), { mode: 'in' });
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const loud = new Uint8Array(160).fill(0x80); // μ-law full scale positive
    const send = (seq: number): Promise<void> =>
      new Promise((r) =>
        sock.send(
          buildRtp(
            { marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 7 },
            loud,
          ),
          session.localPort,
          '127.0.0.1',
          () => r(),
        ),
      );
    try {
      // 0..9 with 5 lost, 3 duplicated and 2 arriving late (after 4).
      for (const seq of [0, 1, 3, 3, 4, 2, 6, 7, 8, 9]) await send(seq);
      await waitFor(() => session.stats.packetsReceived >= 10, 5_000, 'packets');
      expect(session.stats.latePackets).toBe(2);
      await new Promise((r) => setTimeout(r, 300));
      const rec = await readRecording((await recording.stop()).path);
      // 0, 1, silence for 2 (it came late), 3, 4, silence for 5 (lost), 6..9: 8 loud frames.
      let loudSamples = 0;
      for (const v of rec) if (v > 30000) loudSamples++;
      expect(loudSamples).toBe(8 * 160);
    } finally {
      sock.close();
      session.close();
    }
  });
});
