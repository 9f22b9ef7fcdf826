export { Messaging, type MessagingOptions, type RouteEvent } from './messaging.js';
export { messagingRoutes } from './routes.js';
export { migrations, type MessagingTables } from './tables.js';
export { DEFAULT_WEIGHTS, type RouteWeights } from './router.js';
export { TestSmsc, type SmscBehaviour } from './smpp/test-smsc.js';
export { describeText } from './encoding.js';
export { TestHttpCarrier, type HttpCarrierBehaviour } from './http/test-carrier.js';
export { signedHeaders as signCarrierRequest } from './http/contract.js';
