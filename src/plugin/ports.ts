// The ports capabilities offer one another. Each is a narrow interface, declared here so that
// a capability needing it depends on this contract, not on the capability that offers it.
import { port } from './capability.js';
import type { Statement } from '../store/index.js';

/** One logged interaction (API request, call, segment, message, …) with its tags. */
export interface LoggedEvent {
  readonly accountSid: string | null;
  readonly kind: string;
  readonly actorSid?: string | null;
  readonly method?: string | null;
  readonly resource?: string | null;
  readonly status?: number | null;
  readonly durationMs?: number | null;
  readonly subjectSid?: string | null;
  /** The interaction the event belongs to when its subject is not one (a segment's call). */
  readonly interactionSid?: string | null;
  /** The subject belongs to this interaction (a child call's parent, a call's message). */
  readonly parentSid?: string | null;
  /** Resources whose tags the subject also carries (the application handling a call). */
  readonly via?: readonly (string | null)[];
  readonly occurredAt?: number;
  readonly tags?: readonly string[];
  readonly data?: Readonly<Record<string, unknown>> | null;
}

/** An event as the log wrote it: its interaction (root) and every tag that applies. */
export interface WrittenLogEvent {
  readonly sid: string;
  readonly accountSid: string | null;
  readonly kind: string;
  readonly status: number | null;
  readonly durationMs: number | null;
  readonly subjectSid: string | null;
  readonly interactionSid: string;
  readonly occurredAt: number;
  readonly tags: readonly string[];
  readonly data: Readonly<Record<string, unknown>> | null;
}

/** A reader that counts the log: its statements commit in the unit that writes the batch. */
export interface LogListener {
  statements?(batch: readonly WrittenLogEvent[]): readonly Statement[];
  committed?(batch: readonly WrittenLogEvent[]): void;
}

/** The interaction log (offered by the platform's event log). */
export interface InteractionLog {
  record(event: LoggedEvent): void;
  /** Tags (replacing), parent interaction and tag sources of an interaction, before its events. */
  bind(
    sid: string,
    binding: {
      accountSid: string | null;
      tags?: readonly string[] | undefined;
      parentSid?: string | null | undefined;
      via?: readonly (string | null)[] | undefined;
    },
  ): void;
  /** Makes everything recorded so far durable. */
  flush(): Promise<void>;
  listen(listener: LogListener): () => void;
}
export const interactionLog = port<InteractionLog>('interaction-log');

/** What other capabilities may know of an account. */
export interface AccountDirectory {
  /** The account's auth token (signs its webhooks), or undefined when it does not exist. */
  authToken(accountSid: string): Promise<string | undefined>;
  status(accountSid: string): Promise<'active' | 'suspended' | 'closed' | undefined>;
  /**
   * The API key `keySid` (an AccessToken's issuer): its account and secret (null for a key
   * made before secrets were kept), or undefined when it does not exist (never made, or
   * deleted = revoked). Read fresh, so a revocation on any node counts at once.
   */
  signingKey(keySid: string): Promise<{ accountSid: string; secret: string | null } | undefined>;
  /** The SIDs of the account's subaccounts (empty when it has none). */
  subaccountsOf(accountSid: string): Promise<readonly string[]>;
}
export const accountDirectory = port<AccountDirectory>('account-directory');

/** One device where a Client identity can be reached. */
export interface ClientDevice {
  readonly id: string;
  readonly accountSid: string;
  readonly identity: string;
  /** 'sdk': a Voice SDK connection; 'sip': a phone registered to a SIP Domain. */
  readonly kind: 'sdk' | 'sip';
  readonly status: 'available' | 'busy';
  /** The node holding the device's connection. */
  readonly node: string;
  /** Where a call reaches the device: a SIP URI on the owning node's device gateway. */
  readonly address: string;
  /** ms since the epoch. */
  readonly registeredAt: number;
  readonly lastSeen: number;
}

/** A SIP phone registered to one of an account's SIP Domains (its registrar binding). */
export interface RegisteredPhone {
  readonly id: string;
  readonly accountSid: string;
  /** The user part of its address of record (sip:alice@office.example.com → alice). */
  readonly identity: string;
  /** Its Contact. */
  readonly address: string;
  readonly registeredAt: number;
}

/** Presence: where an account's Client identity is reachable now (offered by presence). */
export interface ClientPresence {
  /** Reachable devices of `identity`, most recently registered first, at most `limit`. */
  devices(accountSid: string, identity: string, limit?: number): readonly ClientDevice[];
  /** A SIP phone registered (or refreshed its registration) with this node's registrar. */
  phoneRegistered(phone: RegisteredPhone): void;
  /** Its registration expired or was removed. */
  phoneGone(id: string): void;
}
export const clientPresence = port<ClientPresence>('client-presence');

