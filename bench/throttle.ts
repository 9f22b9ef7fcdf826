// bench/throttle: what error-aware throttling costs and what it saves, next to express-slow-down,
// in one run on one machine. Each server runs in its own process; the load generators
// (autocannon) run in this one.
//   (a) normal traffic (authenticated account fetch) with the throttle on vs off: req/s, p99;
//   (b) a retrying client hammering a 404 for `hammer` s: requests it completes, with and
//       without the throttle, and the p99 of a normal client running at the same time;
//   (c) the same figures for Express 4 with and without express-slow-down.
// Targets (issue 5): (a) ≥ 90% of the throughput, ≤ 1 ms added p99; (b) ≥ 100× fewer requests
// from the hammering client, the normal client's p99 within 10% of its baseline.
//   npx tsx bench/throttle.ts [--seconds 10 --hammer 10 --connections 50]
import autocannon from 'autocannon';
import { startTarget } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const hammerSeconds = arg('hammer', 10);
const connections = arg('connections', 50);
/** Connections of the hammering client and of the normal client running beside it. */
const side = 10;

interface Endpoint {
  url: string;
  authorization?: string;
}
interface Target {
  ok: Endpoint;
  missing: Endpoint;
}

const start = (kind: string) =>
  startTarget<Target>(new URL('./throttle-target.ts', import.meta.url), kind);

const load = (e: Endpoint, conns: number, duration: number) =>
  autocannon({
    url: e.url,
    connections: conns,
    duration,
    timeout: 30,
    headers: e.authorization ? { authorization: e.authorization } : {},
  });

interface Row {
  name: string;
  rps: number;
  p99: number;
  baseP99: number;
  hammered: number;
  besideP99: number;
  errors: number;
}

/**
 * Measures a pair (without, with) side by side: both servers run at once, and the normal
 * traffic of (a) alternates between them in `rounds` slices, so that a load change on a busy
 * machine hits both alike.
 */
async function measurePair(
  names: [string, string],
  kinds: [string, string],
  rounds = 4,
): Promise<[Row, Row]> {
  const started = [await start(kinds[0]), await start(kinds[1])];
  try {
    const targets = started.map((s) => s.target);
    for (const t of targets) await load(t.ok, connections, 2);
    const normal: { rps: number[]; p99: number[] }[] = targets.map(() => ({ rps: [], p99: [] }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const r = await load(t.ok, connections, Math.max(1, Math.round(seconds / rounds)));
        normal[i]!.rps.push(r.requests.average);
        normal[i]!.p99.push(r.latency.p99);
      }
    }
    const rows: Row[] = [];
    for (const [i, t] of targets.entries()) {
      const base = await load(t.ok, side, Math.max(3, Math.round(hammerSeconds / 2)));
      const [hammer, beside] = await Promise.all([
        load(t.missing, side, hammerSeconds),
        load(t.ok, side, hammerSeconds),
      ]);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      rows.push({
        name: names[i]!,
        rps: Math.round(mean(normal[i]!.rps)),
        p99: Math.round(mean(normal[i]!.p99) * 10) / 10,
        baseP99: base.latency.p99,
        hammered: hammer.requests.total,
        besideP99: beside.latency.p99,
        errors: base.errors + base.non2xx + beside.errors + beside.non2xx,
      });
    }
    return rows as [Row, Row];
  } finally {
    for (const { child } of started) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

const rows: Row[] = [
  ...(await measurePair(
    ['Switchboard, throttle off', 'Switchboard, throttle on'],
    ['sb-off', 'sb-on'],
  )),
  ...(await measurePair(
    ['Express 4, no slow-down', 'Express 4 + express-slow-down'],
    ['ex-off', 'ex-on'],
  )),
];

console.log(
  `\nbench/throttle — node ${process.version}; (a) ${connections} connections × ${seconds} s, alternating on/off in 4 slices; ` +
    `(b) hammering client ${side} connections × ${hammerSeconds} s beside a normal client of ${side}\n`,
);
console.log(
  '| server | (a) req/s | (a) p99 ms | normal alone p99 ms | (b) hammer requests | (b) normal p99 ms beside | normal client errors in (b) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.rps} | ${r.p99} | ${r.baseP99} | ${r.hammered} | ${r.besideP99} | ${r.errors} |`,
  );
const pair = (off: Row | undefined, on: Row | undefined, label: string) => {
  if (!off || !on) return;
  console.log(
    `\n${label}: throughput on/off ${((100 * on.rps) / off.rps).toFixed(1)}% ` +
      `(cost ${(100 - (100 * on.rps) / off.rps).toFixed(1)}%), p99 ${on.p99 - off.p99 >= 0 ? '+' : ''}${(on.p99 - off.p99).toFixed(2)} ms; ` +
      `hammering client ${off.hammered} → ${on.hammered} requests (${(off.hammered / Math.max(1, on.hammered)).toFixed(0)}× fewer); ` +
      `normal client p99 beside it ${on.besideP99} ms vs ${on.baseP99} ms alone ` +
      `(${(((on.besideP99 - on.baseP99) / Math.max(0.001, on.baseP99)) * 100).toFixed(0)}%)`,
  );
};
pair(rows[0], rows[1], 'Switchboard throttle');
pair(rows[2], rows[3], 'express-slow-down');
