// TwiML verbs as typed values: what the interpreter executes. Attribute names follow TwiML
// (camelCase in the XML); defaults are Twilio's.

export type HttpMethod = 'GET' | 'POST';

export interface SayVerb {
  readonly verb: 'Say';
  readonly text: string;
  /** The text as SSML for the speech engine, when the <Say> holds SSML elements. */
  readonly ssml: string | undefined;
  readonly voice: string | undefined;
  readonly language: string | undefined;
  /** 0 = repeat until the call moves on. */
  readonly loop: number;
}

export interface PlayVerb {
  readonly verb: 'Play';
  readonly url: string | undefined;
  readonly loop: number;
  /** DTMF digits to send instead of audio (`w` = half-second pause). */
  readonly digits: string | undefined;
}

export interface PauseVerb {
  readonly verb: 'Pause';
  readonly lengthS: number;
}

export type Prompt = SayVerb | PlayVerb | PauseVerb;

export interface GatherVerb {
  readonly verb: 'Gather';
  readonly input: readonly string[];
  readonly numDigits: number | undefined;
  readonly finishOnKey: string;
  readonly timeoutS: number;
  readonly action: string | undefined;
  readonly method: HttpMethod;
  readonly actionOnEmptyResult: boolean;
  /** false: the prompts play to the end even once the caller pressed a key. */
  readonly bargeIn: boolean;
  readonly prompts: readonly Prompt[];
}

export interface RecordVerb {
  readonly verb: 'Record';
  readonly maxLengthS: number;
  readonly timeoutS: number;
  readonly finishOnKey: string;
  readonly playBeep: boolean;
  readonly action: string | undefined;
  readonly method: HttpMethod;
  readonly recordingStatusCallback: string | undefined;
  readonly recordingStatusCallbackMethod: HttpMethod;
  readonly recordingStatusCallbackEvents: readonly RecordingEvent[];
  /** trim-silence (Twilio's default) cuts the silence before and after what was said. */
  readonly trim: 'trim-silence' | 'do-not-trim';
}

export type RecordingEvent = 'in-progress' | 'completed' | 'absent';

/** `<Start><Recording>`: records the rest of the call, both parties mixed. */
export interface StartRecordingVerb {
  readonly verb: 'StartRecording';
  readonly track: 'inbound' | 'outbound' | 'both';
  readonly trim: 'trim-silence' | 'do-not-trim';
  /** 2 (channels="dual"): the caller on the left, what the call plays to it on the right. */
  readonly channels: 1 | 2;
  readonly recordingStatusCallback: string | undefined;
  readonly recordingStatusCallbackMethod: HttpMethod;
  readonly recordingStatusCallbackEvents: readonly RecordingEvent[];
}

export interface RedirectVerb {
  readonly verb: 'Redirect';
  /** A URL (relative to the document's), or `module:<ModuleCode>`. */
  readonly target: string;
  readonly method: HttpMethod;
}

export interface HangupVerb {
  readonly verb: 'Hangup';
}

export interface RejectVerb {
  readonly verb: 'Reject';
  readonly reason: 'rejected' | 'busy';
}

export type CallEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** What a <Number>, <Sip> or <Client> adds to its leg: a whisper, DTMF, status callbacks. */
export interface LegOptions {
  /** TwiML played to the called party once it answers, before the bridge. */
  readonly url: string | undefined;
  readonly method: HttpMethod;
  /** <Number sendDigits>: DTMF sent to the called party once it answers (`w` waits 0.5 s). */
  readonly sendDigits: string | undefined;
  readonly statusCallback: string | undefined;
  readonly statusCallbackMethod: HttpMethod;
  readonly statusCallbackEvents: readonly CallEvent[];
}

export type DialNoun =
  | (LegOptions & { readonly noun: 'Number'; readonly number: string })
  | (LegOptions & {
      readonly noun: 'Sip';
      readonly uri: string;
      readonly username: string | undefined;
      readonly password: string | undefined;
      /** `<Headers><Header name value>`: extra headers of the INVITE. */
      readonly headers: Readonly<Record<string, string>>;
    })
  | (LegOptions & {
      readonly noun: 'Client';
      readonly identity: string;
      /** <Parameter>s: the Voice SDK's call.customParameters. */
      readonly parameters?: Readonly<Record<string, string>>;
    })
  | ConferenceNoun;

