// ---- call engine (calls, TwiML, sessions) ----
export {
  VoiceEngine,
  type VoiceEngineOptions,
  type InboundInvite,
  type ClientCallInvite,
} from './engine/index.js';
export type { OutboundRequest } from './calls/index.js';
export type {
  CallChannel,
  ChannelPlayback,
  ChannelRecording,
  HangupCause,
  Dialer,
  DialOutcome,
  VoiceDirectory,
  SegmentMeter,
  InboundRoute,
  ModuleTarget,
  ModuleResolution,
} from './ports/index.js';
export {
  CallStore,
  callRoutes,
  notificationRoutes,
  migrations as callMigrations,
  type CallPrices,
} from './calls/index.js';
export {
  CallbackOutbox,
  migrations as callbackMigrations,
  type OutboxItem,
} from './callbacks/index.js';
export { recordingRoutes } from './recordings/index.js';
export { parseTwiml, TwimlError } from './twiml/index.js';
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
export { noTelephonyDialer } from './ports/index.js';
export { telephonyStarter, type TelephonyStarter, type VoiceTelephony } from './telephony-port.js';
