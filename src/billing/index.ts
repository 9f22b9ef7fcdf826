export { segmentEvent } from './segment-event.js';
export {
  Billing,
  planOf,
  type BillingOptions,
  type OpenSegmentInput,
  type SpendCheck,
} from './billing.js';
export {
  FREE_PLAN,
  MICROS,
  formatMicros,
  msUntilPrice,
  parseCurrency,
  parseMicros,
  rate,
  type Rated,
  type UsagePlan,
} from './money.js';
export { billingRoutes, entryJson, segmentJson, type BillingRouteOptions } from './routes.js';
export { migrations, type BillingTables, type LedgerEntryRow, type SegmentRow } from './tables.js';
export { CALL_CATEGORIES, type UsageRecord, type UsageQuery } from './usage.js';
export { billingCapability, billingHandle, callMetering, type CallMetering } from './capability.js';
