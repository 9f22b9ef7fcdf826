export { EventLog, type InteractionEvent, type EventLogOptions } from './event-log.js';
export { eventRoutes } from './routes.js';
export { migrations, type EventKind, type EventTables } from './tables.js';
