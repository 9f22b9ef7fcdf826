// bench/media: N concurrent RTP sessions each playing a prompt (looped) to a sink in another
// process; reports the outgoing packet interval jitter (|interval − 20 ms| at the receiver,
// p50/p99/p99.9/max), the clock's lateness and work per tick, CPU and memory per session.
// --load 1: the main thread also does bursts of synchronous work (2-12 ms every 50 ms, what
// SIP parsing, webhooks and JSON do in the real process). --worker 1: the media engine runs
// in a worker thread, so the comparison answers whether pacing needs one.
//   npx tsx bench/media.ts [--sessions 500] [--seconds 10] [--load 0|1] [--worker 0|1]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createMediaEngine } from '../src/media/index.js';

interface EngineReport {
  lateness: number[];
  work: number[];
  skipped: number;
  cpuMs: number;
  heapPerSessionKiB: number;
  rssMiB: number;
}

interface Engine {
  start(): void;
  stop(): Promise<EngineReport>;
  close(): Promise<void>;
}

/** Creates the sessions (in this thread) and reports on them. */
async function runEngine(sessions: number, sinkPorts: readonly number[]): Promise<Engine> {
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
  const offerTo = (sinkPort: number) =>
    [
      'v=0',
      'o=sink 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${sinkPort} RTP/AVP 0 101`,
      'a=rtpmap:101 telephone-event/8000',
      '',
    ].join('\r\n');
  const heapBefore = process.memoryUsage().heapUsed;
  const list = [];
  for (let i = 0; i < sessions; i++) {
    const s = await media.createSession();
    s.answerOffer(offerTo(sinkPorts[i % sinkPorts.length] ?? 0));
    list.push(s);
  }
  const heapPerSessionKiB = (process.memoryUsage().heapUsed - heapBefore) / sessions / 1024;
  for (const s of list) s.play(prompt, { loop: 0 });
  let cpu0 = process.cpuUsage();
  let tick0 = 0;
  return {
    start() {
      cpu0 = process.cpuUsage();
      tick0 = media.clock.stats().ticks;
    },
    async stop() {
      const cpu = process.cpuUsage(cpu0);
      const c = media.clock.stats();
      const n = Math.min(c.lateness.length, c.ticks - tick0);
      return {
        lateness: Array.from(c.lateness.slice(-n)),
        work: Array.from(c.work.slice(-n)),
        skipped: c.skipped,
        cpuMs: (cpu.user + cpu.system) / 1000,
        heapPerSessionKiB,
        rssMiB: process.memoryUsage().rss / 1048576,
      };
    },
    async close() {
      media.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

if (!isMainThread) {
  // Worker: run the engine, obey 'start' / 'stop' / 'close'.
  const { sessions, ports } = workerData as { sessions: number; ports: number[] };
  const engine = await runEngine(sessions, ports);
  parentPort!.on('message', (m: string) => {
    if (m === 'start') engine.start();
    if (m === 'stop') void engine.stop().then((r) => parentPort!.postMessage(r));
    if (m === 'close') void engine.close().then(() => process.exit(0));
  });
  parentPort!.postMessage('ready');
} else {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const sessions = arg('sessions', 500);
  const seconds = arg('seconds', 10);
  const load = arg('load', 0);
  const inWorker = arg('worker', 0) === 1;

  const sink = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./media.sink.ts', import.meta.url).pathname],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: sink.stdout });
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      lines.once('line', resolve);
      setTimeout(() => reject(new Error('sink did not answer in 30 s')), 30_000).unref();
    });
  const { ports } = JSON.parse(await nextLine()) as { ports: number[] };

  process.on('exit', () => sink.kill());
  setTimeout(
    () => {
      console.error('bench/media: gave up after a time limit');
      process.exit(1);
    },
    (seconds + 120) * 1000,
  ).unref();
  let engine: Engine;
  if (inWorker) {
    // Workers do not inherit tsx's loader on Node 20: register it, then load this file.
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { sessions, ports } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    engine = {
      start: () => worker.postMessage('start'),
      stop: () =>
        new Promise<EngineReport>((resolve) => {
          worker.once('message', (r: EngineReport) => resolve(r));
          worker.postMessage('stop');
        }),
      close: () =>
        new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          worker.postMessage('close');
        }),
    };
  } else {
    engine = await runEngine(sessions, ports);
  }

  let loadTimer: NodeJS.Timeout | undefined;
  if (load) {
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
  engine.start();
  const t0 = performance.now();
  const mainCpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = performance.now() - t0;
  const mainCpu = process.cpuUsage(mainCpu0);
  const report = await engine.stop();
  sink.stdin.write('report\n');
  const sinkReport = JSON.parse(await nextLine()) as Record<string, number>;
  if (loadTimer) clearInterval(loadTimer);

  const q = (values: number[], p: number): number => {
    const s = Float64Array.from(values).sort();
    return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  };
  const fmt = (n: number | undefined): string =>
    n === undefined || Number.isNaN(n) ? '-' : n.toFixed(2);
  const where = inWorker ? 'worker thread' : 'main thread';
  console.log(
    `bench/media: ${sessions} sessions on the ${where}, ${seconds} s, main-thread load ${load ? 'on' : 'off'}`,
  );
  console.log(
    `  packets at the sink: ${fmt((sinkReport.packets ?? 0) / (elapsed / 1000))}/s (expected ${sessions * 50}/s)`,
  );
  console.log(
    `  interval jitter |Δ−20 ms| at the sink: p50 ${fmt(sinkReport.p50)} ms, p99 ${fmt(sinkReport.p99)} ms, p99.9 ${fmt(sinkReport.p999)} ms, max ${fmt(sinkReport.max)} ms`,
  );
  console.log(
    `  clock lateness: p50 ${fmt(q(report.lateness, 0.5))} ms, p99 ${fmt(q(report.lateness, 0.99))} ms; skipped ticks ${report.skipped}`,
  );
  console.log(
    `  work per tick (all sessions): p50 ${fmt(q(report.work, 0.5))} ms, p99 ${fmt(q(report.work, 0.99))} ms`,
  );
  const cpuMs = inWorker ? report.cpuMs : (mainCpu.user + mainCpu.system) / 1000;
  console.log(
    `  CPU (engine process${inWorker ? ', engine thread' : ''}): ${fmt((cpuMs / elapsed) * 100)} % of one core`,
  );
  console.log(
    `  memory: ${fmt(report.heapPerSessionKiB)} KiB heap per idle session, RSS ${fmt(report.rssMiB)} MiB`,
  );
  await engine.close();
  sink.stdin.write('exit\n');
}
