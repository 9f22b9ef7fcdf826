// SIP signalling benchmark: sipp (uac) drives call set-up and tear-down against the engine,
// which answers every call (180 + 200, BYE from sipp). Not a test: prints figures.
//
//   npx tsx bench/sip.ts                # rate ladder + 500 concurrent calls held 30 s
//   BENCH_RATES=500,1000 BENCH_HOLD_S=10 npx tsx bench/sip.ts
//
// BENCH_MEDIA=1 adds a run with media: sipp plays g711a.pcap into each call (then holds it),
// the engine answers with a media session and loops a tone back; prints calls ok/failed,
// packets the engine sent per call against the 50/s expected, the media clock's skipped
// ticks, CPU and memory per call with media. Outgoing jitter itself is measured by
// bench/media.ts (receiver in another process).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaEngine, type MediaSession } from '../src/media/index.js';
import { answerWithMedia, createSipEngine, type SipEngine } from '../src/sip/index.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

interface SippOutcome {
  ok: number;
  failed: number;
  seconds: number;
}

function sipp(args: string[], timeoutSec: number): Promise<SippOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-bench-'));
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      'timeout',
      ['-k', '5', String(timeoutSec), 'sipp', ...args, '-i', '127.0.0.1', '-nostdin'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', () => {});
    child.on('close', () => {
      rmSync(dir, { recursive: true, force: true });
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? -1);
      resolve({
        ok: num(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/),
        failed: num(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/),
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

function autoAnswer(e: SipEngine): void {
  e.on('invite', (c) => {
    c.ringing();
    void c.answer(SDP);
  });
}

async function settle(e: SipEngine, maxMs = 40_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (e.stats.calls > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

async function main(): Promise<void> {
  const rates = (process.env.BENCH_RATES ?? '500,1000,1500,2000').split(',').map(Number);
  const holdS = Number(process.env.BENCH_HOLD_S ?? 30);
  const concurrent = Number(process.env.BENCH_CONCURRENT ?? 500);
  const e = await createSipEngine({ host: '127.0.0.1', port: 0 });
  autoAnswer(e);
  let port = 17000 + Math.floor(Math.random() * 1000);

  console.log(
    '# SIP signalling benchmark (sipp uac -> engine, UDP, 2-core box, sipp shares the cores)',
  );
  // Concurrent calls held open (signalling only), memory per call.
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
  const before = process.memoryUsage();
  const held = sipp(
    [
      '-sn',
      'uac',
      `127.0.0.1:${e.port}`,
      '-p',
      String(port++),
      '-r',
      '200',
      '-m',
      String(concurrent),
      '-l',
      String(concurrent),
      '-d',
      String(holdS * 1000),
      '-timeout',
      String(holdS + 60) + 's',
    ],
    holdS + 90,
  );
  let peak = 0;
  let mem = before;
  const sampler = setInterval(() => {
    if (e.stats.calls > peak) {
      peak = e.stats.calls;
      global.gc?.();
      mem = process.memoryUsage();
    }
  }, 250);
  const r = await held;
  clearInterval(sampler);
  await settle(e);
  const perCall = (mem.heapUsed - before.heapUsed) / Math.max(1, peak);
  console.log(
    `concurrent: ${peak} calls held ${holdS}s, ok ${r.ok}, failed ${r.failed}; heap per idle call ≈ ${(perCall / 1024).toFixed(1)} KiB` +
      ` (rss ${(mem.rss / 1048576).toFixed(0)} MiB${global.gc ? '' : ', run with --expose-gc for steadier figures'})`,
  );

  console.log('rate_target_cps  calls  ok  failed  achieved_cps  engine_cpu_%');
  let best = 0;
  for (const rate of rates) {
    const calls = rate * 10;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await sipp(
      [
        '-sn',
        'uac',
        `127.0.0.1:${e.port}`,
        '-p',
        String(port++),
        '-r',
        String(rate),
        '-m',
        String(calls),
        '-l',
        String(rate * 4),
        '-d',
        '0',
        '-timeout',
        '60s',
        '-max_socket',
        '1000',
      ],
      90,
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
    const achieved = r.ok / r.seconds;
    console.log(
      `${String(rate).padStart(15)}  ${String(calls).padStart(5)}  ${r.ok}  ${r.failed}  ${achieved.toFixed(0).padStart(12)}  ${cpuPct.toFixed(0).padStart(12)}`,
    );
    if (r.failed === 0 && r.ok === calls) best = Math.max(best, achieved);
    await settle(e);
  }
  console.log(
    `best sustained rate with zero failed calls: ${best.toFixed(0)} calls/s (includes sipp start-up/drain)`,
  );

  await e.close();
}

async function mediaRun(): Promise<void> {
  const calls = Number(process.env.BENCH_MEDIA_CALLS ?? 200);
  const holdS = Number(process.env.BENCH_MEDIA_HOLD_S ?? 20);
  const rate = Number(process.env.BENCH_MEDIA_RATE ?? 50);
  const dataDir = mkdtempSync(join(tmpdir(), 'sip-bench-media-'));
  const media = createMediaEngine({
    bindAddress: '127.0.0.1',
    portRange: '30000-39999',
    rtpTimeoutS: 0,
    dataDir,
  });
  const e = await createSipEngine({ host: '127.0.0.1', port: 0 });
  const tone = new Int16Array(8000);
  for (let i = 0; i < tone.length; i++)
    tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  const prompt = media.prompts.fromSamples('bench-tone', tone);
  const sessions: Array<{ s: MediaSession; start: number; end: number }> = [];
  e.on('invite', (call) => {
    void answerWithMedia(call, media).then((s) => {
      if (s === undefined) return;
      const rec = { s, start: performance.now(), end: 0 };
      sessions.push(rec);
      s.play(prompt, { loop: 0 });
      call.once('ended', () => (rec.end = performance.now()));
    });
  });
  global.gc?.();
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const skipped0 = media.stats().clockSkippedTicks;
  let peak = 0;
  let mem = before;
  const sampler = setInterval(() => {
    const n = media.stats().sessions;
    if (n > peak) {
      peak = n;
      mem = process.memoryUsage();
    }
  }, 500);
  const r = await sipp(
    [
      '-sf',
      join(import.meta.dirname, '../test/sip/scenarios/uac-pcap-hold.xml'),
      `127.0.0.1:${e.port}`,
      '-p',
      '16999',
      '-mi',
      '127.0.0.1',
      '-mp',
      '36000',
      '-r',
      String(rate),
      '-m',
      String(calls),
      '-l',
      String(calls),
      '-d',
      String(holdS * 1000),
      '-timeout',
      `${holdS + 120}s`,
    ],
    holdS + 180,
  );
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  let ratio = 0;
  for (const x of sessions) {
    const secs = ((x.end || performance.now()) - x.start) / 1000;
    ratio += x.s.stats.packetsSent / Math.max(1, secs * 50);
  }
  console.log(
    `media: ${calls} calls at ${rate}/s held ${holdS}s (sipp plays g711a.pcap, engine loops a tone): ok ${r.ok}, failed ${r.failed}; ` +
      `peak ${peak} sessions; engine sent ${((ratio / Math.max(1, sessions.length)) * 100).toFixed(1)}% of the expected 50 packets/s per call; ` +
      `clock skipped ticks ${media.stats().clockSkippedTicks - skipped0}; engine CPU ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(0)}%; ` +
      `heap per call with media ≈ ${((mem.heapUsed - before.heapUsed) / Math.max(1, peak) / 1024).toFixed(1)} KiB (rss ${(mem.rss / 1048576).toFixed(0)} MiB)`,
  );
  await e.close();
  media.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
if (process.env.BENCH_MEDIA === '1') await mediaRun();
