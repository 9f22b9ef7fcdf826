// The embedded queue: one table in the SQL store. A claim is one UPDATE … RETURNING that moves
// the jobs' available_at to the end of their lease, so a crashed claimer's jobs come back by
// themselves; PostgreSQL adds FOR UPDATE SKIP LOCKED so that several nodes claim disjoint jobs.
// Every statement goes through Store.commit: on SQLite it runs on the store's writer thread and
// shares a transaction with whatever else is being written at the time (the messages' statuses).
import { sql, type Kysely, type Migration } from 'kysely';
import type { Statement, Store } from '../store/index.js';
import type { InStore, NewJob, Queue, QueueJob, QueueOptions, Queues } from './queue.js';

interface JobsTable {
  queue_jobs: {
    queue: string;
    id: string;
    data: string;
    available_at: number;
    claimed: number;
    attempts: number;
    enqueued_at: number;
  };
}

export const migrations: Record<string, Migration> = {
  queue_0001_jobs: {
    async up(db) {
      await db.schema
        .createTable('queue_jobs')
        .addColumn('queue', 'varchar(64)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('available_at', 'bigint', (c) => c.notNull())
        .addColumn('claimed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('queue_jobs_pk', ['queue', 'id'])
        .execute();
      await db.schema
        .createIndex('queue_jobs_available')
        .on('queue_jobs')
        .columns(['queue', 'available_at'])
        .execute();
    },
  },
};

class SqlQueue<T> implements Queue<T> {
  constructor(
    readonly name: string,
    private readonly db: Kysely<JobsTable>,
    private readonly store: Store,
    private readonly postgres: boolean,
    private readonly leaseMs: number,
  ) {}

  // add, ack and release pass their jobs as one JSON parameter (Store.rows): one statement and
  // one prepared statement for a batch of any size.

  readonly inStore: InStore<T> = {
    add: (jobs) => (jobs.length ? [this.addStatement(jobs)] : []),
    ack: (ids) => (ids.length ? [this.ackStatement(ids)] : []),
  };

  async add(jobs: readonly NewJob<T>[]): Promise<void> {
    await this.store.commit(this.inStore.add(jobs));
  }

  private addStatement(jobs: readonly NewJob<T>[]): Statement {
    const now = Date.now();
    const rows = jobs.map((j) => ({
      queue: this.name,
      id: j.id,
      data: JSON.stringify(j.data),
      available_at: now + (j.delayMs ?? 0),
      claimed: 0,
      attempts: 0,
      enqueued_at: now,
    }));
    const columns = [
      'queue',
      'id',
      'data',
      'available_at',
      'claimed',
      'attempts',
      'enqueued_at',
    ] as const;
    return this.store.insertRows('queue_jobs', columns, rows, ['queue', 'id']);
  }

  async claim(max: number): Promise<QueueJob<T>[]> {
    if (max <= 0) return [];
    const now = Date.now();
    // PostgreSQL may re-run an IN (… LIMIT) sub-select per row; ARRAY(…) evaluates it once.
    const pick = sql`SELECT id FROM queue_jobs WHERE queue = ${this.name} AND available_at <= ${now}
         ORDER BY available_at, enqueued_at LIMIT ${max}`;
    const which = this.postgres
      ? sql`id = ANY(ARRAY(${pick} FOR UPDATE SKIP LOCKED))`
      : sql`id IN (${pick})`;
    const [rows] = (await this.store.commit([
      sql`UPDATE queue_jobs SET available_at = ${now + this.leaseMs}, claimed = 1, attempts = attempts + 1
       WHERE queue = ${this.name} AND ${which}
       RETURNING id, data, attempts, enqueued_at`.compile(this.db),
    ])) as { id: string; data: string; attempts: number; enqueued_at: number }[][];
    return rows!
      .map((r) => ({
        id: r.id,
        data: JSON.parse(r.data) as T,
        attempts: Number(r.attempts),
        enqueuedAt: Number(r.enqueued_at),
      }))
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
  }

  async ack(ids: readonly string[]): Promise<void> {
    await this.store.commit(this.inStore.ack(ids));
  }

  private ackStatement(ids: readonly string[]): Statement {
    return sql`DELETE FROM queue_jobs WHERE queue = ${this.name}
      AND id IN (SELECT id FROM ${this.idRows(ids)} AS v)`.compile(this.db);
  }

  async release(ids: readonly string[], delayMs = 0): Promise<void> {
    if (!ids.length) return;
    await this.store.commit([
      sql`UPDATE queue_jobs SET available_at = ${Date.now() + delayMs}, claimed = 0
      WHERE queue = ${this.name} AND id IN (SELECT id FROM ${this.idRows(ids)} AS v)`.compile(
        this.db,
      ),
    ]);
  }

  private idRows(ids: readonly string[]) {
    return this.store.rows(
      'queue_jobs',
      ['id'],
      ids.map((id) => ({ id })),
    );
  }

  async depth(): Promise<number> {
    const now = Date.now();
    const row = await this.db
      .selectFrom('queue_jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('queue', '=', this.name)
      .where((eb) => eb.or([eb('claimed', '=', 0), eb('available_at', '<=', now)]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/** Queues in the SQL store (its `migrations` must have been applied with the platform's). */
export function createSqlQueues(store: Store): Queues {
  const db = store.kysely<JobsTable>();
  return {
    kind: 'sql',
    async open<T>(name: string, options: QueueOptions = {}): Promise<Queue<T>> {
      return new SqlQueue<T>(
        name,
        db,
        store,
        store.dialect === 'postgres',
        options.leaseMs ?? 30_000,
      );
    },
    async close() {
      // The store belongs to the caller.
    },
  };
}
