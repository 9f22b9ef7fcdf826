// A start on a shared PostgreSQL database with no schema configured: the platform migrates into
// the connection's current schema (public) even when another schema of the same database holds
// Kysely's migration tables (another application, or a test run's throwaway schema). This test
// makes its own throwaway database, so that it never touches others' use of the shared one.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/index.js';
import { startPlatform } from '../../src/platform.js';
import { openStore } from '../../src/store/index.js';

const pgUrl =
  process.env.DATABASE_URL ??
  (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);
if (!pgUrl) console.warn('public schema start: DATABASE_URL not set, PostgreSQL is not exercised');

const database = `sb_public_${randomBytes(5).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'sb-public-'));

function urlOf(name: string): string {
  const url = new URL(pgUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

describe.runIf(pgUrl)('PostgreSQL start without SWITCHBOARD_DATABASE_SCHEMA', () => {
  beforeAll(async () => {
    await admin((c) => c.query(`CREATE DATABASE "${database}"`));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  });

  it('migrates into public beside another schema holding Kysely migration tables', async () => {
    // Another user of the database, migrated with Kysely in its own schema.
    const other = await openStore({ dataDir: dir, databaseUrl: urlOf(database), schema: 'other' });
    await other.migrate({
      '0001_other': {
        up: async (db) => db.schema.createTable('things').addColumn('id', 'integer').execute(),
      },
    });
    await other.close();

    const config = loadConfig(
      {},
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: dir,
        logLevel: 'silent',
        sipEnabled: false,
        throttle: false,
        databaseUrl: urlOf(database),
      },
    );
    const platform = await startPlatform(config);
    try {
      const res = await fetch(`${platform.url}/2010-04-01/Accounts.json`, {
        headers: {
          authorization:
            'Basic ' +
            Buffer.from(`${platform.owner.sid}:${platform.owner.authToken}`).toString('base64'),
        },
      });
      expect(res.status).toBe(200);
    } finally {
      await platform.stop();
    }

    const db = new pg.Client({ connectionString: urlOf(database) });
    await db.connect();
    const { rows } = await db
      .query<{ table_schema: string }>(
        `SELECT table_schema FROM information_schema.tables
          WHERE table_name = 'kysely_migration' ORDER BY table_schema`,
      )
      .finally(() => db.end());
    const tables = rows.map((r) => r.table_schema);
    expect(tables).toEqual(['other', 'public']);

    // A second start finds its own bookkeeping in public and migrates nothing twice.
    const again = await startPlatform(config);
    await again.stop();
  });
});
