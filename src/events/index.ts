export {
  EventLog,
  type BatchListener,
  type InteractionEvent,
  type EventLogOptions,
  type WrittenEvent,
} from './event-log.js';
export { eventRoutes } from './routes.js';
export { migrations, type EventKind, type EventRow, type EventTables } from './tables.js';
export { eventsCapability, eventLogHandle } from './capability.js';
