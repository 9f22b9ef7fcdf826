// bench/api: requests/s and p99 of an authenticated account fetch, next to a bare Fastify
// hello-world in the same run, each server in its own process and the load generator
// (autocannon) in this one. Target (issue 2): at least 50% of bare Fastify's throughput.
//   npm run bench:api [-- --seconds 10 --connections 50 --rounds 3]
// The two servers run side by side and are measured in turns (bare, Switchboard, bare, …):
// on a shared machine whose speed drifts from minute to minute, a ratio of figures taken
// minutes apart says more about the neighbours than about the code. The CPU each server
// spends per request is printed too: it drifts far less than throughput.
// DATABASE_URL / REDIS_URL in the environment select the scale-out backends.
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { cpuSeconds, startTarget } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 50);
const rounds = arg('rounds', 3);

interface Target {
  url: string;
  authorization?: string;
  dialect?: string;
}

interface Server {
  name: string;
  child: ChildProcess;
  target: Target;
  headers: Record<string, string>;
  requests: number;
  seconds: number;
  cpu: number;
  p99: number[];
  errors: number;
  non2xx: number;
}

async function start(name: string, kind: string): Promise<Server> {
  const { child, target } = await startTarget<Target>(
    new URL('./api-target.ts', import.meta.url),
    kind,
  );
  const headers: Record<string, string> = target.authorization
    ? { authorization: target.authorization }
    : {};
  await autocannon({ url: target.url, connections, duration: 2, headers });
  return {
    name: target.dialect ? `${name} (${target.dialect})` : name,
    child,
    target,
    headers,
    requests: 0,
    seconds: 0,
    cpu: 0,
    p99: [],
    errors: 0,
    non2xx: 0,
  };
}

/** One turn of load on one server: its requests/s. */
async function turn(s: Server): Promise<number> {
  const cpu0 = cpuSeconds(s.child.pid);
  const r = await autocannon({
    url: s.target.url,
    connections,
    duration: seconds,
    headers: s.headers,
  });
  s.cpu += cpuSeconds(s.child.pid) - cpu0;
  s.requests += r.requests.total;
  s.seconds += r.duration;
  s.p99.push(r.latency.p99);
  s.errors += r.errors;
  s.non2xx += r.non2xx;
  return r.requests.total / r.duration;
}

const bare = await start('bare Fastify hello-world', 'bare');
const switchboard = await start(
  'Switchboard GET /2010-04-01/Accounts/{Sid}.json, authenticated, event-logged',
  'switchboard',
);
const ratios: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const b = await turn(bare);
    const s = await turn(switchboard);
    ratios.push(s / b);
    console.log(
      `round ${i + 1}: bare ${Math.round(b)} req/s, Switchboard ${Math.round(s)} req/s = ${(100 * (s / b)).toFixed(1)}%`,
    );
  }
} finally {
  for (const s of [bare, switchboard]) {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }
}

console.log(
  `\nbench/api — ${connections} connections, ${rounds} rounds of ${seconds} s each, node ${process.version}\n`,
);
console.log('| target | req/s | p99 ms (worst round) | CPU µs/request | errors | non-2xx |');
console.log('|---|---:|---:|---:|---:|---:|');
const rps = (s: Server) => s.requests / s.seconds;
for (const s of [bare, switchboard])
  console.log(
    `| ${s.name} | ${Math.round(rps(s))} | ${Math.max(...s.p99)} | ${((1e6 * s.cpu) / s.requests).toFixed(1)} | ${s.errors} | ${s.non2xx} |`,
  );
const sorted = [...ratios].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
console.log(
  `\nSwitchboard / bare Fastify throughput: ${((100 * rps(switchboard)) / rps(bare)).toFixed(1)}% over all rounds, median round ${(100 * median).toFixed(1)}% (target ≥ 50%)`,
);
if (switchboard.non2xx > 0)
  console.log(`WARNING: ${switchboard.non2xx} non-2xx answers: the figure is not valid`);
