// Call queues: membership (shared by every node), the waiting members of this node, the bridge
// to a member on another node, and the Queues / Members resources. The verbs (<Enqueue>,
// <Dial><Queue>) run in the engine, with the others (src/voice/engine/verbs).
export { QueueService } from './service.js';
export type { AgentLeg, DequeueOutcome, DequeueRequest, Dequeuer } from './member.js';
export { QueueStore, DEFAULT_MAX_SIZE, MAX_MAX_SIZE } from './queue-store.js';
export { queueRoutes } from './routes.js';
export { migrations, type MemberRow, type QueueRow } from './tables.js';
