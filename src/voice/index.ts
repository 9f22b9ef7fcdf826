// ---- call engine (calls, TwiML, sessions) ----
export {
  VoiceEngine,
  type VoiceEngineOptions,
  type InboundInvite,
  type ClientCallInvite,
  type OutboundRequest,
} from './engine/engine.js';
export type {
  CallChannel,
  ChannelPlayback,
  ChannelRecording,
  HangupCause,
  Dialer,
  DialOutcome,
} from './ports/channel.js';
export type {
  VoiceDirectory,
  SegmentMeter,
  InboundRoute,
  ModuleTarget,
  ModuleResolution,
} from './ports/directory.js';
export { CallStore } from './calls/call-store.js';
export { CallbackOutbox, type OutboxItem } from './callbacks/outbox.js';
export { migrations as callbackMigrations } from './callbacks/tables.js';
export { callRoutes, type CallPrices } from './calls/routes.js';
export { recordingRoutes } from './recordings/routes.js';
export { notificationRoutes } from './calls/notification-routes.js';
export { migrations as callMigrations } from './calls/tables.js';
export { parseTwiml, TwimlError } from './twiml/parse.js';
export { voiceDirectory, segmentMeter } from './wiring.js';
// ---- conferences (<Dial><Conference>, Conferences and Participants resources) ----
export {
  Conferences,
  ConferenceStore,
  conferenceRoutes,
  migrations as conferenceMigrations,
  type AudioRoom,
  type ConferenceAudio,
} from './conferences/index.js';
// ---- end conferences block ----

// ---- modules, numbers, dispatcher, policy (resources & metering half of issue 4) ----
export {
  Modules,
  applicationRoutes,
  applicationJson,
  canUseModule,
  dispatch,
  isVisibleTo,
  parseModuleRef,
  toModuleInfo,
  validateModuleCode,
  migrations as moduleMigrations,
  type ApplicationRow,
  type DispatchDeps,
  type DispatchTarget,
  type HttpMethod,
  type ModuleInfo,
  type PolicyDecision,
  type PolicyDeps,
  type Visibility,
} from './modules/index.js';
export {
  Numbers,
  numberRoutes,
  numberJson,
  parseAddress,
  routeKeys,
  migrations as numberMigrations,
  type NumberRoute,
  type NumberRow,
} from './numbers/index.js';
// ---- end modules/numbers block ----
// ---- the capability, its handle and the telephony port it reads ----
export { voiceCapability, voiceHandle, type VoiceHandle } from './capability.js';
export { noTelephonyDialer } from './ports/no-telephony.js';
export { telephonyStarter, type TelephonyStarter, type VoiceTelephony } from './telephony-port.js';
