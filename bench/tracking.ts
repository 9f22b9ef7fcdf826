// bench/tracking: the interaction log with 20 trackers counting in the same units as the events.
//   npm run bench:tracking -- [--events 1000000] [--probes 200]
// DATABASE_URL selects PostgreSQL (a throwaway schema); otherwise SQLite in a temp directory.
// 1. Sustained: tagged events (calls of four events, messages of three, lone API requests)
//    recorded as fast as the log takes them, with 20 trackers: events/s written and counted.
// 2. Event -> visible in a measurement: a probe event recorded at a steady background load,
//    then the measurement read until it shows it; p50/p99.
// 3. Exactly once over a SIGKILL: a writer process records --events events and is killed
//    half-way, a second writer finishes; every tracker's totals (count, events, duration
//    sum/min/max) are compared with the ground truth computed from the events the log kept.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/core/index.js';
import { EventLog, migrations as eventMigrations } from '../src/events/index.js';
import { openState } from '../src/state/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { TrackerCounter } from '../src/tracking/counter.js';
import { measure } from '../src/tracking/measurements.js';
import { TrackerRegistry } from '../src/tracking/registry.js';
import { migrations as trackingMigrations, type TrackingTables } from '../src/tracking/tables.js';
import { TrackerStore } from '../src/tracking/tracker-store.js';
import { trackerOf, type Tracker } from '../src/tracking/trackers.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ACCOUNT = 'AC' + '0'.repeat(32);
const TAGS = Array.from({ length: 10 }, (_, i) => `bench:t${i}`);
const logger = createLogger('silent');
const hex = () => randomBytes(16).toString('hex');

async function open(dataDir: string, schema: string | undefined): Promise<Store> {
  const store = await openStore({ databaseUrl: process.env.DATABASE_URL, schema, dataDir });
  await store.migrate({ ...eventMigrations, ...trackingMigrations });
  return store;
}

async function startLog(store: Store): Promise<{ log: EventLog; stop: () => Promise<void> }> {
  const state = await openState({ prefix: 'bench:' });
  const registry = new TrackerRegistry(store.kysely<TrackingTables>(), state, logger);
  await registry.start();
  const log = new EventLog(store, logger, { batchSize: 2000, flushMs: 50, maxBacklog: 1e7 });
  log.listen(new TrackerCounter(store, registry));
  return {
    log,
    stop: async () => {
      await log.close();
      await registry.stop();
      await state.close();
    },
  };
}

/** One interaction's events, tagged with 1–3 of the ten tags. */
function interaction(log: EventLog, i: number): number {
  const tags = [TAGS[i % 10]!, TAGS[(i * 7 + 3) % 10]!].slice(0, 1 + (i % 2));
  const at = Date.now();
  switch (i % 3) {
    case 0: {
      const call = 'CA' + hex();
      log.bind(call, { accountSid: ACCOUNT, tags });
      const base = { accountSid: ACCOUNT, kind: 'call' as const, subjectSid: call, occurredAt: at };
      log.record({ ...base, data: { status: 'ringing' } });
      log.record({ ...base, data: { status: 'in-progress' } });
      log.record({
        ...base,
        kind: 'segment',
        subjectSid: 'SG' + hex(),
        interactionSid: call,
        durationMs: 1000 + (i % 5000),
        data: { price: '-0.0' + (i % 9) },
      });
      log.record({ ...base, durationMs: 2000 + (i % 7000), data: { status: 'completed' } });
      return 4;
    }
    case 1: {
      const msg = 'SM' + hex();
      log.bind(msg, { accountSid: ACCOUNT, tags });
      for (const status of ['queued', 'sent', 'delivered'])
        log.record({
          accountSid: ACCOUNT,
          kind: 'message',
          subjectSid: msg,
          occurredAt: at,
          data: { status, num_segments: 1 + (i % 3) },
        });
      return 3;
    }
    default:
      log.record({
        accountSid: ACCOUNT,
        kind: 'api-request',
        method: 'GET',
        resource: '/x',
        status: 200,
        durationMs: i % 50,
        occurredAt: at,
        tags,
      });
      return 1;
  }
}

async function writer(dataDir: string, schema: string | undefined, from: number, to: number) {
  const store = await open(dataDir, schema);
  const { log, stop } = await startLog(store);
  let written = 0;
  for (let i = from; i < to; i++) {
    written += interaction(log, i);
    if (i % 2000 === 0) {
      await log.flush();
      process.stdout.write(`${i}\n`);
    }
  }
  await stop();
  await store.close();
  process.stdout.write(`done ${written}\n`);
}

