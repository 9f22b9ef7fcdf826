import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  sql,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
  type RawBuilder,
  type SqliteDatabase,
} from 'kysely';
import pg from 'pg';
import { SqliteBulkWriter } from './sqlite-writer.js';

export type Dialect = 'sqlite' | 'postgres';

/** One SQL statement compiled for the store's dialect (e.g. Kysely's `.compile(db)`). */
export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /** Run once per row instead, each row's values after `parameters` (Store.insertRows). */
  readonly rows?: readonly (readonly unknown[])[];
}

/** The SQL store port: one Kysely code path over SQLite (default) or PostgreSQL. */
export interface Store {
  readonly dialect: Dialect;
  /** A Kysely handle typed with the caller's own tables (each capability owns its tables). */
  kysely<Tables>(): Kysely<Tables>;
  /** Applies every migration not yet applied; returns the names applied now. */
  migrate(migrations: Readonly<Record<string, Migration>>): Promise<string[]>;
  /**
   * Inserts many rows at once, as cheaply as the backend allows (SQLite: one cached prepared
   * statement in one transaction, on a writer thread of its own; PostgreSQL: one statement
   * whose one parameter is the rows as JSON). For logs written in batches.
   */
  insertMany<Row extends object>(
    table: string,
    columns: readonly (keyof Row & string)[],
    rows: readonly Row[],
  ): Promise<void>;
  /**
   * insertMany with each row given as its values in column order: for a log whose rows are
   * built for this (the interaction event log), no row object is made and taken apart.
   */
  insertValues(
    table: string,
    columns: readonly string[],
    values: readonly (readonly unknown[])[],
  ): Promise<void>;
  /**
   * Rows passed as one JSON parameter, as a FROM item whose columns are those of `table`
   * (`UPDATE t SET … FROM ${store.rows('t', ['id', 'n'], rows)} AS v WHERE t.id = v.id`). The
   * statement's text is the same whatever the number of rows, so one prepared statement (and
   * on PostgreSQL one round trip) serves a whole batch of writes.
   */
  rows<Row extends object>(
    table: string,
    columns: readonly (keyof Row & string)[],
    rows: readonly Row[],
  ): RawBuilder<unknown>;
  /**
   * Runs statements as one atomic unit; resolves with each statement's rows (those of a
   * SELECT or RETURNING, [] for the others) once they are committed, rejects when the unit
   * failed (none of it is stored). SQLite: on the writer thread, off the event loop, in the
   * order given; units that arrive while a transaction runs share the next one (group commit;
   * each unit in its own savepoint). PostgreSQL: one transaction on a pooled connection (units
   * given together may run side by side). For hot paths that write often and in batches
   * (messaging, the SQL queues).
   */
  commit(statements: readonly Statement[]): Promise<unknown[][]>;
  /**
   * True when units given to commit() one after another are committed in that order (SQLite:
   * one writer), so that a caller may give the next before the previous is done; PostgreSQL
   * may commit them side by side.
   */
  readonly commitsInOrder: boolean;
  /**
   * The statement inserting rows, for commit(): SQLite runs one cached prepared INSERT per row
   * (for a wide row several times cheaper than unpacking it from JSON); PostgreSQL one INSERT
   * whose one parameter is the rows as JSON. `ignoreConflictOn` names a unique key whose
   * clashing rows are left out (ON CONFLICT … DO NOTHING).
   */
  insertRows<Row extends object>(
    table: string,
    columns: readonly (keyof Row & string)[],
    rows: readonly Row[],
    ignoreConflictOn?: readonly (keyof Row & string)[],
  ): Statement;
  close(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

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
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: cachingPrepare(database) }),
  });
  const sqlOf = (table: string, columns: readonly string[]): string =>
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  let bulk: BulkInsert;
  let closeBulk: (() => Promise<void>) | undefined;
  let commit: Commit | undefined;
  if (path === ':memory:') {
    // A second connection would open another, empty, in-memory database: insert here.
    const statements = new Map<string, SQLite.Statement>();
    const insertAll = database.transaction(
      (statement: SQLite.Statement, rows: readonly (readonly unknown[])[]) => {
        for (const values of rows) statement.run(values);
      },
    );
    bulk = async (table, columns, values) => {
      const text = sqlOf(table, columns);
      let statement = statements.get(text);
      if (!statement) statements.set(text, (statement = database.prepare(text)));
      insertAll(statement, values);
    };
  } else {
    const writer = new SqliteBulkWriter(path);
    bulk = (table, columns, values) => writer.insert(sqlOf(table, columns), values);
    commit = (statements) => writer.commit(statements);
    closeBulk = () => writer.close();
  }
  return makeStore('sqlite', db, undefined, bulk, closeBulk, commit);
}

/** Prepared statements kept by SQL text (most recently used), for the dialect to reuse. */
const STATEMENT_CACHE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, which costs as much as running a short
 * one; the same SQL text gets the same statement from here. Safe because the dialect runs one
 * statement at a time on its single connection and reads results eagerly (all/run).
 */
