// Error-aware API throttling (issue 5): see docs/throttling.md.
export {
  Throttle,
  type OnGone,
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
export { clientAddress, resourceOf } from './identity.js';