/** `<Dial><Conference>`: joins the call to a named room (see src/voice/conferences). */
export interface ConferenceNoun {
  readonly noun: 'Conference';
  readonly name: string;
  readonly muted: boolean;
  readonly beep: 'true' | 'false' | 'onEnter' | 'onExit';
  readonly startConferenceOnEnter: boolean;
  readonly endConferenceOnExit: boolean;
  /** undefined = the default wait sound; '' = silence. */
  readonly waitUrl: string | undefined;
  readonly waitMethod: HttpMethod;
  readonly maxParticipants: number;
  readonly record: 'do-not-record' | 'record-from-start';
  readonly statusCallback: string | undefined;
  readonly statusCallbackMethod: HttpMethod;
  /** start end join leave mute hold (Twilio's statusCallbackEvent values). */
  readonly statusCallbackEvent: readonly string[];
  readonly participantLabel: string | undefined;
  /** The room recording (record-from-start): trimmed by default, as on Twilio. */
  readonly trim: 'trim-silence' | 'do-not-trim';
  readonly recordingStatusCallback: string | undefined;
  readonly recordingStatusCallbackMethod: HttpMethod;
  readonly recordingStatusCallbackEvents: readonly RecordingEvent[];
}

export interface DialVerb {
  readonly verb: 'Dial';
  readonly nouns: readonly DialNoun[];
  readonly timeoutS: number;
  readonly callerId: string | undefined;
  readonly action: string | undefined;
  readonly method: HttpMethod;
  readonly timeLimitS: number;
  readonly hangupOnStar: boolean;
  /** true: the nouns ring one after another, each for `timeout`, instead of all at once. */
  readonly sequential: boolean;
  /** Records the bridged call from the answer or from ringing (`-dual`: recordChannels 2). */
  readonly record: 'do-not-record' | 'record-from-answer' | 'record-from-ringing';
  /** 2: the caller (parent call) on the left, the called party (child) on the right. */
  readonly recordChannels: 1 | 2;
  /** trim-silence cuts the silence before and after (Twilio's <Dial> default: do-not-trim). */
  readonly trim: 'trim-silence' | 'do-not-trim';
  readonly recordingStatusCallback: string | undefined;
  readonly recordingStatusCallbackMethod: HttpMethod;
  readonly recordingStatusCallbackEvents: readonly RecordingEvent[];
  readonly recordingTrack: 'inbound' | 'outbound' | 'both';
}

// ---- call queues (run by src/voice/queues) ----
export interface EnqueueVerb {
  readonly verb: 'Enqueue';
  /** The queue's FriendlyName (created on first use). */
  readonly name: string;
  readonly action: string | undefined;
  readonly method: HttpMethod;
  readonly waitUrl: string | undefined;
  readonly waitUrlMethod: HttpMethod;
  /** The MaxSize of a queue this <Enqueue> creates (an existing queue keeps its own). */
  readonly maxQueueSize: number | undefined;
}

export interface LeaveVerb {
  readonly verb: 'Leave';
}

/** `<Dial><Queue>`: takes the front member of a queue and bridges it to this call. */
export interface DialQueueVerb {
  readonly verb: 'DialQueue';
  readonly queue: string;
  /** TwiML played to the dequeued member before the bridge. */
  readonly url: string | undefined;
  readonly urlMethod: HttpMethod;
  readonly timeoutS: number;
  readonly action: string | undefined;
  readonly method: HttpMethod;
  readonly timeLimitS: number;
  readonly hangupOnStar: boolean;
}
// ---- end call queues ----

export type Verb =
  | EnqueueVerb
  | LeaveVerb
  | DialQueueVerb
  | SayVerb
  | PlayVerb
  | PauseVerb
  | GatherVerb
  | RecordVerb
  | RedirectVerb
  | HangupVerb
  | RejectVerb
  | DialVerb
  | StartRecordingVerb;
