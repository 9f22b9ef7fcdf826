// What the call engine asks of the rest of the platform. The composition root wires these to
// the modules, numbers and billing capabilities; keeping them as small interfaces keeps the
// engine testable and free of those folders' internals.

/** Where an inbound call to a number goes first. */
export interface InboundRoute {
  readonly accountSid: string;
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
}

export type ModuleResolution =
  | { readonly ok: true; readonly target: ModuleTarget }
  | { readonly ok: false; readonly code: number; readonly message: string };

export interface VoiceDirectory {
  /** The AuthToken that signs this account's webhooks. */
  authToken(accountSid: string): Promise<string | undefined>;
  findInboundRoute(to: string): Promise<InboundRoute | undefined>;
  /** Dispatcher + policy: may `accountSid` hand this call to the module with `code`? */
  resolveModule(accountSid: string, code: string, callSid: string): Promise<ModuleResolution>;
  /** A module by SID (ApplicationSid of a Calls create). */
  moduleBySid(accountSid: string, sid: string): Promise<ModuleTarget | undefined>;
}

/** Per-module metering of a call: one segment per period a module controls it. */
export interface SegmentMeter {
  /** Opens a segment; `reason` is start or redirect. Returns the segment's id. */
  open(
    call: { callSid: string; accountSid: string; direction: string },
    moduleSid: string | null,
    reason: 'start' | 'redirect',
    at: number,
  ): Promise<string>;
  /** Closes a segment; `reason` is redirect or hangup. */
  close(segmentId: string, reason: 'redirect' | 'hangup', at: number): Promise<void>;
  /** True when the call's metered cost reached its account's (or its own) spend limit. */
  overSpendLimit(callSid: string, accountSid: string, at: number): Promise<boolean>;
}
