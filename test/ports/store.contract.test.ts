// One contract for the SQL store port, run on SQLite and (when DATABASE_URL is set, or on CI)
// on PostgreSQL in a throwaway schema.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Migration, type Store } from '../../src/store/index.js';
import { testSchema } from '../support/schema.js';

const pgUrl =
  process.env.DATABASE_URL ??
  (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);

interface Tables {
  widgets: { sid: string; name: string; created: number; price: number | null };
}

const migrations: Record<string, Migration> = {
  '0001_widgets': {
    async up(db) {
      await db.schema
        .createTable('widgets')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('price', 'numeric')
        .execute();
    },
  },
};

const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
const schemas: string[] = [];
const targets: [string, () => Promise<Store>][] = [
  [
    'sqlite',
    () => openStore({ dataDir: dir, sqliteFile: `t${randomBytes(3).toString('hex')}.db` }),
  ],
];
if (pgUrl) {
  targets.push([
    'postgres',
    () => {
      const schema = testSchema('sbtest');
      schemas.push(schema);
      return openStore({ dataDir: dir, databaseUrl: pgUrl, schema });
    },
  ]);
} else {
  console.warn('store contract: DATABASE_URL not set, PostgreSQL is not exercised');
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // Throwaway PostgreSQL schemas are dropped once, after the whole run (test/support/global-setup.ts):
  // dropping one while another file migrates breaks Kysely's cross-schema introspection.
});

