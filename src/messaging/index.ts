export { Messaging } from './messaging.js';
export type { MessageStatusChange, MessagingOptions } from './options.js';
export type { RouteEvent } from './route-log.js';
export { messagingRoutes } from './routes.js';
export { migrations, type MessagingTables } from './tables.js';
export { DEFAULT_WEIGHTS, type RouteWeights } from './router.js';
export { describeText } from './encoding.js';
export { messagingCapability, messagingHandle } from './capability.js';
