// What the Recordings routes ask of live calls: a narrow port the voice engine implements (it
// carries each command to the node holding the call), and the vocabulary of those commands.
import type { ErrorName } from '../../core/index.js';
import type { HttpMethod } from '../twiml/index.js';

export type RecordingEvent = 'in-progress' | 'completed' | 'absent';
export type RecordingTrack = 'inbound' | 'outbound' | 'both';

export interface CallRecordingOptions {
  /** Twilio's RecordingSource: OutboundAPI, DialVerb… */
  readonly source: string;
  readonly track: RecordingTrack;
  readonly statusCallback: string | undefined;
  readonly statusCallbackMethod: HttpMethod;
  readonly statusCallbackEvents: readonly RecordingEvent[];
  /** Longest recording, seconds (Twilio: the call's own limit, 4 h by default). */
  readonly maxLengthS?: number;
  /** Cut the silence before and after the sound when it stops (trim-silence). */
  readonly trim?: boolean;
  /** 2: the caller on the left channel, what the call plays to the caller on the right. */
  readonly channels?: 1 | 2;
}

/** A Call Recordings API request, carried to the node that holds the call. */
export type RecordingCommand =
  | { readonly op: 'start'; readonly options: CallRecordingOptions }
  | {
      readonly op: 'update';
      /** A recording SID, or `Twilio.CURRENT`. */
      readonly sid: string;
      readonly status: 'paused' | 'in-progress' | 'stopped';
      readonly pauseBehavior: 'skip' | 'silence';
    };

export type RecordingReply =
  | { readonly ok: true; readonly sid: string }
  | { readonly ok: false; readonly error: ErrorName; readonly detail: string };

/** Runs a recording command on a live call, wherever it runs. */
export interface CallRecordingControl {
  recording(callSid: string, command: RecordingCommand): Promise<RecordingReply>;
}

/** The call a Call Recordings request names, as the routes need it (the call records own it). */
export interface RecordedCalls {
  get(
    accountSid: string,
    sid: string,
  ): Promise<{ readonly sid: string; readonly status: string } | undefined>;
}
