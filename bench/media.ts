// bench/media: N concurrent RTP sessions each playing a prompt (looped) to a sink in another
// process; reports the outgoing packet interval jitter (|interval − 20 ms| at the receiver,
// p50/p99/p99.9/max), the clock's own lateness, CPU and memory per session. With
// --load, the main thread also does bursts of synchronous work (what SIP parsing, webhooks
// and JSON do in the real process) to show whether pacing needs a worker thread.
//   npx tsx bench/media.ts [--sessions 500] [--seconds 10] [--load 0|1]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createMediaEngine } from '../src/media/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const sessions = arg('sessions', 500);
const seconds = arg('seconds', 10);
const load = arg('load', 0);

const sink = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('./media.sink.ts', import.meta.url).pathname],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: sink.stdout });
const nextLine = (): Promise<string> =>
  new Promise((resolve, reject) => {
    lines.once('line', resolve);
    setTimeout(() => reject(new Error('sink did not answer in 30 s')), 30_000).unref();
  });

const { port } = JSON.parse(await nextLine()) as { port: number };
const dir = await mkdtemp(join(tmpdir(), 'sb-bench-media-'));
const media = createMediaEngine({
  bindAddress: '127.0.0.1',
  portRange: '0',
  rtpTimeoutS: 0,
  dataDir: dir,
});
const tone = Int16Array.from({ length: 8000 * 3 }, (_, i) =>
  Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
);
let prompt = media.prompts.fromSamples('tone', tone);
try {
  prompt = await media.prompts.say('Thank you for calling. Please hold while we connect you.');
} catch {
  // espeak-ng missing: the tone will do
}
const offer = [
  'v=0',
  'o=sink 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  `m=audio ${port} RTP/AVP 0 101`,
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');

const heapBefore = process.memoryUsage();
const list = [];
for (let i = 0; i < sessions; i++) {
  const s = await media.createSession();
  s.answerOffer(offer);
  list.push(s);
}
const heapIdle = process.memoryUsage();
for (const s of list) s.play(prompt, { loop: 0 });

let loadTimer: NodeJS.Timeout | undefined;
if (load) {
  // Every 50 ms, 2-12 ms of synchronous work: JSON round trips of a SIP-sized object.
  const doc = {
    headers: Array.from({ length: 30 }, (_, i) => ({ name: `X-H${i}`, value: 'v'.repeat(40) })),
  };
  loadTimer = setInterval(() => {
    const until = performance.now() + 2 + Math.random() * 10;
    while (performance.now() < until) JSON.parse(JSON.stringify(doc));
  }, 50);
}

await new Promise((r) => setTimeout(r, 1000)); // warm-up
sink.stdin.write('start\n');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const lateStart = media.clock.stats().ticks;
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu = process.cpuUsage(cpu0);
const elapsed = performance.now() - t0;
sink.stdin.write('report\n');
const report = JSON.parse(await nextLine()) as Record<string, number>;
const clock = media.clock.stats();
const late = Float64Array.from(
  clock.lateness.slice(-Math.min(clock.lateness.length, clock.ticks - lateStart)),
).sort();
const work = Float64Array.from(
  clock.work.slice(-Math.min(clock.work.length, clock.ticks - lateStart)),
).sort();
const mem = process.memoryUsage();
if (loadTimer) clearInterval(loadTimer);

const fmt = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toFixed(2);
console.log(
  `bench/media: ${sessions} sessions, ${seconds} s, main-thread load ${load ? 'on' : 'off'}`,
);
console.log(
  `  packets received by sink: ${report.packets} (${fmt((report.packets ?? 0) / (elapsed / 1000))}/s, expected ${sessions * 50}/s)`,
);
console.log(
  `  interval jitter |Δ−20 ms| at the sink: p50 ${fmt(report.p50)} ms, p99 ${fmt(report.p99)} ms, p99.9 ${fmt(report.p999)} ms, max ${fmt(report.max)} ms`,
);
console.log(
  `  clock lateness: p50 ${fmt(late[Math.floor(late.length / 2)])} ms, p99 ${fmt(late[Math.floor(late.length * 0.99)])} ms, skipped ticks ${clock.skipped}`,
);
console.log(
  `  work per tick (all sessions): p50 ${fmt(work[Math.floor(work.length / 2)])} ms, p99 ${fmt(work[Math.floor(work.length * 0.99)])} ms`,
);
console.log(
  `  CPU (engine process): ${fmt(((cpu.user + cpu.system) / 1000 / elapsed) * 100)} % of one core`,
);
console.log(
  `  memory: heap ${fmt((heapIdle.heapUsed - heapBefore.heapUsed) / sessions / 1024)} KiB per idle session, RSS ${fmt(mem.rss / 1048576)} MiB total`,
);
for (const s of list) s.close();
media.close();
sink.stdin.write('exit\n');
await rm(dir, { recursive: true, force: true });
