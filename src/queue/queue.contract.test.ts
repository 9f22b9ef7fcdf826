// One contract for the queue port, run against every implementation: the SQL queue on SQLite,
// on PostgreSQL (DATABASE_URL, or CI), and BullMQ on Redis (REDIS_URL, or CI).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { createBullmqQueues, createSqlQueues, migrations, type Queues } from './index.js';
import { testSchema } from '../../test/support/schema.js';

const ci = process.env.CI === 'true';
const pgUrl =
  process.env.DATABASE_URL ?? (ci ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);
const redisUrl = process.env.REDIS_URL ?? (ci ? 'redis://127.0.0.1:6379' : undefined);

const dir = mkdtempSync(join(tmpdir(), 'sb-queue-'));
const schemas: string[] = [];
const prefixes: string[] = [];
const stores: Store[] = [];

/** Opens the implementation; calling the returned opener again simulates a restarted process. */
type Target = () => Promise<() => Promise<Queues>>;
/** The store behind each SQL queue, for the InStore test. */
const storeOf = new WeakMap<Queues, Store>();
const targets: [string, Target][] = [
  [
    'sql/sqlite',
    async () => {
      const file = `q${randomBytes(4).toString('hex')}.db`;
      return async () => {
        const store = await openStore({ dataDir: dir, sqliteFile: file });
        stores.push(store);
        await store.migrate(migrations);
        const queues = createSqlQueues(store);
        storeOf.set(queues, store);
        return queues;
      };
    },
  ],
];
if (pgUrl) {
  targets.push([
    'sql/postgres',
    async () => {
      const schema = testSchema('sbq');
      schemas.push(schema);
      return async () => {
        const store = await openStore({ dataDir: dir, databaseUrl: pgUrl, schema });
        stores.push(store);
        await store.migrate(migrations);
        const queues = createSqlQueues(store);
        storeOf.set(queues, store);
        return queues;
      };
    },
  ]);
} else {
  console.warn('queue contract: DATABASE_URL not set, the PostgreSQL queue is not exercised');
}
if (redisUrl) {
  targets.push([
    'bullmq/redis',
    async () => {
      const prefix = `sbtest${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      return async () => createBullmqQueues({ url: redisUrl, prefix });
    },
  ]);
} else {
  console.warn('queue contract: REDIS_URL not set, the BullMQ queue is not exercised');
}

const opened: Queues[] = [];
afterAll(async () => {
  for (const q of opened) await q.close();
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
  // Throwaway PostgreSQL schemas are dropped once, after the whole run (test/support/global-setup.ts):
  // dropping one while another file migrates breaks Kysely's cross-schema introspection.
  if (redisUrl && prefixes.length) {
    const r = new Redis(redisUrl);
    for (const p of prefixes) {
      const keys = await r.keys(`${p}:*`);
      if (keys.length) await r.del(...keys);
    }
    r.disconnect();
  }
});

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(targets)('Queue contract: %s', (_name, target) => {
  const open = async () => {
    const reopen = await target();
    const make = async () => {
      const q = await reopen();
      opened.push(q);
      return q;
    };
    return make;
  };

  it('claims oldest first in batches, ignores duplicate ids, acks and counts depth', async () => {
    const queues = await (await open())();
    const q = await queues.open<{ n: number }>('contract-a');
    await q.add(Array.from({ length: 10 }, (_, n) => ({ id: `j${n}`, data: { n } })));
    await q.add([{ id: 'j3', data: { n: 99 } }]);
    expect(await q.depth()).toBe(10);
    const first = await q.claim(4);
    expect(first.map((j) => j.data.n).sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(first.every((j) => j.attempts === 1 && j.enqueuedAt > 0)).toBe(true);
    expect(await q.depth()).toBe(6);
    const second = await q.claim(100);
    expect(second.map((j) => j.id).sort()).toEqual(['j4', 'j5', 'j6', 'j7', 'j8', 'j9']);
    expect(await q.claim(10)).toEqual([]);
    await q.ack([...first, ...second].map((j) => j.id));
    expect(await q.depth()).toBe(0);
    expect(await q.claim(10)).toEqual([]);
    // An acked id can be added again.
    await q.add([{ id: 'j3', data: { n: 3 } }]);
    expect((await q.claim(10)).map((j) => j.data)).toEqual([{ n: 3 }]);
  });

  it('releases claimed jobs, with or without a delay, and honours delayed adds', async () => {
    const queues = await (await open())();
    const q = await queues.open<string>('contract-b');
    await q.add([
      { id: 'now', data: 'now' },
      { id: 'later', data: 'later', delayMs: 400 },
    ]);
    const [job] = await q.claim(10);
    expect(job?.id).toBe('now');
    await q.release(['now']);
    const again = await until(
      () => q.claim(10),
      (v) => v.length > 0,
      3000,
    );
    expect(again.map((j) => [j.id, j.attempts])).toEqual([['now', 2]]);
    await q.release(['now'], 300);
    expect(await q.claim(10)).toEqual([]);
    const both = await until(
      () => q.claim(10),
      (v) => v.length > 0,
      5000,
    );
    const rest =
      both.length < 2
        ? await until(
            () => q.claim(10),
            (v) => v.length > 0,
            5000,
          )
        : [];
    expect([...both, ...rest].map((j) => j.id).sort()).toEqual(['later', 'now']);
  });

  it('gives a job back when its claimer stops without acking (lease expiry)', async () => {
    const queues = await (await open())();
    const q = await queues.open<number>('contract-c', { leaseMs: 500 });
    await q.add([{ id: 'x', data: 1 }]);
    expect(await q.claim(1)).toHaveLength(1);
    const back = await until(
      () => q.claim(1),
      (v) => v.length > 0,
      10_000,
    );
    expect(back).toHaveLength(1);
    expect(back[0]!.attempts).toBeGreaterThanOrEqual(2);
    await q.ack(['x']);
  });

  it('is durable across a restart of the process', async () => {
    const make = await open();
    // The lease must outlast a stall of a loaded machine between claim and ack below.
    const q1 = await (await make()).open<{ body: string }>('contract-d', { leaseMs: 2000 });
    await q1.add(Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, data: { body: `b${i}` } })));
    const claimed = await q1.claim(20);
    await q1.ack(claimed.slice(0, 10).map((j) => j.id));
    // A "new process": a fresh connection to the same storage; 10 claimed-not-acked come back.
    const q2 = await (await make()).open<{ body: string }>('contract-d', { leaseMs: 500 });
    const seen = new Set<string>();
    const end = Date.now() + 15_000;
    while (seen.size < 40 && Date.now() < end) {
      const batch = await q2.claim(25);
      for (const j of batch) seen.add(j.id);
      await q2.ack(batch.map((j) => j.id));
      if (!batch.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.size).toBe(40);
    expect([...seen].some((id) => claimed.slice(0, 10).some((c) => c.id === id))).toBe(false);
  });

  it('keeps queues apart', async () => {
    const queues = await (await open())();
    const a = await queues.open<number>('contract-e1');
    const b = await queues.open<number>('contract-e2');
    await a.add([{ id: '1', data: 1 }]);
    await b.add([{ id: '1', data: 2 }]);
    expect((await a.claim(5)).map((j) => j.data)).toEqual([1]);
    expect((await b.claim(5)).map((j) => j.data)).toEqual([2]);
  });

  it('SQL queues: adds and acks inside the caller’s own store commit', async () => {
    const queues = await (await open())();
    const q = await queues.open<string>('contract-f');
    const store = storeOf.get(queues);
    if (!q.inStore || !store) {
      expect(queues.kind).toBe('bullmq'); // only queues outside the SQL store lack it
      return;
    }
    // A unit that fails takes its jobs with it.
    const bad = sql`SELECT no_such_column FROM queue_jobs`.compile(store.kysely());
    await expect(
      store.commit([...q.inStore.add([{ id: 'lost', data: 'x' }]), bad]),
    ).rejects.toThrow();
    await store.commit(q.inStore.add([{ id: 'kept', data: 'y' }]));
    const [job] = await q.claim(10);
    expect(job?.id).toBe('kept');
    expect(await q.claim(10)).toEqual([]);
    await store.commit(q.inStore.ack(['kept']));
    expect(await q.depth()).toBe(0);
    await q.release(['kept']); // acked: nothing comes back
    expect(await q.claim(10)).toEqual([]);
  });
});
