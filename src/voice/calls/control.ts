// What the Calls, Conferences and Queues routes ask of the running calls: a narrow port the
// voice engine implements (placing a call, and commanding a live one on whichever node holds
// it), and the vocabulary of those requests. The routes never see the engine itself.
import type { StatusEvent } from '../callbacks/index.js';
import type { CallRecordingOptions } from '../recordings/index.js';
import type { HttpMethod } from '../twiml/index.js';
import type { CallRow } from './tables.js';

/** A call's own spend limit and hand-off module (extension parameters of Calls create). */
export interface CallSpendLimit {
  readonly limitMicros?: number | undefined;
  readonly handoffModule?: string | undefined;
}

export interface OutboundRequest {
  readonly accountSid: string;
  readonly to: string;
  readonly from: string;
  readonly url: string | undefined;
  readonly twiml: string | undefined;
  readonly method: HttpMethod;
  readonly moduleSid: string | null;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: HttpMethod;
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: HttpMethod;
  readonly statusCallbackEvents: readonly StatusEvent[];
  readonly timeoutS: number;
  /** Extension: the call's own spend limit and the module it is handed to on reaching it. */
  readonly spendLimit?: CallSpendLimit | undefined;
  /** Record=true: the whole call is recorded from the answer. */
  readonly record?: CallRecordingOptions | undefined;
  /** The caller ID presented to the called party (CallerId; default From). */
  readonly callerId?: string | undefined;
  /** SipAuthUsername/SipAuthPassword: digest credentials for a sip: To. */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined;
  /** SendDigits: DTMF sent once the call is answered (`w` waits half a second). */
  readonly sendDigits?: string | undefined;
  /** TimeLimit: the longest the call may last once answered, seconds (Twilio: 4 h). */
  readonly timeLimitS?: number | undefined;
  /** The account's IncomingPhoneNumber the call is placed from (its From), if any. */
  readonly phoneNumberSid?: string | undefined;
}

/** Calls update: what changes on a live call (every field optional, applied together). */
export interface CallUpdate {
  /** completed ends the call in any state; canceled only one not answered yet. */
  readonly status?: 'completed' | 'canceled' | undefined;
  readonly redirect?:
    { readonly url: string; readonly method: HttpMethod } | { readonly twiml: string } | undefined;
  readonly fallback?: { readonly url: string; readonly method: HttpMethod } | undefined;
  readonly statusCallback?: { readonly url: string; readonly method: HttpMethod } | undefined;
  readonly timeLimitS?: number | undefined;
}

/** A command to a live call (or one still being dialled), carried to the node holding it. */
export type CallCommand =
  | { readonly callSid: string; readonly action: 'hangup' }
  | {
      readonly callSid: string;
      readonly action: 'redirect';
      readonly url: string;
      readonly method: HttpMethod;
    }
  | { readonly callSid: string; readonly action: 'twiml'; readonly twiml: string }
  | { readonly callSid: string; readonly action: 'update'; readonly update: CallUpdate };

/** Places a call (Calls create, Participants create): recorded as queued, dialled meanwhile. */
export interface OutboundCalls {
  createOutbound(request: OutboundRequest, authToken: string): Promise<CallRow>;
}

/** Commands a live call on whichever node holds it. */
export interface LiveCalls {
  control(command: CallCommand): Promise<void>;
}
