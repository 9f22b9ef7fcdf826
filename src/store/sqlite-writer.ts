// Bulk inserts into the SQLite file on a worker thread with its own connection, so that logs
// written in batches (the interaction event log: one row per API request) never hold the
// event loop. WAL lets the main connection read while the worker writes; two writers take
// turns on SQLite's write lock (busy_timeout), and each batch is one short transaction.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

interface Job {
  resolve: () => void;
  reject: (err: Error) => void;
}

type Reply = { id: number; error?: string };

// Plain JavaScript (the worker runs without the TypeScript loader), kept small on purpose.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const statements = new Map();
const insertAll = db.transaction((statement, rows) => {
  for (const values of rows) statement.run(values);
});
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    let statement = statements.get(m.sql);
    if (!statement) {
      statement = db.prepare(m.sql);
      statements.set(m.sql, statement);
    }
    insertAll(statement, m.rows);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

export class SqliteBulkWriter {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private sequence = 0;
  private failure: Error | undefined;

  constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, driver } });
    this.worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (reply.error === undefined) job.resolve();
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
  insert(sql: string, rows: readonly unknown[][]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.sequence;
    return new Promise<void>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      // Referenced while work is pending, so that a process does not exit with rows in flight.
      this.worker.ref();
      this.worker.postMessage({ id, sql, rows });
    });
  }

  /** Finishes pending inserts, then stops the thread. */
  async close(): Promise<void> {
    if (this.failure) return;
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