describe.each(targets)('Store contract: %s', (_name, open) => {
  it('migrates once, and reads back what it wrote with the same types', async () => {
    const store = await open();
    expect(await store.migrate(migrations)).toEqual(['0001_widgets']);
    expect(await store.migrate(migrations)).toEqual([]);
    const db = store.kysely<Tables>();
    const big = 1_764_000_000_123;
    await db
      .insertInto('widgets')
      .values({ sid: 'a', name: 'one', created: big, price: 0.0075 })
      .execute();
    const row = await db
      .selectFrom('widgets')
      .selectAll()
      .where('sid', '=', 'a')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ sid: 'a', name: 'one', created: big, price: 0.0075 });
    await store.close();
  });

  it('compares row values for keyset paging', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<Tables>();
    for (let i = 0; i < 5; i++) {
      await db
        .insertInto('widgets')
        .values({ sid: `w${i}`, name: 'n', created: 1000 + (i % 2), price: null })
        .execute();
    }
    const rows = await db
      .selectFrom('widgets')
      .select('sid')
      .where((eb) => eb(eb.refTuple('created', 'sid'), '>', eb.tuple(1000, 'w2')))
      .orderBy('created')
      .orderBy('sid')
      .execute();
    expect(rows.map((r) => r.sid)).toEqual(['w4', 'w1', 'w3']);
    expect(
      await sql<{ one: number }>`select 1 as one`.execute(db).then((r) => r.rows[0]?.one),
    ).toBe(1);
    await store.close();
  });

  it('inserts many rows at once, nulls and numbers intact', async () => {
    const store = await open();
    await store.migrate(migrations);
    const rows = Array.from({ length: 1500 }, (_, i) => ({
      sid: `b${i}`,
      name: `n'${i}"`,
      created: 1_764_000_000_000 + i,
      price: i % 2 ? null : i / 4,
    }));
    await store.insertMany('widgets', ['sid', 'name', 'created', 'price'], rows);
    const db = store.kysely<Tables>();
    const back = await db
      .selectFrom('widgets')
      .selectAll()
      .where('sid', 'like', 'b%')
      .orderBy('created')
      .execute();
    expect(back).toHaveLength(1500);
    expect(back[0]).toEqual(rows[0]);
    expect(back[1499]).toEqual(rows[1499]);
    expect(back[1]?.price).toBeNull();
    await expect(
      store.insertMany('widgets; drop table x', ['sid'], [{ sid: 'z' }]),
    ).rejects.toThrow(/identifier/);
    await store.close();
  });

  it('inserts rows given as their values in column order', async () => {
    const store = await open();
    await store.migrate(migrations);
    const values = Array.from({ length: 1200 }, (_, i) => [
      `v${i}`,
      `n'${i}"`,
      1_764_100_000_000 + i,
      i % 3 ? null : i / 8,
    ]);
    await store.insertValues('widgets', ['sid', 'name', 'created', 'price'], values);
    const back = await store
      .kysely<Tables>()
      .selectFrom('widgets')
      .selectAll()
      .where('sid', 'like', 'v%')
      .orderBy('created')
      .execute();
    expect(back).toHaveLength(1200);
    expect(back[0]).toEqual({ sid: 'v0', name: `n'0"`, created: 1_764_100_000_000, price: 0 });
    expect(back[1]?.price).toBeNull();
    expect(back[1199]?.sid).toBe('v1199');
    await expect(
      store.insertValues('widgets', ['sid; drop', 'name'], [['a', 'b']]),
    ).rejects.toThrow(/identifier/);
    await store.close();
  });

  it('takes a batch of rows as one parameter: insert, update and join from it', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<Tables>();
    const cols = ['sid', 'name', 'created', 'price'] as const;
    const rows = Array.from({ length: 700 }, (_, i) => ({
      sid: `r${i}`,
      name: `n'${i}" ü`,
      created: 1_764_000_000_000 + i,
      price: i % 2 ? null : i / 4,
    }));
    // SQLite needs WHERE true before ON CONFLICT in INSERT … SELECT.
    const insert = (part: typeof rows) =>
      sql`INSERT INTO widgets (sid, name, created, price)
          SELECT sid, name, created, price FROM ${store.rows('widgets', cols, part)} AS v
          WHERE true ON CONFLICT (sid) DO NOTHING`.execute(db);
    await insert(rows);
    await insert(rows.slice(0, 10)); // already there: nothing happens
    expect(
      await db
        .selectFrom('widgets')
        .selectAll()
        .where('sid', 'like', 'r%')
        .orderBy('created')
        .execute(),
    ).toEqual(rows);
    // One statement updates each row with its own values; rows not named stay as they were.
    const changes = [
      { sid: 'r1', name: 'first', created: 5 },
      { sid: 'r699', name: 'last', created: 6 },
    ];
    const result = await sql`UPDATE widgets SET name = v.name, created = v.created + 1
        FROM ${store.rows('widgets', ['sid', 'name', 'created'], changes)} AS v
        WHERE widgets.sid = v.sid`.execute(db);
    expect(Number(result.numAffectedRows)).toBe(2);
    const back = await db
      .selectFrom('widgets')
      .select(['sid', 'name', 'created'])
      .where('sid', 'in', ['r0', 'r1', 'r699'])
      .orderBy('sid')
      .execute();
    expect(back).toEqual([
      { sid: 'r0', name: rows[0]!.name, created: rows[0]!.created },
      { sid: 'r1', name: 'first', created: 6 },
      { sid: 'r699', name: 'last', created: 7 },
    ]);
    const joined = await sql<{ sid: string }>`SELECT w.sid FROM widgets w
        JOIN ${store.rows('widgets', ['sid'], [{ sid: 'r2' }, { sid: 'nope' }])} AS v ON w.sid = v.sid`.execute(
      db,
    );
    expect(joined.rows.map((r) => r.sid)).toEqual(['r2']);
    expect(() => store.rows('widgets', ['sid; drop'], [])).toThrow(/identifier/);
    await store.close();
  });
  it('commits units of statements atomically, each alone, and returns their rows', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<Tables>();
    const insert = (sid: string, name: string) =>
      db.insertInto('widgets').values({ sid, name, created: 1, price: null }).compile();
    expect(await store.commit([insert('u1', 'a'), insert('u2', 'b')])).toEqual([[], []]);
    // Units given together (the SQLite writer thread puts them in one transaction; PostgreSQL
    // may run them side by side).
    const [two, bad] = await Promise.allSettled([
      store.commit([
        db.updateTable('widgets').set({ price: 2.5 }).where('sid', '=', 'u1').compile(),
        sql`UPDATE widgets SET created = created + 1 WHERE sid IN ('u1', 'u2') RETURNING sid, created`.compile(
          db,
        ),
      ]),
      // The second statement breaks the primary key: the first one must be undone with it.
      store.commit([insert('u3', 'c'), insert('u1', 'again')]),
    ]);
    expect(two.status).toBe('fulfilled');
    const returned = (two as PromiseFulfilledResult<unknown[][]>).value[1] as {
      sid: string;
      created: number;
    }[];
    expect(returned.sort((a, b) => a.sid.localeCompare(b.sid))).toEqual([
      { sid: 'u1', created: 2 },
      { sid: 'u2', created: 2 },
    ]);
    expect(bad.status).toBe('rejected');
    expect(
      await store.commit([db.selectFrom('widgets').select('sid').orderBy('sid').compile()]),
    ).toEqual([[{ sid: 'u1' }, { sid: 'u2' }]]);
    // Committed: the main connection reads it back.
    expect(await db.selectFrom('widgets').selectAll().orderBy('sid').execute()).toEqual([
      { sid: 'u1', name: 'a', created: 2, price: 2.5 },
      { sid: 'u2', name: 'b', created: 2, price: null },
    ]);
    expect(await store.commit([])).toEqual([]);
    await store.close();
  });

  it('inserts rows in a commit (one prepared INSERT per row on SQLite), skipping key clashes', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<Tables>();
    const cols = ['sid', 'name', 'created', 'price'] as const;
    const rows = Array.from({ length: 300 }, (_, i) => ({
      sid: `i${i}`,
      name: `n'${i}" ü`,
      created: 1_764_000_000_000 + i,
      price: i % 2 ? null : i / 4,
    }));
    await store.commit([store.insertRows('widgets', cols, rows)]);
    // A clash fails the unit unless it is to be ignored.
    await expect(
      store.commit([store.insertRows('widgets', cols, rows.slice(0, 1))]),
    ).rejects.toThrow();
    const again = [
      { ...rows[0]!, name: 'changed' },
      { sid: 'i300', name: 'new', created: 1, price: 2 },
    ];
    await store.commit([store.insertRows('widgets', cols, again, ['sid'])]);
    const back = await db.selectFrom('widgets').selectAll().orderBy('created').execute();
    expect(back).toHaveLength(301);
    expect(back[0]).toEqual({ sid: 'i300', name: 'new', created: 1, price: 2 });
    expect(back.slice(1)).toEqual(rows);
    expect(() => store.insertRows('widgets', ['sid; drop'], [])).toThrow(/identifier/);
    await store.close();
  });
});
