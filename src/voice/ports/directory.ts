// What the call engine asks of the rest of the platform. The composition root wires these to
// the modules, numbers and billing capabilities; keeping them as small interfaces keeps the
// engine testable and free of those folders' internals.

/** Where an inbound call to a number goes first. */
export interface InboundRoute {
  readonly accountSid: string;
  /** The IncomingPhoneNumber called (null for a call to a SIP Domain). */
  readonly numberSid: string | null;
  readonly moduleSid: string | null;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: 'GET' | 'POST';
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: 'GET' | 'POST';
}

/** A module's entry point, once the dispatcher resolved its code and the policy allowed it. */
export interface ModuleTarget {
  readonly moduleSid: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: 'GET' | 'POST';
  /** The module's StatusCallback (used by a Calls create with its ApplicationSid). */
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: 'GET' | 'POST';
}

export type ModuleResolution =
  | { readonly ok: true; readonly target: ModuleTarget }
  | { readonly ok: false; readonly code: number; readonly message: string };

export interface VoiceDirectory {
  /** The AuthToken that signs this account's webhooks. */
  authToken(accountSid: string): Promise<string | undefined>;
  findInboundRoute(to: string): Promise<InboundRoute | undefined>;
  /**
   * Dispatcher + policy: may `accountSid` hand this call to the module with `code`? For a
   * `spend-limit` hand-off the policy lets a module that costs nothing through although the
   * limit is reached.
   */
  resolveModule(
    accountSid: string,
    code: string,
    callSid: string,
    purpose?: 'redirect' | 'spend-limit',
  ): Promise<ModuleResolution>;
  /** A module by SID (ApplicationSid of a Calls create). */
  moduleBySid(accountSid: string, sid: string): Promise<ModuleTarget | undefined>;
  /** The account's IncomingPhoneNumber with this address (a Calls create's From), if any. */
  numberSid(accountSid: string, address: string): Promise<string | undefined>;
}

/** Why a segment opened or closed: `spend-limit` when the limit handed the call on. */
export type TransitionReason = 'start' | 'redirect' | 'hangup' | 'spend-limit';

/** A live call's spending against its account's (and its own) limit. */
export interface SpendState {
  readonly reached: boolean;
  /** The module the account's limit hands calls to (SpendLimit HandoffModule), if any. */
  readonly accountHandoffModule: string | null;
  /** ms until the open segment reaches the tighter limit; undefined when it never will. */
  readonly msUntilLimit: number | undefined;
}

/** Per-module metering of a call: one segment per period a module controls it. */
export interface SegmentMeter {
  /** Opens a segment; `reason` is start, redirect or spend-limit. Returns the segment's id. */
  open(
    call: { callSid: string; accountSid: string; direction: string },
    moduleSid: string | null,
    reason: Exclude<TransitionReason, 'hangup'>,
    at: number,
  ): Promise<string>;
  /** Closes a segment; `reason` is redirect, hangup or spend-limit. */
  close(segmentId: string, reason: Exclude<TransitionReason, 'start'>, at: number): Promise<void>;
  /** The call's metered cost against its account's limit and its own (`callLimitMicros`). */
  checkSpend(
    callSid: string,
    accountSid: string,
    at: number,
    callLimitMicros: number | undefined,
  ): Promise<SpendState>;
}
