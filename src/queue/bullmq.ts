// The scale-out queue: one BullMQ queue per name on Redis, drained by manual fetching
// (Worker.getNextJob) so that claims are batches and the caller paces the sending. BullMQ's
// lock is the lease: a claimer that dies stops renewing it and the stalled-job checker puts
// its jobs back in the wait list.
import { randomUUID } from 'node:crypto';
import { Queue as BullQueue, Worker, type Job, type ConnectionOptions } from 'bullmq';
import type { NewJob, Queue, QueueJob, QueueOptions, Queues } from './queue.js';

interface Envelope<T> {
  readonly d: T;
  readonly at: number;
}

class BullmqQueue<T> implements Queue<T> {
  private readonly claimed = new Map<string, Job<Envelope<T>>>();
  private readonly token = randomUUID();

  constructor(
    readonly name: string,
    private readonly queue: BullQueue<Envelope<T>>,
    private readonly worker: Worker<Envelope<T>>,
  ) {}

  async add(jobs: readonly NewJob<T>[]): Promise<void> {
    if (!jobs.length) return;
    const at = Date.now();
    await this.queue.addBulk(
      jobs.map((j) => ({
        name: 'job',
        data: { d: j.data, at },
        opts: {
          jobId: `j_${j.id}`,
          ...(j.delayMs ? { delay: j.delayMs } : {}),
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
  }

  // BullMQ refuses integer-looking custom ids, so ours are stored as `j_<id>`.
  // BullMQ moves one job per call (batches are a paid feature); after a first job the others
  // are asked for in parallel, so that their calls share round trips on the connection (they
  // still run one after another in Redis, oldest first). A call that finds the queue empty
  // ends the claim.
  async claim(max: number): Promise<QueueJob<T>[]> {
    const out: QueueJob<T>[] = [];
    let ask = 1;
    while (out.length < max) {
      const n = Math.min(ask, max - out.length);
      const jobs = await Promise.all(
        Array.from(
          { length: n },
          () =>
            this.worker.getNextJob(this.token, { block: false }) as Promise<
              Job<Envelope<T>> | undefined
            >,
        ),
      );
      for (const job of jobs) {
        if (!job?.id) continue;
        this.claimed.set(job.id.slice(2), job);
        out.push({
          id: job.id.slice(2),
          data: job.data.d,
          attempts: job.attemptsStarted,
          enqueuedAt: job.data.at,
        });
      }
      if (jobs.some((j) => !j?.id)) break;
      ask = Math.min(ask * 4, 64);
    }
    return out;
  }

  async ack(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const job = this.claimed.get(id);
        this.claimed.delete(id);
        if (job) await job.moveToCompleted(null, this.token, false).catch(() => undefined);
      }),
    );
  }

  async release(ids: readonly string[], delayMs = 0): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const job = this.claimed.get(id);
        this.claimed.delete(id);
        if (!job) return;
        if (delayMs > 0) await job.moveToDelayed(Date.now() + delayMs, this.token);
        else await job.moveToWait(this.token);
      }),
    );
  }

  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('wait', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }
}

export interface BullmqQueuesOptions {
  readonly url: string;
  /** Key prefix, so that deployments and test runs sharing a Redis do not meet. */
  readonly prefix: string;
  /** Where BullMQ's own errors go (a lost Redis connection, a failed stalled-job check). */
  readonly onError?: (queue: string, err: Error) => void;
}

export function createBullmqQueues(options: BullmqQueuesOptions): Queues {
  const u = new URL(options.url);
  const connection: ConnectionOptions = {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    maxRetriesPerRequest: null,
  };
  const opened: { queue: BullQueue; worker: Worker }[] = [];
  return {
    kind: 'bullmq',
    async open<T>(name: string, opts: QueueOptions = {}): Promise<Queue<T>> {
      const leaseMs = opts.leaseMs ?? 30_000;
      const queue = new BullQueue<Envelope<T>>(name, { connection, prefix: options.prefix });
      const worker = new Worker<Envelope<T>>(name, null, {
        connection,
        prefix: options.prefix,
        autorun: false,
        lockDuration: leaseMs,
        stalledInterval: Math.max(250, Math.floor(leaseMs / 2)),
        // A job that outlived a crashed claimer goes back to wait however often that happens;
        // the caller's own records say whether it was sent.
        maxStalledCount: 1_000_000,
      });
      // BullMQ retries by itself; its errors are reported, not thrown at the caller.
      const report = (err: Error) => options.onError?.(name, err);
      worker.on('error', report);
      queue.on('error', report);
      await queue.waitUntilReady();
      await worker.waitUntilReady();
      void worker.startStalledCheckTimer();
      opened.push({ queue, worker });
      return new BullmqQueue<T>(name, queue, worker);
    },
    async close() {
      for (const { queue, worker } of opened.splice(0)) {
        await worker.close(true);
        await queue.close();
      }
    },
  };
}
