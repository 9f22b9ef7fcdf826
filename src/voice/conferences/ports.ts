// What a conference needs from the rest of the platform: an audio room (the telephony edge
// builds it on the media mixer) and the call leg that joins (the call session provides it).
import type { CallChannel, ChannelRecording } from '../ports/index.js';

/** One conference's audio: every member hears the sum of the others. */
export interface AudioRoom {
  add(channel: CallChannel, muted: boolean): void;
  remove(channel: CallChannel): void;
  /** A muted member still hears the room but is not heard. */
  setMuted(channel: CallChannel, muted: boolean): void;
  /** Plays Twilio's entry/exit beep into the room (every member hears it). */
  tone(kind: 'enter' | 'exit'): void;
  /** Records what the room sounds like (all speaking members, mixed). */
  /** Records the mix; `trim` cuts the silence before and after it once stopped. */
  record(path: string, options?: { trim?: boolean }): ChannelRecording;
  close(): void;
}

export interface ConferenceAudio {
  createRoom(): AudioRoom;
}

/** The call that executes `<Dial><Conference>`. */
export interface ConferenceLeg {
  readonly callSid: string;
  readonly accountSid: string;
  readonly channel: CallChannel;
  /** Signs this account's webhooks (waitUrl, statusCallback). */
  readonly authToken: string;
  /** Relative waitUrl/statusCallback resolve against the document that dialled. */
  readonly documentUrl: string;
  /** Aborted when the call is redirected by the API: the participant leaves the room. */
  readonly signal: AbortSignal;
  /** The Dial's hangupOnStar: `*` takes the participant out of the room. */
  readonly hangupOnStar: boolean;
  /** The Dial's timeLimit: the participant leaves the room after this many seconds. */
  readonly timeLimitS: number;
  params(): Record<string, string>;
  /** Records an error against the call (its notifications). */
  notify(code: number, message: string, url: string | null): void;
}

/** How a participant's time in the room ended (the Dial's outcome). */
export interface ConferenceOutcome {
  readonly status: 'completed' | 'failed';
  readonly durationS: number;
}