/** A call the platform brings to a device of this node (its SIP INVITE, its WebRTC leg). */
export interface DeviceCall {
  readonly deviceId: string;
  readonly callSid: string;
  readonly from: string;
  readonly to: string;
  /** `<Client><Parameter>`s: the SDK's call.customParameters. */
  readonly params: Readonly<Record<string, string>>;
  /** The SDP offer for the browser (ICE-lite, its candidates inside, DTLS-SRTP, PCMU). */
  readonly offer: string;
  /** The browser answered with `sdp`: the call is connected. */
  accept(sdp: string): Promise<void>;
  /** The device refused or vanished before answering. */
  reject(reason: 'busy' | 'declined' | 'gone'): void;
  /** The device hung up after answering. */
  hangup(): void;
  /** DTMF the device sent by signalling (when it negotiated no telephone-event). */
  digits(digits: string): void;
  /** The platform side ended (CANCEL before answer, BYE after): tells the device. */
  onEnd(listener: (how: 'canceled' | 'hangup') => void): void;
}

/** A call a device places (SDK `device.connect`): the token's outgoing application runs it. */
export interface PlacedCallRequest {
  readonly deviceId: string;
  readonly accountSid: string;
  readonly identity: string;
  /** The AccessToken's `outgoing.application_sid`. */
  readonly applicationSid: string;
  /** The SDK's `device.connect({params})` with the token's `outgoing.params` over them. */
  readonly params: Readonly<Record<string, string>>;
  /** The browser's SDP offer. */
  readonly offer: string;
  /** The call is ringing; `sdp` is our WebRTC answer (media may flow from now: early media). */
  ringing(sdp: string): void;
  /** The application answered the call. */
  answered(): void;
  /**
   * The call ended on the platform's side (or never started): `error` carries the SDK's
   * signalling code (31001 application not found, 31486 busy, 31603 declined, 31005 …).
   */
  ended(error?: { readonly code: number; readonly message: string }): void;
}

/** The device's side of a placed call. */
export interface PlacedCall {
  readonly callSid: string;
  /** The device hung up (or went away). */
  hangup(): void;
  /** DTMF the device sent by signalling (when it negotiated no telephone-event). */
  digits(digits: string): void;
}

/** The edge that terminates browser media for presence (offered by the platform). */
export interface DeviceGateway {
  /** The address a device of this node is called at (`ClientDevice.address`). */
  addressOf(deviceId: string): string;
  /** Hands each call for a device of this node to `handler`. */
  onCall(handler: (call: DeviceCall) => void): void;
  /** Places a call from a device of this node to its application (runs on this node). */
  place(request: PlacedCallRequest): PlacedCall;
}
export const deviceGateway = port<DeviceGateway>('device-gateway');

/** A call recording's audio as the voice capability stored it (a WAV file under the data dir). */
export interface RecordingAudio {
  readonly sid: string;
  readonly accountSid: string;
  readonly callSid: string;
  /** in-progress, paused, completed, absent (no sound) or failed. */
  readonly status: string;
  /** 1, or 2 for a dual-channel recording (channel 1 the caller, channel 2 the other side). */
  readonly channels: number;
  readonly durationMs: number;
  /** Absolute path of the WAV file. */
  readonly path: string;
  readonly dateCreated: number;
}

/** Call recordings, read by the capabilities analysing them (offered by voice). */
export interface CallRecordings {
  find(accountSid: string, recordingSid: string): Promise<RecordingAudio | undefined>;
  /**
   * Calls `listener` on this node each time one of its calls' recordings is stored as
   * completed (its audio final); returns the unsubscribe.
   */
  onCompleted(listener: (accountSid: string, recordingSid: string) => void): () => void;
}
export const callRecordings = port<CallRecordings>('call-recordings');
/** Where an inbound message to a number outside every Messaging Service goes. */
export interface SmsNumberRoute {
  readonly accountSid: string;
  readonly numberSid: string;
  /** The number's SmsUrl, or its SMS application's; null: none. */
  readonly url: string | null;
  readonly method: 'GET' | 'POST';
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: 'GET' | 'POST';
}

/** The numbers an account owns, as messaging needs them (offered by voice's numbers). */
export interface SmsNumbers {
  findSmsRoute(to: string): Promise<SmsNumberRoute | undefined>;
}
export const smsNumbers = port<SmsNumbers>('sms-numbers');

/**
 * What the HTTP edge mounts, offered by the platform: read while serving a request (never at
 * start), when every capability's routes are mounted.
 */
export interface ApiCatalogue {
  /** Names of the collections under an account (Calls, Keys, …) for its subresource_uris. */
  subresources(): readonly string[];
  /** Every permission a restricted key may be given (src/core/permissions.ts), as templates. */
  permissions(): ReadonlySet<string>;
}
export const apiCatalogue = port<ApiCatalogue>('api-catalogue');
