// bench/presence: Voice SDK signalling at scale, and how fast a call finds a device.
//  1. N simulated SDK clients (the SDK's own frames over wss, not browsers) connect, present
//     an AccessToken and register: the platform's memory per client.
//  2. Each client then heartbeats as the SDK does (a register refresh and the "\n" echo):
//     the platform's CPU per heartbeat.
//  3. SIP INVITE in → <Dial><Client> → `invite` at the client: latency p50/p99 over K calls
//     on the same node (target p99 < 100 ms).
//   npm run bench:presence [-- --clients 5000 --calls 200]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSipEngine } from '../src/sip/index.js';
import { SignalClient, voiceToken } from '../test/support/signal-client.js';
import { startTarget } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const clients = arg('clients', 5000);
const calls = arg('calls', 200);

// The customer's app: every call dials the client "callee".
const web = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end('<Response><Dial timeout="5"><Client>callee</Client></Dial></Response>'),
  );
});
await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
const webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/voice`;

interface Target {
  tlsPort: number;
  sipPort: number;
  accountSid: string;
  keySid: string;
  secret: string;
  number: string;
}
interface Report {
  cpuMs: number;
  rss: number;
  heapUsed: number;
}
const { child, target, lines } = await startTarget<Target>(
  new URL('./presence-target.ts', import.meta.url),
  'presence',
  { args: [webUrl], nodeArgs: ['--expose-gc'] },
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
const token = (identity: string) =>
  voiceToken({
    accountSid: target.accountSid,
    keySid: target.keySid,
    secret: target.secret,
    identity,
  });

// 1. Connect and register N clients, 100 at a time.
const before = await report();
const open: SignalClient[] = [];
const t0 = performance.now();
for (let i = 0; i < clients; i += 100) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(100, clients - i) }, () => SignalClient.open(wss)),
  );
  await Promise.all(
    batch.map(async (c, j) => {
      const r = await c.register(token(`user-${i + j}`));
      if (r.type !== 'ready') throw new Error(`client ${i + j}: ${JSON.stringify(r.payload)}`);
    }),
  );
  open.push(...batch);
}
const registerMs = performance.now() - t0;
const after = await report();
console.log(
  `registered ${clients} clients in ${(registerMs / 1000).toFixed(1)} s; platform memory per client: ` +
    `${((after.rss - before.rss) / clients / 1024).toFixed(1)} KiB RSS, ` +
    `${((after.heapUsed - before.heapUsed) / clients / 1024).toFixed(1)} KiB heap`,
);

// 2. One heartbeat per client (register refresh + "\n"), spread over 5 s, as 30 s of SDK life.
await report();
const spreadMs = 5000;
await Promise.all(
  open.map(
    (c, i) =>
      new Promise<void>((resolve) =>
        setTimeout(
          () => {
            c.ws.send('\n');
            c.send('register', { media: { audio: true } });
            void c.next('ready', 20_000).then(() => resolve());
          },
          (i / open.length) * spreadMs,
        ),
      ),
  ),
);
const beat = await report();
console.log(
  `heartbeats: ${open.length} register refreshes + echoes, platform CPU ${((beat.cpuMs * 1000) / open.length).toFixed(0)} µs per heartbeat`,
);

// 3. INVITE in → invite at the client.
const callee = await SignalClient.open(wss);
await callee.register(token('callee'));
const sip = await createSipEngine({ host: '127.0.0.1', port: 0 });
const latencies: number[] = [];
const sdp = [
  'v=0',
  'o=bench 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 9 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');
for (let i = 0; i < calls; i++) {
  const start = performance.now();
  const call = sip.invite(`sip:${target.number}@127.0.0.1:${target.sipPort}`, {
    from: '+15550000001',
    sdp,
    timeoutMs: 10_000,
  });
  const invite = await callee.next('invite', 10_000);
  latencies.push(performance.now() - start);
  callee.send('reject', { callsid: invite.payload.callsid });
  await call.result;
}
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
console.log(
  `INVITE → invite at the client, same node, ${calls} calls: p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms (target < 100 ms)`,
);

for (const c of open) c.ws.terminate();
callee.close();
await sip.close();
web.close();
child.stdin!.end();
await new Promise((r) => child.once('exit', r));
process.exit(0);