function cachingPrepare(database: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text); // re-inserted below: most recently used last
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
    close: () => database.close(),
  };
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
  // Kysely's migrator searches every schema for its bookkeeping tables unless told which one is
  // ours; finding another application's (or a test run's) it then queries them unqualified here.
  // With no schema configured, ours is the connection's current one (usually public).
  const ours = schema ?? (await currentSchema(pool));
  return makeStore('postgres', db, ours);
}

async function currentSchema(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ name: string | null }>('SELECT current_schema() AS name');
  const name = rows[0]?.name;
  if (!name) {
    await pool.end();
    throw new Error(
      'PostgreSQL: the search_path names no existing schema; set SWITCHBOARD_DATABASE_SCHEMA',
    );
  }
  return name;
}

/** Rows given as their values in column order. */
type BulkInsert = (
  table: string,
  columns: readonly string[],
  values: readonly (readonly unknown[])[],
) => Promise<void>;

type Commit = (statements: readonly Statement[]) => Promise<unknown[][]>;

/** Store.commit on the main connection: one transaction (none for a single statement). */
async function commitHere(db: Kysely<unknown>, statements: readonly Statement[]) {
  const run = async (on: Kysely<unknown>) => {
    const out: unknown[][] = [];
    for (const s of statements) {
      if (s.rows) {
        for (const row of s.rows) {
          await on.executeQuery(CompiledQuery.raw(s.sql, [...s.parameters, ...row]));
        }
        out.push([]);
        continue;
      }
      const r = await on.executeQuery(CompiledQuery.raw(s.sql, [...s.parameters]));
      out.push(r.rows as unknown[]);
    }
    return out;
  };
  if (statements.length === 1 && !statements[0]!.rows) return run(db);
  return db.transaction().execute(run);
}

function checkIdentifiers(table: string, columns: readonly string[]): void {
  for (const name of [table, ...columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
  }
}

/** PostgreSQL: the rows as one JSON parameter (one statement whatever their number). */
async function insertJson(
  db: Kysely<unknown>,
  table: string,
  columns: readonly string[],
  rows: readonly object[],
): Promise<void> {
  const cols = sql.raw(columns.join(', '));
  await sql`INSERT INTO ${sql.raw(table)} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${sql.raw(
    table,
  )}, ${JSON.stringify(rows)}::json)`.execute(db);
}

function makeStore(
  dialect: Dialect,
  db: Kysely<unknown>,
  schema?: string,
  bulk?: BulkInsert,
  closeBulk?: () => Promise<void>,
  commit?: Commit,
): Store {
  return {
    dialect,
    commitsInOrder: dialect === 'sqlite',
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
    async insertMany(table, columns, rows) {
      if (rows.length === 0) return;
      checkIdentifiers(table, columns);
      if (bulk) {
        const values = rows.map((row) =>
          columns.map((c) => (row as Record<string, unknown>)[c] ?? null),
        );
        return bulk(table, columns, values);
      }
      await insertJson(db, table, columns, rows);
    },
    async insertValues(table, columns, values) {
      if (values.length === 0) return;
      checkIdentifiers(table, columns);
      if (bulk) return bulk(table, columns, values);
      const rows = values.map((v) => Object.fromEntries(columns.map((c, i) => [c, v[i] ?? null])));
      await insertJson(db, table, columns, rows);
    },
    rows(table, columns, rows) {
      for (const name of [table, ...columns]) {
        if (!IDENTIFIER.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
      }
      const json = JSON.stringify(rows);
      if (dialect === 'postgres') {
        // Typed by the table's row type; keys not given are NULL.
        return sql`json_populate_recordset(NULL::${sql.raw(table)}, ${json}::json)`;
      }
      const picks = columns.map((c) => `value ->> '${c}' AS ${c}`).join(', ');
      return sql`(SELECT ${sql.raw(picks)} FROM json_each(${json}))`;
    },
    insertRows(table, columns, rows, ignoreConflictOn) {
      for (const name of [table, ...columns, ...(ignoreConflictOn ?? [])]) {
        if (!IDENTIFIER.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
      }
      const cols = columns.join(', ');
      const conflict = ignoreConflictOn
        ? ` ON CONFLICT (${ignoreConflictOn.join(', ')}) DO NOTHING`
        : '';
      if (dialect === 'postgres') {
        return {
          sql: `INSERT INTO ${table} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${table}, $1::json)${conflict}`,
          parameters: [JSON.stringify(rows)],
        };
      }
      return {
        sql: `INSERT INTO ${table} (${cols}) VALUES (${columns.map(() => '?').join(', ')})${conflict}`,
        parameters: [],
        rows: rows.map((row) => columns.map((c) => (row as Record<string, unknown>)[c] ?? null)),
      };
    },
    commit(statements) {
      if (!statements.length) return Promise.resolve([]);
      return commit ? commit(statements) : commitHere(db, statements);
    },
    async close() {
      await closeBulk?.();
      await db.destroy();
    },
  };
}
