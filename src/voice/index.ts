// ---- call engine (calls, TwiML, sessions) ----
export {
  VoiceEngine,
  type VoiceEngineOptions,
  type InboundInvite,
  type OutboundRequest,
} from './engine/engine.js';
export type {
  CallChannel,
  ChannelPlayback,
  ChannelRecording,
  HangupCause,
  Dialer,
  DialOutcome,
} from './engine/channel.js';
export type {
  VoiceDirectory,
  SegmentMeter,
  InboundRoute,
  ModuleTarget,
  ModuleResolution,
} from './engine/ports.js';
export { CallStore } from './calls/call-store.js';
export { callRoutes } from './calls/routes.js';
export { migrations as callMigrations } from './calls/tables.js';
export { parseTwiml, TwimlError } from './twiml/parse.js';
