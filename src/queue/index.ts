import type { Store } from '../store/index.js';
import { createBullmqQueues } from './bullmq.js';
import type { Queues } from './queue.js';
import { createSqlQueues } from './sql.js';

export type { InStore, NewJob, Queue, QueueJob, QueueOptions, Queues } from './queue.js';
export { createSqlQueues, migrations } from './sql.js';
export { createBullmqQueues } from './bullmq.js';

/** BullMQ on Redis when a Redis URL is configured, else the SQL store's queue table. */
export function openQueues(options: {
  store: Store;
  redisUrl?: string | undefined;
  prefix: string;
  onError?: (queue: string, err: Error) => void;
}): Queues {
  if (options.redisUrl) {
    return createBullmqQueues({
      url: options.redisUrl,
      prefix: `${options.prefix}q`,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return createSqlQueues(options.store);
}
