import type { Statement } from '../store/index.js';

/**
 * The queue port: durable named queues of jobs with unique ids, claimed in batches under a lease
 * and acknowledged in batches. A claimed job that is neither acked nor released before its lease
 * ends (the process died) becomes available again, with its attempt count showing it was
 * claimed before. Embedded default: a table in the SQL store (SQLite or PostgreSQL); scale-out:
 * BullMQ on Redis. Both pass the same contract suite (queue.contract.test.ts).
 */
export interface QueueJob<T> {
  readonly id: string;
  readonly data: T;
  /** Claims of this job so far, this one included (1 on the first claim). */
  readonly attempts: number;
  /** When the job was first added (ms). */
  readonly enqueuedAt: number;
}

export interface NewJob<T> {
  /** Unique within the queue; adding an id that is already queued or claimed does nothing. */
  readonly id: string;
  readonly data: T;
  /** Not claimable before this many ms from now. */
  readonly delayMs?: number;
}

/**
 * A queue kept in the SQL store offers the statements behind add and ack, for a caller that
 * runs them with its own records in one Store.commit: the job exists exactly when the record
 * saying it was accepted does, and is removed in the same commit as the status saying what
 * became of it.
 */
export interface InStore<T> {
  add(jobs: readonly NewJob<T>[]): Statement[];
  ack(ids: readonly string[]): Statement[];
}

export interface Queue<T> {
  readonly name: string;
  /** Present when the queue lives in the SQL store (see InStore). */
  readonly inStore?: InStore<T>;
  add(jobs: readonly NewJob<T>[]): Promise<void>;
  /** Claims up to `max` available jobs, oldest first, for the queue's lease. */
  claim(max: number): Promise<QueueJob<T>[]>;
  /** Finished: removes claimed jobs. */
  ack(ids: readonly string[]): Promise<void>;
  /** Returns claimed jobs to the queue, claimable again after delayMs. */
  release(ids: readonly string[], delayMs?: number): Promise<void>;
  /** Jobs waiting or delayed (not claimed). */
  depth(): Promise<number>;
}

export interface QueueOptions {
  /** How long a claim lasts before the job comes back (default 30 s). */
  readonly leaseMs?: number;
}

export interface Queues {
  readonly kind: 'sql' | 'bullmq';
  open<T>(name: string, options?: QueueOptions): Promise<Queue<T>>;
  close(): Promise<void>;
}
