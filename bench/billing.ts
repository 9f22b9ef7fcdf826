// bench/billing: the cost of metering and accounting on the store — segments opened+closed
// and posted to the ledger per second (one call at a time, and many calls at once), the
// accounting sweep over a backlog, a live spend check, and usage records over the backlog.
//   npx tsx bench/billing.ts [--segments 5000] [--concurrency 32]
// DATABASE_URL selects PostgreSQL (a throwaway schema); otherwise SQLite in a temp directory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Billing, migrations, type UsagePlan } from '../src/billing/index.js';
import { openStore } from '../src/store/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('segments', 5000);
const CONCURRENCY = arg('concurrency', 32);
const PLANS: UsagePlan[] = [
  { perMinuteMicros: 20_000, incrementSeconds: 60, perInvocationMicros: 10_000, currency: 'USD' },
  { perMinuteMicros: 100_000, incrementSeconds: 1, perInvocationMicros: 0, currency: 'USD' },
  { perMinuteMicros: 0, incrementSeconds: 60, perInvocationMicros: 50_000, currency: 'USD' },
];
const USERS = Array.from({ length: 20 }, () => 'AC' + randomBytes(16).toString('hex'));
const PUBLISHER = 'AC' + randomBytes(16).toString('hex');
const sid = (p: string) => p + randomBytes(16).toString('hex');

const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-billing-'));
const databaseUrl = process.env.DATABASE_URL;
const schema = databaseUrl ? `sbb_${randomBytes(4).toString('hex')}` : undefined;
const store = await openStore({ databaseUrl, schema, dataDir });
await store.migrate(migrations);

async function segment(billing: Billing, i: number, start: number): Promise<void> {
  const plan = PLANS[i % 3] ?? PLANS[0]!;
  const s = await billing.openSegment({
    callSid: sid('CA'),
    moduleSid: sid('AP'),
    moduleCode: `bench.m${i % 3}`,
    publisherAccountSid: PUBLISHER,
    userAccountSid: USERS[i % USERS.length] ?? PUBLISHER,
    direction: i % 2 ? 'inbound' : 'outbound-api',
    plan,
    startedMs: start,
  });
  await billing.closeSegment(s.sid, start + 1000 + (i % 120_000), 'hangup');
}

async function timed<T>(label: string, count: number, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const ms = performance.now() - t0;
  console.log(
    `${label.padEnd(58)} ${(count / (ms / 1000)).toFixed(0).padStart(7)} /s  (${ms.toFixed(0)} ms)`,
  );
  return r;
}

try {
  console.log(`billing bench on ${store.dialect}, ${N} segments`);
  const live = new Billing({ store });
  const day = Date.UTC(2026, 0, 10, 8);
  await timed('open + close + post, one call at a time', N / 5, async () => {
    for (let i = 0; i < N / 5; i++) await segment(live, i, day + i * 1000);
  });
  await timed(`open + close + post, ${CONCURRENCY} calls at once`, N, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const i = next++;
          await segment(live, i, day + i * 1000);
        }
      }),
    );
  });
  const deferred = new Billing({ store, autoAccount: false });
  for (let i = 0; i < N / 5; i++) await segment(deferred, i, day + i * 1000);
  await timed('accounting sweep over a backlog (segments posted)', N / 5, () =>
    deferred.runAccounting(),
  );

  const open = await live.openSegment({
    callSid: 'CA' + 'f'.repeat(32),
    moduleSid: null,
    publisherAccountSid: PUBLISHER,
    userAccountSid: USERS[0] ?? PUBLISHER,
    direction: 'inbound',
    plan: PLANS[1] ?? PLANS[0]!,
    startedMs: Date.now(),
  });
  await live.setSpendLimit(USERS[0] ?? PUBLISHER, 1_000_000_000, 'USD');
  await timed('checkSpend on a live call', 1000, async () => {
    for (let i = 0; i < 1000; i++) {
      await live.checkSpend({ accountSid: USERS[0] ?? '', callSid: open.sid, nowMs: Date.now() });
    }
  });
  const total = N + (2 * N) / 5;
  const records = await timed(
    `usage records, Daily, all ${USERS.length} accounts (${total} segments)`,
    1,
    () =>
      deferred.usageRecords({
        accountSids: USERS,
        startDay: Date.UTC(2026, 0, 1),
        endDay: Date.UTC(2026, 0, 31),
        granularity: 'daily',
      }),
  );
  console.log(`  -> ${records.length} records`);
} finally {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (schema && databaseUrl) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
}
