// bench/messaging: (1) accepted messages/s through the API (autocannon POSTing Messages.json),
// (2) end-to-end messages/s: API accept -> route -> provider queue -> SMPP -> test SMSC ->
// delivery receipt -> signed status callback received here. The platform runs in its own
// process (`switchboard serve`, from its bundle as `npm start` runs it); the two test SMSCs, the callback receiver and the load
// generator run in this one.
//   npx tsx bench/messaging.ts [--seconds 10 --connections 50 --messages 10000 --binds 4
//     --window 50 --pipelining 8 --no-kannel --profile DIR]
// The end-to-end run is made twice: status callbacks one at a time per connection (the
// default), then pipelined (--pipelining, SWITCHBOARD_CALLBACK_PIPELINING; the platform restarts).
// Kannel (Debian's bearerbox + smsbox, `scripts/setup-system.sh --bench`) is then driven with the same
// load against the same test SMSC (bench/kannel.ts); without it that part is skipped, loudly.
// DATABASE_URL / REDIS_URL in the environment select PostgreSQL + Redis (BullMQ queues).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { TestSmsc } from '../test/support/smsc.js';
import { bundle } from '../scripts/bundle.mjs';
import { kannelBinary, runKannel, type KannelFigures } from './kannel.js';
import { cpuSeconds } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 50);
const messages = arg('messages', 10_000);
// Each provider: `binds` SMPP transceiver binds with a window of `window` outstanding submits.
const binds = arg('binds', 4);
const windowSize = arg('window', 50);
const kannel = !process.argv.includes('--no-kannel');
// --profile DIR: the platform process writes a V8 CPU profile there when it exits.
const profileDir = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** CPU seconds of a process's main thread alone (its event loop; threads excluded). */
const mainThreadCpu = (pid: number | undefined) => cpuSeconds(pid, `/proc/${pid}/task/${pid}/stat`);
/** CPU seconds of each thread of a process, by thread id (with its name). */
function threadsCpu(pid: number | undefined): Map<string, { name: string; cpu: number }> {
  const out = new Map<string, { name: string; cpu: number }>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, {
        name: tid === String(pid) ? 'main' : name,
        cpu: cpuSeconds(pid, `/proc/${pid}/task/${tid}/stat`),
      });
    }
  } catch {
    // Not Linux, or the process is gone: no breakdown.
  }
  return out;
}
/** Where the platform's CPU went during a phase, by thread name (µs/message). */
function threadNote(before: Map<string, { name: string; cpu: number }>, n: number): string {
  const by = new Map<string, number>();
  for (const [tid, t] of threadsCpu(child.pid)) {
    const d = t.cpu - (before.get(tid)?.cpu ?? 0);
    const key = process.env.BENCH_BY_TID ? `${t.name}/${tid}` : t.name;
    if (d > 0) by.set(key, (by.get(key) ?? 0) + d);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([name, cpu]) => `${name} ${((cpu / n) * 1e6).toFixed(0)}`)
    .join(', ');
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU used by the platform and by this process (SMSCs, receiver, load) during `run`. */
async function measured<T>(run: () => Promise<T>): Promise<{
  result: T;
  platform: number;
  main: number;
  bench: number;
  wall: number;
  threads: Map<string, { name: string; cpu: number }>;
}> {
  const threads = threadsCpu(child.pid);
  const p0 = cpuSeconds(child.pid);
  const m0 = mainThreadCpu(child.pid);
  const b0 = selfCpu();
  const t0 = Date.now();
  const result = await run();
  return {
    result,
    platform: cpuSeconds(child.pid) - p0,
    main: mainThreadCpu(child.pid) - m0,
    bench: selfCpu() - b0,
    wall: (Date.now() - t0) / 1000,
    threads,
  };
}
const cpuNote = (
  m: {
    platform: number;
    main: number;
    bench: number;
    wall: number;
    threads: Map<string, { name: string; cpu: number }>;
  },
  n: number,
) =>
  `CPU: platform ${((m.platform / n) * 1e6).toFixed(0)} µs/message (${((100 * m.platform) / m.wall).toFixed(0)}% of a core; ` +
  `its main thread ${((m.main / n) * 1e6).toFixed(0)} µs/message, ${((100 * m.main) / m.wall).toFixed(0)}% of a core), ` +
  `bench process ${((100 * m.bench) / m.wall).toFixed(0)}% of a core\n` +
  `  platform threads, µs/message: ${threadNote(m.threads, n)}`;

/** Waits for an autocannon run, noting when its last response came (not its next tick). */
async function lastResponse(
  run: Promise<autocannon.Result>,
  at: (ms: number) => void,
): Promise<autocannon.Result> {
  (run as unknown as autocannon.Instance).on('response', () => at(Date.now()));
  return run;
}

const THROUGHPUT = 20_000;
const loadAverage = () => {
  try {
    return 'load average ' + readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'load average unknown';
  }
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-msg-'));
const accountSid = 'AC' + randomBytes(16).toString('hex');
const authToken = randomBytes(16).toString('hex');
const schema = process.env.DATABASE_URL ? `sbbench_${randomBytes(4).toString('hex')}` : undefined;
const auth = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');

const smscs = [new TestSmsc({ receiptDelayMs: 1 }), new TestSmsc({ receiptDelayMs: 1 })];
for (const s of smscs) await s.start();

// Status callback receiver.
let delivered = 0;
/** When each `delivered` callback arrived (the end-to-end run ends at the last one). */
let deliveredAt: number[] = [];
let callbacks = 0;
const hook = createHttpServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    callbacks++;
    if (body.includes('MessageStatus=delivered')) {
      delivered++;
      deliveredAt.push(Date.now());
    }
    res.writeHead(204).end();
  });
});
let hookConnections = 0;
hook.on('connection', () => hookConnections++);
await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/status`;

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
/** Status callbacks per keep-alive connection of the opt-in run (SWITCHBOARD_CALLBACK_PIPELINING). */
const pipelined = arg('pipelining', 8);
/** Starts the platform (again, on the same data: its providers are kept). */
function launch(callbackPipelining: number) {
  return spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      // From its bundle, as `npm start` runs it.
      bundled,
      'serve',
    ],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_ACCOUNT_SID: accountSid,
        SWITCHBOARD_AUTH_TOKEN: authToken,
        SWITCHBOARD_SIP: 'false',
        LOG_LEVEL: 'warn',
        SWITCHBOARD_REDIS_PREFIX: redisPrefix,
        SWITCHBOARD_CALLBACK_PIPELINING: String(callbackPipelining),
        ...(schema ? { SWITCHBOARD_DATABASE_SCHEMA: schema } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}
const bundled = await bundle('src/cli/main.ts');
const redisPrefix = `sbbench:${randomBytes(3).toString('hex')}:`;
// The default first: one status callback at a time per keep-alive connection.
let child = launch(1);
const stopPlatform = async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
  child.kill('SIGKILL');
};
const stopAll = async () => {
  await stopPlatform();
  for (const s of smscs) await s.close();
  hook.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (schema && process.env.DATABASE_URL) {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
};

try {
  await until(
    async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200,
    60_000,
    'platform',
  );
  for (const [i, s] of smscs.entries()) {
    const form = new URLSearchParams({
      Name: `smsc${i}`,
      Settings: JSON.stringify({
        host: '127.0.0.1',
        port: s.port,
        systemId: 'test',
        password: 'secret',
        binds,
        window: windowSize,
      }),
      Prices: JSON.stringify({ '44': 0.02 + i * 0.005 }),
      Throughput: String(THROUGHPUT),
    });
    const r = await fetch(`${url}/messaging/v1/Providers`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (r.status !== 201) throw new Error(`provider: ${r.status} ${await r.text()}`);
  }
  await until(() => smscs.every((s) => s.boundSessions() === binds), 20_000, 'binds');
  console.log(
    `load: ${loadAverage()}; providers: ${smscs.length} test SMSCs, each ${binds} binds x window ${windowSize}, ` +
      `Throughput ${THROUGHPUT}/s each (far above the offered load: rate limits are honoured but not the bottleneck)`,
  );
  if (kannel && !kannelBinary()) {
    console.log(
      '!!! bearerbox not found: the Kannel comparison will be skipped (scripts/setup-system.sh --bench, or apt-get install kannel)',
    );
  }
  const submits = () => smscs.reduce((n, s) => n + s.submits.length, 0);

  const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const post = (body: string) => ({
    url: url + path,
    method: 'POST' as const,
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });

  // (1) Accepted messages/s.
  const plain = 'To=%2B447700900123&From=%2B15550001111&Body=benchmark%20message';
  const withCallback = `${plain}&StatusCallback=${encodeURIComponent(hookUrl)}`;
  // Warm-up, unmeasured, through both paths measured below (with and without callbacks), so
  // that neither figure includes the JIT compiling code that first gets hot in its phase.
  const warm = await autocannon({ ...post(plain), connections, duration: 2 });
  const warmCb = await autocannon({ ...post(withCallback), connections, duration: 2 });
  await until(
    () => submits() >= warm['2xx'] + warmCb['2xx'] && delivered >= warmCb['2xx'],
    600_000,
    'warm-up drained',
  );
  const warmed = warm['2xx'] + warmCb['2xx'];
  const acceptRun = await measured(async () => {
    const a = await autocannon({ ...post(plain), connections, duration: seconds });
    const before = Date.now();
    // Let the backlog reach the SMSCs before the end-to-end run.
    await until(() => submits() >= warmed + a['2xx'], 600_000, 'backlog drained');
    return { a, drainS: (Date.now() - before) / 1000 };
  });
  const { a, drainS } = acceptRun.result;
  const accepted = a['2xx'];
  console.log(
    `accepted through the API: ${Math.round(a.requests.average)} messages/s, p99 ${a.latency.p99} ms ` +
      `(${accepted} in ${seconds} s, ${a.non2xx} non-2xx, ${connections} connections); ` +
      `its backlog reached the SMSCs ${drainS.toFixed(1)} s after it ended`,
  );
  console.log(`  ${cpuNote(acceptRun, accepted)} (accept + submit, no callbacks)`);

  // (2) End to end, with status callbacks. It ends when the last delivered callback arrives
  // (autocannon itself only reports that it is done at its next one-second tick).
  const endToEnd = async (label: string) => {
    delivered = 0;
    deliveredAt = [];
    callbacks = 0;
    hookConnections = 0; // new ones only: those of the warm-up stay open
    const t0 = Date.now();
    let acceptedAt = 0;
    const run = await measured(async () => {
      const r = await lastResponse(
        autocannon({ ...post(withCallback), connections, amount: messages }),
        (at) => (acceptedAt = at),
      );
      await until(() => delivered >= r['2xx'], 600_000, 'delivered callbacks');
      return r;
    });
    const r = run.result;
    const took = (deliveredAt[r['2xx'] - 1]! - t0) / 1000;
    console.log(
      `end to end, ${label} (accept -> SMSC -> receipt -> delivered callback): ${Math.round(r['2xx'] / took)} messages/s ` +
        `(${r['2xx']} messages in ${took.toFixed(2)} s; accepting took ${((acceptedAt - t0) / 1000).toFixed(2)} s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; ` +
        `${callbacks} callbacks, ${hookConnections} new connections for them)`,
    );
    console.log(`  ${cpuNote(run, r['2xx'])}`);
    return { run, b: r, elapsed: took, callbacks };
  };
  const first = await endToEnd('status callbacks one at a time per connection (the default)');
  const { run: e2e, b, elapsed } = first;
  const backend = `${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'} + ${process.env.REDIS_URL ? 'BullMQ/Redis' : 'SQL'} queues`;

  // (3) The same with status callbacks pipelined (SWITCHBOARD_CALLBACK_PIPELINING, the
  // operator's opt-in): the platform restarts on the same data, its providers bind again.
  await stopPlatform();
  child = launch(pipelined);
  await until(
    async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200,
    60_000,
    'platform (restarted)',
  );
  await until(() => smscs.every((s) => s.boundSessions() === binds), 20_000, 'binds again');
  delivered = 0;
  const warmAgain = await autocannon({ ...post(withCallback), connections, duration: 2 });
  await until(() => delivered >= warmAgain['2xx'], 600_000, 'warm-up drained (restarted)');
  const second = await endToEnd(`status callbacks pipelined ${pipelined} per connection (opt-in)`);
  console.log(
    `status callbacks: one at a time ${Math.round(b['2xx'] / elapsed)} messages/s, ` +
      `pipelined ${pipelined} ${Math.round(second.b['2xx'] / second.elapsed)} messages/s end to end`,
  );
  console.log(`backend: ${backend}; ${loadAverage()}`);

  if (kannel) {
    // The platform stops first so that Kannel has the machine Switchboard had.
    await stopPlatform();
    const common = {
      smscPort: smscs[0]!.port,
      seconds,
      connections,
      messages,
      freePort,
      until,
      submits: () => smscs[0]!.submits.length,
      boundSessions: () => smscs[0]!.boundSessions(),
      cpuSeconds,
    };
    const figures: [string, KannelFigures | undefined][] = [];
    // Kannel's defaults first; then, step by step, what Switchboard does for each message:
    // a callback when the SMSC accepts it as well as when it is delivered, and a store that
    // keeps an accepted message through a crash.
    // Kannel as installed first (one SMPP connection, its default window of 10, no store, one
    // report per message); then with the window of one of Switchboard's binds (--window, 50), and, step
    // by step, what Switchboard does for each message: a callback when the SMSC accepts it as
    // well as when it is delivered, and a store that keeps an accepted message through a crash.
    for (const [name, window, durable, reports] of [
      [
        'Kannel as installed (window 10, no store: accepted messages do not survive a crash, final report only)',
        undefined,
        false,
        'delivered',
      ],
      [`Kannel, window ${windowSize}, no store, final report only`, windowSize, false, 'delivered'],
      [
        `Kannel, window ${windowSize}, no store, sent + delivered reports (two callbacks, as Switchboard)`,
        windowSize,
        false,
        'sent+delivered',
      ],
      [
        `Kannel, window ${windowSize}, store-type spool, sent + delivered reports (durable and two callbacks, as Switchboard)`,
        windowSize,
        true,
        'sent+delivered',
      ],
    ] as const) {
      const f = await runKannel({
        ...common,
        durable,
        reports,
        ...(window ? { window } : {}),
      }).catch((e: Error) => {
        console.log(`!!! ${name} failed: ${e.message}`);
        return undefined;
      });
      figures.push([name, f]);
      if (!f) break;
    }
    const ours = Math.round(b['2xx'] / elapsed);
    console.log('\nsame run, same SMSC, same load:');
    console.log(
      `  Switchboard (${backend}): accepted ${Math.round(a.requests.average)}/s, ` +
        `end to end ${ours}/s (${first.callbacks / b['2xx']} callbacks/message, callbacks one at a time), ${((e2e.platform / b['2xx']) * 1e6).toFixed(0)} µs CPU/message`,
    );
    for (const [name, f] of figures) {
      if (!f) continue;
      console.log(
        `  ${name}: accepted ${f.acceptedPerSecond}/s (p99 ${f.acceptP99Ms} ms, backlog drained ${f.drainS.toFixed(1)} s after), ` +
          `end to end with delivery reports ${f.endToEndPerSecond}/s (${f.endToEndMessages} in ${f.endToEndS.toFixed(1)} s, ` +
          `${(f.callbacks / f.endToEndMessages).toFixed(1)} callbacks/message), ${f.cpuUsPerMessage} µs CPU/message (bearerbox + smsbox)` +
          ` -> Switchboard end to end ${(ours / f.endToEndPerSecond).toFixed(2)}x`,
      );
    }
    console.log(`  ${loadAverage()}`);
  }
} finally {
  await stopAll();
}
