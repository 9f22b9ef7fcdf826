// bench/api: requests/s and p99 of an authenticated account fetch, next to a bare Fastify
// hello-world in the same run, each server in its own process and the load generator
// (autocannon) in this one. Target (issue 2): at least 50% of bare Fastify's throughput.
//   npm run bench:api [-- --seconds 10 --connections 50]
// DATABASE_URL / REDIS_URL in the environment select the scale-out backends.
import autocannon from 'autocannon';
import { startTarget } from './target.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 50);

interface Target {
  url: string;
  authorization?: string;
  dialect?: string;
}

async function measure(name: string, kind: string) {
  const { child, target } = await startTarget<Target>(
    new URL('./api-target.ts', import.meta.url),
    kind,
  );
  const headers: Record<string, string> = target.authorization
    ? { authorization: target.authorization }
    : {};
  try {
    await autocannon({ url: target.url, connections, duration: 2, headers });
    const r = await autocannon({ url: target.url, connections, duration: seconds, headers });
    return {
      name: target.dialect ? `${name} (${target.dialect})` : name,
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors,
      non2xx: r.non2xx,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const results = [
  await measure('bare Fastify hello-world', 'bare'),
  await measure(
    'Switchboard GET /2010-04-01/Accounts/{Sid}.json, authenticated, event-logged',
    'switchboard',
  ),
];
console.log(
  `\nbench/api — ${connections} connections, ${seconds} s each, node ${process.version}\n`,
);
console.log('| target | req/s | p50 ms | p99 ms | errors | non-2xx |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results)
  console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`);
const [b, s] = results;
if (b && s)
  console.log(
    `\nSwitchboard / bare Fastify throughput: ${((100 * s.rps) / b.rps).toFixed(1)}% (target ≥ 50%)`,
  );
if (s && s.non2xx > 0) console.log(`WARNING: ${s.non2xx} non-2xx answers: the figure is not valid`);
