// The embedded queue: one table in the SQL store. A claim is one UPDATE … RETURNING that moves
// the jobs' available_at to the end of their lease, so a crashed claimer's jobs come back by
// themselves; PostgreSQL adds FOR UPDATE SKIP LOCKED so that several nodes claim disjoint jobs.
import { sql, type Kysely, type Migration } from 'kysely';
import type { Store } from '../store/index.js';
import type { NewJob, Queue, QueueJob, QueueOptions, Queues } from './queue.js';

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

const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

class SqlQueue<T> implements Queue<T> {
  constructor(
    readonly name: string,
    private readonly db: Kysely<JobsTable>,
    private readonly postgres: boolean,
    private readonly leaseMs: number,
  ) {}

  async add(jobs: readonly NewJob<T>[]): Promise<void> {
    const now = Date.now();
    for (const part of chunks(jobs)) {
      await this.db
        .insertInto('queue_jobs')
        .values(
          part.map((j) => ({
            queue: this.name,
            id: j.id,
            data: JSON.stringify(j.data),
            available_at: now + (j.delayMs ?? 0),
            claimed: 0,
            attempts: 0,
            enqueued_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['queue', 'id']).doNothing())
        .execute();
    }
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
    const result = await sql<{
      id: string;
      data: string;
      attempts: number;
      enqueued_at: number;
    }>`UPDATE queue_jobs SET available_at = ${now + this.leaseMs}, claimed = 1, attempts = attempts + 1
       WHERE queue = ${this.name} AND ${which}
       RETURNING id, data, attempts, enqueued_at`.execute(this.db);
    return result.rows
      .map((r) => ({
        id: r.id,
        data: JSON.parse(r.data) as T,
        attempts: Number(r.attempts),
        enqueuedAt: Number(r.enqueued_at),
      }))
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
  }

  async ack(ids: readonly string[]): Promise<void> {
    for (const part of chunks(ids)) {
      await this.db
        .deleteFrom('queue_jobs')
        .where('queue', '=', this.name)
        .where('id', 'in', part)
        .execute();
    }
  }

  async release(ids: readonly string[], delayMs = 0): Promise<void> {
    const at = Date.now() + delayMs;
    for (const part of chunks(ids)) {
      await this.db
        .updateTable('queue_jobs')
        .set({ available_at: at, claimed: 0 })
        .where('queue', '=', this.name)
        .where('id', 'in', part)
        .execute();
    }
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
      return new SqlQueue<T>(name, db, store.dialect === 'postgres', options.leaseMs ?? 30_000);
    },
    async close() {
      // The store belongs to the caller.
    },
  };
}
