// bench/voice: inbound SIP calls per second that complete a webhook round-trip and a short
// TwiML script (Say, Hangup), the latency from INVITE to 200 OK (the answer, sent once the
// first document is fetched; sipp measures it), and from INVITE to the first RTP packet the
// engine sends (the <Say>; measured inside the engine). Driven by sipp at a fixed rate.
//   npm run bench:voice [-- --rate 100 --calls 1000 --callbacks]
// Target (issue 4): ≥ 100 calls/s with the webhook on loopback, first-media p99 < 150 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rate = arg('rate', 100);
const calls = arg('calls', 1000);
// --callbacks: the number also has a StatusCallback (ringing, answered, completed per call).
const callbacks = process.argv.includes('--callbacks');

// The customer's web app runs in its own process, as it would in production: in this one it
// would share the platform's event loop and count each stall twice.
const WEB_APP = `
const twiml = '<Response><Say>Hello.</Say><Hangup/></Response>';
let served = 0;
let statuses = 0;
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/count') return res.end(served + ' ' + statuses);
    if (req.url === '/status') { statuses++; return res.writeHead(204).end(); }
    served++;
    res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const webApp = spawn(process.execPath, ['-e', WEB_APP], { stdio: ['ignore', 'pipe', 'inherit'] });
// Never outlives this process (a crash here must not leave it serving).
process.on('exit', () => webApp.kill());
const webPort = await new Promise<number>((resolve) =>
  webApp.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
);
const webUrl = `http://127.0.0.1:${webPort}`;

interface Target {
  sipPort: number;
  dialect: string;
}
interface Report {
  cpuMs: number;
  firstMedia: number[];
}
// The platform runs in its own process, from its bundle, as an operator runs it.
const { child, target, lines } = await startTarget<Target>(
  new URL('./voice-target.ts', import.meta.url),
  'voice',
  {
    args: [`${webUrl}/voice`, ...(callbacks ? [`${webUrl}/status`] : [])],
    // --cpu-prof in SWITCHBOARD_BENCH_NODE_ARGS profiles the platform's process.
    nodeArgs: (process.env.SWITCHBOARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  },
);
const report = () =>
  new Promise<Report>((resolve) => {
    const onLine = (line: string) => {
      if (!line.startsWith('{"report"')) return;
      lines.off('line', onLine);
      resolve((JSON.parse(line) as { report: Report }).report);
    };
    lines.on('line', onLine);
    child.stdin!.write('report\n');
  });
const sipPort = target.sipPort;
await report(); // from here on: the calls' figures only
const work = mkdtempSync(join(tmpdir(), 'sipp-bench-'));
const scenario = new URL('../test/voice/scenarios/uac-short.xml', import.meta.url).pathname;
const started = Date.now();
const loadBefore = loadavg();
const sipp = spawn(
  'timeout',
  [
    '-k',
    '5',
    String(Math.ceil(calls / rate) + 60),
    'sipp',
    '-sf',
    scenario,
    '-s',
    '+15550009999',
    '-r',
    String(rate),
    '-m',
    String(calls),
    '-l',
    String(rate * 5),
    '-i',
    '127.0.0.1',
    '-nostdin',
    '-trace_rtt',
    '-rtt_freq',
    '1',
    '-timeout',
    String(Math.ceil(calls / rate) + 30) + 's',
    `127.0.0.1:${sipPort}`,
  ],
  { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
sipp.stdout.on('data', (d: Buffer) => (out += d.toString()));
sipp.stderr.on('data', (d: Buffer) => (out += d.toString()));
await new Promise((r) => sipp.on('close', r));
const elapsed = (Date.now() - started) / 1000;
// The last calls end (BYE, segment close) just after sipp saw them end.
await new Promise((r) => setTimeout(r, 1000));
const { cpuMs, firstMedia } = await report();

const ok = Number(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(out)?.[1] ?? 0);
const failed = Number(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(out)?.[1] ?? 0);
const rttFile = readdirSync(work).find((f) => f.endsWith('_rtt.csv'));
const rtts = rttFile
  ? readFileSync(join(work, rttFile), 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(';')[1]))
      .filter((v) => Number.isFinite(v) && v > 0)
      .sort((a, b) => a - b)
  : [];
const pct = (p: number) =>
  rtts.length
    ? rtts[Math.min(rtts.length - 1, Math.floor((p / 100) * rtts.length))]!.toFixed(1)
    : 'n/a';

console.log(
  `\nbench/voice — ${calls} calls offered at ${rate}/s${callbacks ? ' with status callbacks' : ''}, node ${process.version}, ${target.dialect}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} after\n`,
);
console.log('| figure | value |');
console.log('|---|---:|');
console.log(`| calls completed (sipp: INVITE → 200 → ACK → our BYE) | ${ok} |`);
console.log(`| calls failed | ${failed} |`);
const [webhooks, statuses] = (await (await fetch(`${webUrl}/count`)).text()).split(' ');
console.log(`| webhook round-trips served | ${webhooks} |`);
if (callbacks) console.log(`| status callbacks received | ${statuses} |`);
console.log(
  `| completed calls per second (wall clock incl. ramp) | ${(ok / elapsed).toFixed(1)} |`,
);
console.log(`| INVITE → 200 OK (answer; media starts here) p50 ms | ${pct(50)} |`);
console.log(`| INVITE → 200 OK p99 ms | ${pct(99)} |`);
// CPU time per call survives a shared machine better than latencies do.
console.log(`| platform CPU per completed call ms | ${(cpuMs / Math.max(1, ok)).toFixed(2)} |`);
firstMedia.sort((a, b) => a - b);
const fm = (p: number) =>
  firstMedia.length
    ? firstMedia[
        Math.min(firstMedia.length - 1, Math.floor((p / 100) * firstMedia.length))
      ]!.toFixed(1)
    : 'n/a';
console.log(
  `| INVITE → first RTP packet sent (engine side, ${firstMedia.length} calls) p50 ms | ${fm(50)} |`,
);
console.log(`| INVITE → first RTP packet sent p99 ms | ${fm(99)} |`);
if (!rttFile) console.log(out.slice(-3000));

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
webApp.kill();
rmSync(work, { recursive: true, force: true });
