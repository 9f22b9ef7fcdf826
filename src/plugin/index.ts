export {
  offer,
  port,
  type Capability,
  type CapabilityContext,
  type Offer,
  type PlatformUrls,
  type Port,
  type StartedCapability,
  type WebSocketHandler,
  type WebSocketPeer,
  type WebSocketRoute,
} from './capability.js';
export { composeCapabilities, type ComposedCapabilities } from './compose.js';
export * from './ports.js';