async function trackers(store: Store): Promise<Tracker[]> {
  const db = store.kysely<TrackingTables>();
  const s = new TrackerStore(db);
  const out: Tracker[] = [];
  for (let k = 0; k < 20; k++) {
    const tags = k < 10 ? [TAGS[k]!] : [TAGS[k % 10]!, TAGS[(k * 3) % 10]!];
    const row = await s.create(ACCOUNT, {
      friendlyName: `bench ${k}`,
      tags,
      match: k < 15 ? 'all' : 'any',
      eventKinds: k % 4 === 3 ? ['call', 'segment'] : null,
      measures: ['duration', 'price', 'segments', 'message_segments'],
      bucket: 'minute',
    });
    out.push(trackerOf(row));
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'writer') {
    const [, , , dir, schema, from, to] = process.argv;
    await writer(dir!, schema === '-' ? undefined : schema, Number(from), Number(to));
    return;
  }
  const backend = process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-tracking-'));
  const schema = process.env.DATABASE_URL ? `sbbt_${randomBytes(4).toString('hex')}` : undefined;
  const store = await open(dataDir, schema);
  const list = await trackers(store);
  const db = store.kysely<TrackingTables>();
  console.log(`bench:tracking on ${backend}, 20 trackers`);

  // 1. Sustained
  {
    const { log, stop } = await startLog(store);
    const target = arg('sustained', 200_000);
    let events = 0;
    const t0 = performance.now();
    for (let i = 0; events < target; i++) {
      events += interaction(log, i);
      if (log.pending >= 20_000) await log.flush();
    }
    await log.flush();
    const s = (performance.now() - t0) / 1000;
    console.log(
      `sustained: ${events} tagged events in ${s.toFixed(2)} s = ${Math.round(events / s)} events/s written and counted`,
    );
    // 2. Event -> visible in a measurement, under a background load of ~1,000 events/s.
    const probeTracker = await new TrackerStore(db).create(ACCOUNT, {
      friendlyName: 'probe',
      tags: ['bench:probe'],
      match: 'all',
      eventKinds: null,
      measures: ['duration'],
      bucket: 'minute',
    });
    await new Promise((r) => setTimeout(r, 5200)); // the registry's reload
    const probe = trackerOf(probeTracker);
    let background = true;
    const load = (async () => {
      for (let i = 0; background; i++) {
        for (let k = 0; k < 4; k++) interaction(log, i * 4 + k);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const lat: number[] = [];
    const probes = arg('probes', 100);
    for (let p = 0; p < probes; p++) {
      const before = (await measure(db, probe, 0, Date.now() + 60_000, 'day')).totals.events;
      const t = performance.now();
      log.record({
        accountSid: ACCOUNT,
        kind: 'api-request',
        durationMs: 1,
        tags: ['bench:probe'],
      });
      for (;;) {
        const now = (await measure(db, probe, 0, Date.now() + 60_000, 'day')).totals.events;
        if (now > before) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      lat.push(performance.now() - t);
    }
    background = false;
    await load;
    lat.sort((a, b) => a - b);
    console.log(
      `event -> visible in a measurement (${probes} probes, flush every 50 ms): p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms`,
    );
    await stop();
  }

  // 3. Exactly once over a SIGKILL
  const total = arg('events', 1_000_000);
  const interactions = Math.ceil(total / (8 / 3));
  const half = Math.floor(interactions / 2);
  const run = (from: number, to: number, killAt?: number) =>
    new Promise<{ killed: boolean; last: number }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          process.argv[1]!,
          'writer',
          dataDir,
          schema ?? '-',
          String(from),
          String(to),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
      );
      let last = from;
      let killed = false;
      child.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          const n = Number(line);
          if (line && Number.isFinite(n)) last = n;
          if (killAt !== undefined && last >= killAt && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      });
      child.on('exit', () => resolve({ killed, last }));
      child.on('error', reject);
    });
  const t1 = performance.now();
  // The second writer restarts at the first's last flushed point: events after it may be
  // in the log or lost with the kill; the ground truth is what the log holds.
  const first = await run(1_000_000, 1_000_000 + interactions, 1_000_000 + half);
  const second = await run(first.last + 1, 1_000_000 + interactions);
  const s = (performance.now() - t1) / 1000;
  console.log(
    `SIGKILL run: writer killed=${first.killed} at interaction ${first.last - 1_000_000} of ${interactions}; second writer finished (${s.toFixed(1)} s, both)`,
  );
  void second;
  const rows = await store
    .kysely<{
      events: {
        tags: string;
        interaction_sid: string;
        duration_ms: number | null;
        kind: string;
        data: string | null;
        sid: string;
      };
    }>()
    .selectFrom('events')
    .select(['sid', 'tags', 'interaction_sid', 'duration_ms', 'kind', 'data'])
    .execute();
  console.log(`events in the log: ${rows.length}`);
  let bad = 0;
  for (const t of list) {
    const followed = rows.filter((r) => {
      const tags = JSON.parse(r.tags) as string[];
      if (t.kinds && !t.kinds.has(r.kind)) return false;
      return (
        tags.length > 0 &&
        (t.match === 'all'
          ? t.tags.every((x) => tags.includes(x))
          : t.tags.some((x) => tags.includes(x)))
      );
    });
    const durations = followed
      .filter((r) => r.duration_ms !== null)
      .map((r) => Number(r.duration_ms) / 1000);
    const truth = {
      events: followed.length,
      count: new Set(followed.map((r) => r.interaction_sid)).size,
      durationSum: durations.reduce((a, b) => a + b, 0),
      durationMax: durations.length ? Math.max(...durations) : null,
    };
    const m = (await measure(db, t, 0, Date.now() + 120_000, 'day')).totals;
    const d = m.measures.get('duration');
    const ok =
      m.events === truth.events &&
      m.count === truth.count &&
      Math.abs((d?.sum ?? 0) - truth.durationSum) < 1e-6 * Math.max(1, truth.durationSum) &&
      (d?.max ?? null) === truth.durationMax;
    if (!ok) bad++;
    if (!ok || t === list[0])
      console.log(
        `  ${t.friendlyName}: measured events ${m.events} count ${m.count} duration sum ${d?.sum.toFixed(3)}; truth ${truth.events} / ${truth.count} / ${truth.durationSum.toFixed(3)} ${ok ? 'OK' : 'MISMATCH'}`,
      );
  }
  console.log(
    bad === 0
      ? 'every measure of the 20 trackers equals the ground truth'
      : `${bad} trackers differ from the ground truth`,
  );
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exitCode = bad === 0 ? 0 : 1;
}

await main();
