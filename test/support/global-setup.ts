// Runs once around the whole test run. Every test that uses PostgreSQL works in a throwaway
// schema (sbt_…, sbq_…, sbc_…, sbcli_…, sbtest_…) whose name starts with this run's id; the
// run's own schemas are dropped here, after every file has finished, because dropping a schema
// while another file's migrator introspects the catalogue makes that migrator fail.
// Several runs may share one database: each holds a shared advisory lock while it runs, and
// leftovers of interrupted runs are dropped only when no other run holds it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ANY_RUN = '^sb(t|q|c|cli|test)_[0-9a-f]+$';
const RUN_LOCK = 0x5b7e57; // arbitrary key naming "a Switchboard test run is active"

let client: pg.Client | undefined;

async function dropSchemas(c: pg.Client, pattern: string): Promise<void> {
  const { rows } = await c.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE nspname ~ $1',
    [pattern],
  );
  for (const { nspname } of rows) await c.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
}

export async function setup(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  process.env.SWITCHBOARD_TEST_RUN = run;
  const url = process.env.DATABASE_URL;
  if (!url) return;
  client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ alone: boolean }>(
    'SELECT pg_try_advisory_lock($1) AS alone',
    [RUN_LOCK],
  );
  await client.query('SELECT pg_advisory_lock_shared($1)', [RUN_LOCK]);
  if (rows[0]?.alone) {
    await dropSchemas(client, ANY_RUN); // leftovers of an interrupted earlier run
    await client.query('SELECT pg_advisory_unlock($1)', [RUN_LOCK]);
  }
}

export async function teardown(): Promise<void> {
  if (!client) return;
  try {
    await dropSchemas(client, `^sb(t|q|c|cli|test)_${process.env.SWITCHBOARD_TEST_RUN}[0-9a-f]+$`);
  } finally {
    await client.end();
  }
}
