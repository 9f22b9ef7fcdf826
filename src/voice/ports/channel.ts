// What the voice engine needs from a live call leg. The telephony edge implements it over a
// SIP dialog and an RTP media session; tests of the interpreter may implement it in memory.

export interface ChannelPlayback {
  /** Resolves when the audio has been sent, or was stopped. Never rejects. */
  readonly done: Promise<'finished' | 'stopped'>;
  stop(): void;
}

export interface ChannelRecording {
  /** Stops and resolves with the finished file. */
  stop(): Promise<{ path: string; durationMs: number }>;
  readonly done: Promise<{ path: string; durationMs: number }>;
  /** Takes no sound until resume(): `skip` leaves the time out, `silence` records silence. */
  pause(behavior: 'skip' | 'silence'): void;
  resume(): void;
}

export type HangupCause = 'remote-bye' | 'local' | 'rtp-timeout' | 'canceled' | 'failed';

export interface CallChannel {
  /** Inbound: 180 Ringing. */
  ring(): void;
  /** Inbound: 200 OK with our SDP answer (once). Resolves false when the caller is gone. */
  answer(): Promise<boolean>;
  /** Inbound, before answer: refuse the INVITE (busy → 486, rejected → 603). */
  reject(reason: 'rejected' | 'busy'): void;
  /** Ends the call from our side (BYE, or CANCEL/reject before answer). */
  hangup(): void;
  /** Speaks `text` (or its SSML, when given) in a <Say>'s voice and language. */
  say(
    text: string,
    options: {
      voice?: string | undefined;
      language?: string | undefined;
      ssml?: string | undefined;
    },
  ): Promise<ChannelPlayback>;
  play(url: string): Promise<ChannelPlayback>;
  /** A tone before a recording (Twilio's beep). */
  beep(): ChannelPlayback;
  silence(ms: number): ChannelPlayback;
  sendDigits(digits: string): Promise<void>;
  /** Subscribes to DTMF from the caller; returns the unsubscribe function. */
  onDigit(handler: (digit: string) => void): () => void;
  /**
   * Records this leg to a WAV file: what the caller says (`in`, the default, as <Record>),
   * what the call plays to the caller (`out`: prompts or a bridged party), or both mixed.
   */
  record(options: {
    path: string;
    maxLengthS: number;
    track?: 'in' | 'out' | 'both' | undefined;
    /** Stop after this many seconds of silence (<Record timeout>). */
    silenceS?: number | undefined;
    /** Cut the silence before and after the sound once stopped (trim-silence). */
    trim?: boolean | undefined;
    /** 2: the caller on the left channel, what the call plays to the caller on the right. */
    channels?: 1 | 2 | undefined;
  }): ChannelRecording;
  /** Relays audio both ways between this leg and another until the returned function is called. */
  bridge(other: CallChannel): () => void;
  /** Resolves once, when the call has ended for any reason. */
  readonly ended: Promise<HangupCause>;
  readonly isEnded: boolean;
}

export type DialOutcome =
  | { readonly ok: true; readonly channel: CallChannel; readonly sipCallId: string | undefined }
  | {
      readonly ok: false;
      /** Twilio's DialCallStatus / call status for the failure. */
      readonly status: 'busy' | 'no-answer' | 'failed' | 'canceled';
      readonly sipResponseCode: number | undefined;
    };

/** Places outgoing legs (the telephony edge implements it over SIP trunks). */
export interface Dialer {
  dial(request: {
    to: string;
    from: string;
    timeoutS: number;
    /** The account placing the leg: `client:` targets are looked up among its registrations. */
    accountSid?: string;
    /** The leg's CallSid and, for a `client:` target, its <Parameter>s (the SDK sees both). */
    callSid?: string;
    clientParams?: Readonly<Record<string, string>>;
    headers?: Readonly<Record<string, string>>;
    credentials?: { username: string; password: string } | undefined;
    /** Called on 180/183, so the engine can report ringing. */
    onRinging?: () => void;
    signal?: AbortSignal;
  }): Promise<DialOutcome>;
}
