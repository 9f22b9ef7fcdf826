// Error-aware API throttling (issue 5): see docs/throttling.md.
export {
  Throttle,
  type Departure,
  type RequestFacts,
  type Ticket,
  type ThrottleDeps,
  type VerifiedCredential,
} from './throttle.js';
export {
  DEFAULT_OPTIONS,
  delayFor,
  statusMatcher,
  throttleOptionsFrom,
  type DelayCurve,
  type ThrottleOptions,
} from './options.js';
export { clientAddress, resourceOf, type ResourceNamer } from './identity.js';
export { throttleCapability, throttleHandle } from './capability.js';
