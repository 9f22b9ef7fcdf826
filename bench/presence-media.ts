// bench/presence-media: concurrent browser-style WebRTC calls bridged to the RTP engine.
// N simulated Voice SDK clients (the SDK's signalling frames over wss, and a real WebRTC
// peer each — node-datachannel, ICE + DTLS-SRTP, PCMU, as Chromium offers) place calls with
// device.connect's `invite`; the application plays a tone in a loop, so media flows both
// ways through the platform's WebRTC legs, relays and RTP sessions. Once all are up, for a
// measuring window each client sends 50 packets/s and counts what arrives: the platform's
// outgoing rate and jitter (|inter-arrival − 20 ms|, p50/p99) and its CPU.
//   npm run bench:presence-media [-- --calls 200 --seconds 20]
// The clients run in this process, on the same two cores as the platform: the figures are
// what both together manage, not the platform alone.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodeDataChannel from 'node-datachannel';
import { SignalClient, voiceToken } from '../test/support/signal-client.js';
import { startTarget } from './target.js';

const { PeerConnection, Audio } = nodeDataChannel;
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const calls = arg('calls', 200);
const seconds = arg('seconds', 20);

// The customer's web app: the application plays a one-second 8 kHz tone forever.
const tone = (() => {
  const n = 8000;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 800 * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
})();
let origin = '';
const web = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url?.startsWith('/tone.wav'))
      return res.writeHead(200, { 'content-type': 'audio/wav' }).end(tone);
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(`<Response><Play loop="0">${origin}/tone.wav</Play></Response>`);
  });
});
await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
origin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

interface Target {
  tlsPort: number;
  accountSid: string;
  keySid: string;
  secret: string;
  appSid: string;
}
interface Report {
  cpuMs: number;
  rss: number;
}
const { child, target, lines } = await startTarget<Target>(
  new URL('./presence-target.ts', import.meta.url),
  'presence',
  { args: [`${origin}/voice`] },
);
const report = () =>
  new Promise<Report>((resolve) => {
    const on = (line: string) => {
      try {
        const r = (JSON.parse(line) as { report?: Report }).report;
        if (!r) return;
        lines.off('line', on);
        resolve(r);
      } catch {
        // a log line
      }
    };
    lines.on('line', on);
    child.stdin!.write('report\n');
  });
const wss = `wss://127.0.0.1:${target.tlsPort}/signal`;

interface Leg {
  signal: SignalClient;
  pc: InstanceType<typeof PeerConnection>;
  arrivals: number[];
  sent: number;
  send: () => void;
  up: Promise<boolean>;
}

async function placeCall(i: number): Promise<Leg> {
  const signal = await SignalClient.open(wss);
  signal.send('listen', {
    token: voiceToken({
      accountSid: target.accountSid,
      keySid: target.keySid,
      secret: target.secret,
      identity: `bench-${i}`,
      outgoingApplicationSid: target.appSid,
    }),
  });
  await signal.next('connected', 30_000);
  const pc = new PeerConnection(`bench-${i}`, { iceServers: [], bindAddress: '127.0.0.1' });
  const audio = new Audio('0', 'SendRecv');
  audio.addAudioCodec(0, 'PCMU/8000');
  audio.addAudioCodec(101, 'telephone-event/8000');
  const ssrc = (Math.random() * 0xffffffff) >>> 0;
  audio.addSSRC(ssrc, 'bench', 'bench', 'audio');
  const track = pc.addTrack(audio);
  const leg: Leg = {
    signal,
    pc,
    arrivals: [],
    sent: 0,
    send: () => undefined,
    up: Promise.resolve(false),
  };
  let measuring = false;
  track.onMessage((msg) => {
    if (msg.length >= 12 && (msg[1]! & 0x7f) === 0 && measuring)
      leg.arrivals.push(performance.now());
  });
  let seq = 0;
  const packet = Buffer.alloc(12 + 160, 0xff);
  packet[0] = 0x80;
  leg.send = () => {
    measuring = true;
    if (!track.isOpen()) return;
    packet.writeUInt16BE(seq++ & 0xffff, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    packet.writeUInt32BE(ssrc, 8);
    if (track.sendMessageBinary(packet)) leg.sent++;
  };
  leg.up = new Promise((resolve) => {
    track.onOpen(() => resolve(true));
    pc.onStateChange((s) => {
      if (s === 'failed' || s === 'closed') resolve(false);
    });
  });
  const gathered = new Promise<void>((r) =>
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') r();
    }),
  );
  pc.setLocalDescription('offer');
  await gathered;
  const temp = `TJS${i}`;
  signal.send('invite', {
    callsid: temp,
    sdp: pc.localDescription()!.sdp,
    twilio: { params: `To=bench-${i}` },
  });
  const ringing = await signal.next('ringing', 30_000);
  pc.setRemoteDescription(String(ringing.payload.sdp), 'answer');
  await signal.next('answer', 30_000);
  return leg;
}

const idle = await report();
const t0 = performance.now();
const legs: Leg[] = [];
const failures: string[] = [];
for (let i = 0; i < calls; i += 20) {
  const batch = await Promise.allSettled(
    Array.from({ length: Math.min(20, calls - i) }, (_, j) => placeCall(i + j)),
  );
  for (const b of batch)
    if (b.status === 'fulfilled') legs.push(b.value);
    else failures.push(String(b.reason));
}
const connected = (
  await Promise.all(
    legs.map((l) =>
      Promise.race([l.up, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]),
    ),
  )
).filter(Boolean).length;
console.log(
  `${legs.length}/${calls} calls placed and answered in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
    `${connected} with media up${failures.length ? `; failures: ${failures.slice(0, 3).join(' | ')}` : ''}`,
);
const setup = await report();
console.log(
  `platform CPU to set them up: ${(setup.cpuMs / Math.max(1, legs.length)).toFixed(1)} ms per call (idle window ${idle.cpuMs.toFixed(0)} ms)`,
);

// The measuring window: every client sends 50 packets/s.
const ticker = setInterval(() => {
  for (const l of legs) l.send();
}, 20);
await report();
const windowStart = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const window = await report();
clearInterval(ticker);
const elapsedS = (performance.now() - windowStart) / 1000;
const jitter: number[] = [];
let received = 0;
for (const l of legs) {
  received += l.arrivals.length;
  for (let k = 1; k < l.arrivals.length; k++)
    jitter.push(Math.abs(l.arrivals[k]! - l.arrivals[k - 1]! - 20));
}
jitter.sort((a, b) => a - b);
const pct = (p: number) =>
  jitter[Math.min(jitter.length - 1, Math.floor(p * jitter.length))] ?? NaN;
const sent = legs.reduce((s, l) => s + l.sent, 0);
console.log(
  `${legs.length} concurrent calls, ${elapsedS.toFixed(1)} s: platform → clients ${(received / elapsedS / Math.max(1, legs.length)).toFixed(1)} packets/s per call (nominal 50), ` +
    `clients → platform ${(sent / elapsedS / Math.max(1, legs.length)).toFixed(1)} packets/s per call sent; ` +
    `outgoing jitter p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms (target p99 < 20 ms); ` +
    `platform CPU ${((window.cpuMs / (elapsedS * 1000)) * 100).toFixed(0)}% of one core, RSS ${(window.rss / 1048576).toFixed(0)} MiB`,
);

for (const l of legs) {
  l.signal.close();
  l.pc.close();
}
web.close();
child.stdin!.end();
await new Promise((r) => child.once('exit', r));
process.exit(0);
