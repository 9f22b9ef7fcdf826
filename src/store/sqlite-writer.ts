// Writes to the SQLite file on a worker thread with its own connection, so that they never
// hold the event loop: bulk inserts of logs written in batches (the interaction event log: one
// row per API request), and atomic units of statements (Store.commit: the messaging hot path
// and the SQL queues). Units that arrive while a transaction runs share the next one (group
// commit: one commit, and one write of each touched page to the WAL, for many units), each in
// a savepoint of its own so that a unit that fails is undone alone. WAL lets the main
// connection read while the thread writes; two writers take turns on SQLite's write lock
// (busy_timeout), and each transaction is short.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

interface Job {
  resolve: (units?: ({ rows: unknown[][] } | { error: string })[]) => void;
  reject: (err: Error) => void;
}

/** One statement of a unit: SQL text and its positional parameters. */
export interface WriterStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /** Run once per row, each row's values after `parameters`. */
  readonly rows?: readonly (readonly unknown[])[];
}

interface Unit {
  readonly statements: readonly WriterStatement[];
  resolve: (rows: unknown[][]) => void;
  reject: (err: Error) => void;
}

type Reply =
  | { id: number; error?: string; units?: undefined }
  | { id: number; units: ({ rows: unknown[][] } | { error: string })[] };

// Plain JavaScript (the worker runs without the TypeScript loader), kept small on purpose.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const statements = new Map();
const prepared = (text) => {
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  return statement;
};
const why = (err) => String((err && err.message) || err);
const insertAll = db.transaction((statement, rows) => {
  for (const values of rows) statement.run(values);
});
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const savepoint = db.prepare('SAVEPOINT unit');
const release = db.prepare('RELEASE unit');
const undo = db.prepare('ROLLBACK TO unit');
function runUnits(units) {
  const out = [];
  try {
    begin.run();
    for (const unit of units) {
      savepoint.run();
      try {
        const rows = [];
        for (const s of unit) {
          const statement = prepared(s.sql);
          if (s.rows) {
            for (const row of s.rows) statement.run(s.parameters.length ? [...s.parameters, ...row] : row);
            rows.push([]);
          } else if (statement.reader) rows.push(statement.all(s.parameters));
          else {
            statement.run(s.parameters);
            rows.push([]);
          }
        }
        release.run();
        out.push({ rows });
      } catch (err) {
        undo.run();
        release.run();
        out.push({ error: why(err) });
      }
    }
    commit.run();
    return out;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    return units.map(() => ({ error: why(err) }));
  }
}
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.close();
    return;
  }
  if (m.units) {
    parentPort.postMessage({ id: m.id, units: runUnits(m.units) });
    return;
  }
  try {
    insertAll(prepared(m.sql), m.rows);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: why(err) });
  }
});
`;

export class SqliteBulkWriter {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private sequence = 0;
  /** Units waiting for the next transaction, and whether one is running. */
  private units: Unit[] = [];
  private unitsRunning = false;
  private failure: Error | undefined;

  constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, driver } });
    this.worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (reply.units) job.resolve(reply.units);
      else if (reply.error === undefined) job.resolve();
      else job.reject(new Error(`SQLite bulk insert failed: ${reply.error}`));
      if (this.jobs.size === 0) this.worker.unref();
    });
    const fatal = (err: Error): void => {
      this.failure = err;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    this.worker.on('error', fatal);
    this.worker.on('exit', (code) => fatal(new Error(`SQLite writer thread exited (${code})`)));
    this.worker.unref();
  }

  /** Inserts rows (each an array of values in column order) in one transaction. */
  insert(sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.sequence;
    return new Promise<void>((resolve, reject) => {
      this.jobs.set(id, { resolve: () => resolve(), reject });
      // Referenced while work is pending, so that a process does not exit with rows in flight.
      this.worker.ref();
      this.worker.postMessage({ id, sql, rows });
    });
  }

  /**
   * Runs the statements as one atomic unit and resolves with each one's rows once committed.
   * Units given in the same synchronous stretch (before the next microtask), or while a
   * transaction runs, share the next transaction, in the order given. Waiting a whole turn of
   * the event loop to gather more cost every API request that waits for its commit a few
   * milliseconds under load (end-to-end p50 25 → 13 ms in bench/messaging); the callers batch
   * their own writes already.
   */
  commit(statements: readonly WriterStatement[]): Promise<unknown[][]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<unknown[][]>((resolve, reject) => {
      this.units.push({ statements, resolve, reject });
      if (!this.unitsRunning && this.units.length === 1) queueMicrotask(() => this.runUnits());
    });
  }

  private runUnits(): void {
    if (this.unitsRunning || !this.units.length) return;
    const units = this.units.splice(0);
    if (this.failure) {
      for (const u of units) u.reject(this.failure);
      return;
    }
    this.unitsRunning = true;
    const id = ++this.sequence;
    const done = () => {
      this.unitsRunning = false;
      this.runUnits();
    };
    this.jobs.set(id, {
      resolve: (replies) => {
        units.forEach((u, i) => {
          const r = replies?.[i];
          if (r && 'rows' in r) u.resolve(r.rows);
          else u.reject(new Error(`SQLite write failed: ${r?.error ?? 'no reply'}`));
        });
        done();
      },
      reject: (err) => {
        for (const u of units) u.reject(err);
        done();
      },
    });
    this.worker.ref();
    // Only the text and the parameters travel (a Kysely CompiledQuery also carries its tree).
    this.worker.postMessage({
      id,
      units: units.map((u) =>
        u.statements.map((s) =>
          s.rows
            ? { sql: s.sql, parameters: s.parameters, rows: s.rows }
            : { sql: s.sql, parameters: s.parameters },
        ),
      ),
    });
  }

  /** Finishes pending inserts, then stops the thread. */
  async close(): Promise<void> {
    if (this.failure) return;
    while (this.units.length || this.unitsRunning) await new Promise((r) => setImmediate(r));
    await Promise.allSettled(
      [...this.jobs.values()].map(
        (job) =>
          new Promise<void>((done) => {
            const { resolve, reject } = job;
            job.resolve = () => (resolve(), done());
            job.reject = (err) => (reject(err), done());
          }),
      ),
    );
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Referenced until it has exited: otherwise an idle process would end right here, before
    // the caller's next step (the CLI's exit status, for one).
    this.worker.ref();
    this.worker.postMessage({ close: true });
    await exited;
  }
}
