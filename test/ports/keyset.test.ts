// The one paging helper (src/store/keyset.ts), on SQLite and (when DATABASE_URL is set, or on
// CI) on PostgreSQL in a throwaway schema: walking a list page by page yields every row once,
// in order, also across ties of the first key and with rows inserted meanwhile; a PageToken
// that does not fit the list's sort key is Twilio's 20001.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  NEWEST_FIRST,
  OLDEST_FIRST,
  openStore,
  selectPage,
  slicePage,
  sortBy,
  type KeyValue,
  type Migration,
  type PageSort,
  type Store,
} from '../../src/store/index.js';
import { testSchema } from '../support/schema.js';

const pgUrl =
  process.env.DATABASE_URL ??
  (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);

interface Tables {
  things: { sid: string; owner: string; date_created: number; seq: number };
  owners: { sid: string; name: string };
}

const migrations: Record<string, Migration> = {
  '0001_things': {
    async up(db) {
      await db.schema
        .createTable('things')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('owner', 'varchar(34)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('owners')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

const dir = mkdtempSync(join(tmpdir(), 'sb-keyset-'));
const targets: [string, () => Promise<Store>][] = [
  [
    'sqlite',
    () => openStore({ dataDir: dir, sqliteFile: `k${randomBytes(3).toString('hex')}.db` }),
  ],
];
if (pgUrl) {
  targets.push([
    'postgres',
    () => openStore({ dataDir: dir, databaseUrl: pgUrl, schema: testSchema('sbtest') }),
  ]);
} else {
  console.warn('keyset: DATABASE_URL not set, PostgreSQL is not exercised');
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 23 rows, three per millisecond (ties broken by SID), inserted out of order.
const ROWS = Array.from({ length: 23 }, (_, i) => ({
  sid: `TH${String((i * 7) % 23).padStart(2, '0')}`,
  owner: i % 2 ? 'OA' : 'OB',
  date_created: 1_764_000_000_000 + Math.floor(i / 3),
  seq: 100 - i,
}));

describe.each(targets)('selectPage: %s', (_name, open) => {
  async function seeded() {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<Tables>();
    await db.insertInto('things').values(ROWS).execute();
    await db
      .insertInto('owners')
      .values([
        { sid: 'OA', name: 'a' },
        { sid: 'OB', name: 'b' },
      ])
      .execute();
    return { store, db };
  }

  /** Every page of a list, following each page's key as a client follows next_page_uri. */
  async function walk<T>(
    pageOf: (after: readonly KeyValue[] | undefined) => Promise<{
      items: T[];
      next: readonly KeyValue[] | undefined;
    }>,
  ) {
    const pages: T[][] = [];
    let after: readonly KeyValue[] | undefined;
    do {
      // The token goes through JSON, as PageToken does.
      const p = await pageOf(after && (JSON.parse(JSON.stringify(after)) as KeyValue[]));
      pages.push(p.items);
      after = p.next;
    } while (after && pages.length < 50);
    return pages;
  }

  const byCreation = (a: (typeof ROWS)[number], b: (typeof ROWS)[number]) =>
    a.date_created - b.date_created || (a.sid < b.sid ? -1 : 1);

  it('walks oldest first and newest first by (date_created, sid), each row once', async () => {
    const { store, db } = await seeded();
    const q = () => db.selectFrom('things').selectAll();
    const up = await walk((after) => selectPage(q(), { pageSize: 5, after }, OLDEST_FIRST));
    expect(up.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(up.flat().map((r) => r.sid)).toEqual([...ROWS].sort(byCreation).map((r) => r.sid));
    const down = await walk((after) => selectPage(q(), { pageSize: 4, after }, NEWEST_FIRST));
    expect(down.flat().map((r) => r.sid)).toEqual(
      [...ROWS]
        .sort(byCreation)
        .reverse()
        .map((r) => r.sid),
    );
    // An exact multiple of the page size: the last full page says no more follow.
    const exact = await walk((after) => selectPage(q(), { pageSize: 23, after }));
    expect(exact.map((p) => p.length)).toEqual([23]);
    await store.close();
  });

  it('pages by one number column, filtered, and by a qualified column of a join', async () => {
    const { store, db } = await seeded();
    const bySeq = sortBy('asc', ['seq', 'number']);
    const pages = await walk((after) =>
      selectPage(
        db.selectFrom('things').selectAll().where('owner', '=', 'OA'),
        { pageSize: 4, after },
        bySeq,
      ),
    );
    const seqs = pages.flat().map((r) => r.seq);
    expect(seqs).toEqual(
      ROWS.filter((r) => r.owner === 'OA')
        .map((r) => r.seq)
        .sort((a, b) => a - b),
    );
    const joined = await walk((after) =>
      selectPage(
        db
          .selectFrom('things')
          .innerJoin('owners', 'owners.sid', 'things.owner')
          .select(['things.sid', 'things.date_created', 'owners.name']),
        { pageSize: 6, after },
        sortBy('desc', ['things.date_created', 'number'], ['things.sid', 'string']),
      ),
    );
    expect(joined.flat()).toHaveLength(23);
    expect(joined.flat()[0]?.sid).toBe([...ROWS].sort(byCreation).at(-1)?.sid);
    await store.close();
  });

  it('keeps a walk steady when rows are inserted before the cursor meanwhile', async () => {
    const { store, db } = await seeded();
    const q = () => db.selectFrom('things').selectAll();
    const first = await selectPage(q(), { pageSize: 10, after: undefined }, NEWEST_FIRST);
    await db
      .insertInto('things')
      .values({ sid: 'THnew', owner: 'OA', date_created: 1_800_000_000_000, seq: 0 })
      .execute();
    const second = await selectPage(q(), { pageSize: 10, after: first.next }, NEWEST_FIRST);
    const seen = new Set([...first.items, ...second.items].map((r) => r.sid));
    expect(seen.size).toBe(20);
    expect(seen.has('THnew')).toBe(false);
    await store.close();
  });

  it("refuses a PageToken key that does not fit the list's sort key with 20001", async () => {
    const { store, db } = await seeded();
    const q = () => db.selectFrom('things').selectAll();
    for (const after of [['TH01', 5], [5], [5, 'TH01', 'x'], ['5', 'TH01']] as KeyValue[][]) {
      await expect(selectPage(q(), { pageSize: 5, after })).rejects.toMatchObject({
        code: 20001,
        status: 400,
      });
    }
    await store.close();
  });
});

describe('slicePage (lists computed in memory)', () => {
  const list = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
  const byName: { sort: PageSort; of: (s: string) => KeyValue[] } = {
    sort: sortBy('asc', ['identity', 'string']),
    of: (s) => [s],
  };

  it('pages by key as selectPage does, sorting the list', () => {
    const one = slicePage(list, { pageSize: 2, after: undefined }, byName);
    expect(one).toEqual({ items: ['alpha', 'bravo'], next: ['bravo'] });
    const two = slicePage(list, { pageSize: 2, after: one.next }, byName);
    expect(two).toEqual({ items: ['charlie', 'delta'], next: ['delta'] });
    expect(slicePage(list, { pageSize: 2, after: two.next }, byName)).toEqual({
      items: ['echo'],
      next: undefined,
    });
    const down = { ...byName, sort: sortBy('desc', ['identity', 'string']) };
    expect(slicePage(list, { pageSize: 3, after: undefined }, down).items).toEqual([
      'echo',
      'delta',
      'charlie',
    ]);
    expect(() => slicePage(list, { pageSize: 2, after: [3] }, byName)).toThrow(
      expect.objectContaining({ code: 20001 }),
    );
  });

  it('pages by position when the list has no key, from Page when no token is given', () => {
    expect(slicePage(list, { pageSize: 2, after: undefined })).toEqual({
      items: ['delta', 'alpha'],
      next: [2],
    });
    expect(slicePage(list, { pageSize: 2, after: [4] })).toEqual({
      items: ['bravo'],
      next: undefined,
    });
    expect(slicePage(list, { pageSize: 2, page: 1, after: undefined }).items).toEqual([
      'echo',
      'charlie',
    ]);
    for (const after of [['x'], [-2], [1.5]] as KeyValue[][]) {
      expect(() => slicePage(list, { pageSize: 2, after })).toThrow(
        expect.objectContaining({ code: 20001 }),
      );
    }
  });
});
