// The TwiML engine: takes inbound calls, places API calls, runs their TwiML (every verb lives
// in engine/verbs/), and carries commands to the node holding a live call.
export {
  VoiceEngine,
  type ClientCallInvite,
  type InboundInvite,
  type VoiceEngineOptions,
} from './engine.js';
