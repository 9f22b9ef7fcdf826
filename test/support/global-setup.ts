// Runs once around the whole test run. Every test that uses PostgreSQL works in a throwaway
// schema (sbt_…, sbq_…, sbc_…, sbcli_…, sbtest_…); they are dropped here, after every file has
// finished, because dropping a schema while another file's migrator introspects the catalogue
// makes that migrator fail.
import pg from 'pg';

const TEST_SCHEMA = '^sb(t|q|c|cli|test)_[0-9a-f]+$';

async function dropTestSchemas(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname ~ $1',
      [TEST_SCHEMA],
    );
    for (const { nspname } of rows) await c.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await c.end();
  }
}

export async function setup(): Promise<void> {
  // Leftovers of an interrupted earlier run.
  await dropTestSchemas();
}

export async function teardown(): Promise<void> {
  await dropTestSchemas();
}
