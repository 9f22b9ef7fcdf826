// SIP signalling edge (RFC 3261 core, RFC 3581, RFC 8760 digest). See docs/sip.md.
export {
  createSipEngine,
  SipEngine,
  type SipEngineOptions,
  type SipEngineEvents,
  type SipEngineStats,
} from './user-agent.js';
export {
  IncomingCall,
  OutgoingCall,
  CallLeg,
  DEFAULT_FAILOVER,
  type CallResult,
  type Credentials,
  type EndReason,
  type InfoEvent,
  type InviteOptions,
  type ReinviteRequest,
  type Trunk,
} from './call.js';
export {
  Registrar,
  type Binding,
  type DomainDecision,
  type RegistrarOptions,
  type RemoveReason,
} from './registrar.js';
export type { CredentialsLookup, StoredCredentials, DigestAlgorithm, Verdict } from './digest.js';
export { computeHa1, isSupportedAlgorithm } from './digest.js';
export type { Peer, TransportName } from './transport.js';
export type { NameAddr, SipUri, SipRequest, SipResponse, SipMessage } from './message.js';
export { formatNameAddr, formatUri } from './message.js';
export { parseUri, parseNameAddr, parseMessage, SipParseError } from './parser.js';
export {
  acceptMedia,
  answerWithMedia,
  bindMedia,
  inviteWithMedia,
  type AcceptedMedia,
} from './call-leg.js';
