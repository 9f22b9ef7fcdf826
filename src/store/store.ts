import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

/** The SQL store port: one Kysely code path over SQLite (default) or PostgreSQL. */
export interface Store {
  readonly dialect: Dialect;
  /** A Kysely handle typed with the caller's own tables (each capability owns its tables). */
  kysely<Tables>(): Kysely<Tables>;
  /** Applies every migration not yet applied; returns the names applied now. */
  migrate(migrations: Readonly<Record<string, Migration>>): Promise<string[]>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise SQLite under dataDir. */
  databaseUrl?: string | undefined;
  /** PostgreSQL schema to create and use (tests use a throwaway one per run). */
  schema?: string | undefined;
  dataDir: string;
  /** SQLite file name inside dataDir (default switchboard.db); ':memory:' for none. */
  sqliteFile?: string;
}

// PostgreSQL returns int8 as strings; our int8 columns hold epoch milliseconds and counters,
// all far below 2^53, so numbers are safe and keep one code path for both dialects.
pg.types.setTypeParser(20, (v) => Number(v));
// numeric (prices) as numbers too.
pg.types.setTypeParser(1700, (v) => Number(v));

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openStore(options: StoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.schema);
  if (url)
    throw new Error(`DATABASE_URL must start with postgres:// (got "${url.split(':')[0]}:")`);
  return openSqlite(options.dataDir, options.sqliteFile ?? 'switchboard.db');
}

function openSqlite(dataDir: string, file: string): Store {
  let path = file;
  if (file !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    path = join(dataDir, file);
  }
  const database = new SQLite(path);
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  return makeStore('sqlite', db);
}

async function openPostgres(url: string, schema: string | undefined): Promise<Store> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  }
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  // search_path is set at connection start-up, so no query can run before it applies.
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; queries still fail loudly.
  pool.on('error', () => undefined);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  return makeStore('postgres', db, schema);
}

function makeStore(dialect: Dialect, db: Kysely<unknown>, schema?: string): Store {
  return {
    dialect,
    kysely<Tables>() {
      return db as unknown as Kysely<Tables>;
    },
    async migrate(migrations) {
      const provider: MigrationProvider = { getMigrations: async () => ({ ...migrations }) };
      // Kysely looks for its bookkeeping tables in every schema unless told which one is ours.
      const migrator = new Migrator({
        db,
        provider,
        allowUnorderedMigrations: true,
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async close() {
      await db.destroy();
    },
  };
}
