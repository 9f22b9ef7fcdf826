// What voice asks of the platform around it: a call leg and a dialer (the telephony edge
// implements them over SIP and RTP), and the directory and segment meter (the composition
// root wires them to modules, numbers, accounts and billing: src/voice/wiring.ts).
export type {
  CallChannel,
  ChannelPlayback,
  ChannelRecording,
  Dialer,
  DialOutcome,
  HangupCause,
} from './channel.js';
export type {
  InboundRoute,
  ModuleResolution,
  ModuleTarget,
  SegmentMeter,
  SpendState,
  TransitionReason,
  VoiceDirectory,
} from './directory.js';
export { noTelephonyDialer } from './no-telephony.js';
