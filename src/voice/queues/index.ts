// Call queues: <Enqueue>, <Leave>, <Dial><Queue>, and the Queues / Members resources.
export {
  QueueService,
  type AgentLeg,
  type DequeueOutcome,
  type DequeueRequest,
  type Dequeuer,
} from './service.js';
export { QueueStore, DEFAULT_MAX_SIZE, MAX_MAX_SIZE } from './queue-store.js';
export { enqueue } from './enqueue.js';
export { dialQueue } from './dial-queue.js';
export { queueRoutes } from './routes.js';
export { migrations } from './tables.js';
