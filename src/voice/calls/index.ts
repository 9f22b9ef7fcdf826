// Calls: their records (calls and their notifications), the Calls and Notifications
// resources, and the control port through which routes place and command calls.
export { CallStore } from './call-store.js';
export {
  FINAL_STATUSES,
  migrations,
  type CallDirection,
  type CallRow,
  type CallStatus,
  type NotificationRow,
} from './tables.js';
export type {
  CallCommand,
  CallSpendLimit,
  CallUpdate,
  LiveCalls,
  OutboundCalls,
  OutboundRequest,
} from './control.js';
export { callRoutes, type CallPrices } from './routes.js';
export { notificationRoutes } from './notification-routes.js';
