// The WebRTC edge: browser media terminated on the server and joined to the RTP engine, and
// the device gateway through which calls reach Voice SDK devices and devices place calls
// (docs/presence.md).
export { startDeviceGateway, type StartedDeviceGateway } from './gateway.js';
export { gatewaySecret, DEVICE_AUTH_HEADER, type GatewaySecret } from './gateway-auth.js';
export { CLIENT_CALL_HEADER, type ClientCallTicket } from './placed-call.js';
export { BrowserLeg } from './browser-leg.js';
export { RtpRelay } from './rtp-relay.js';
