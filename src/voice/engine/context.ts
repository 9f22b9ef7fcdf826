import type { Logger } from '../../core/index.js';
import type { QueueService } from '../queues/index.js';
import type {
  ConferenceNoun,
  DialVerb,
  HttpMethod,
  StartRecordingVerb,
  Verb,
} from '../twiml/index.js';
import type { CallChannel } from '../ports/index.js';

/** Where control goes after a verb. */
export type Next =
  | {
      readonly kind: 'fetch';
      readonly url: string;
      readonly method: HttpMethod;
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'module'; readonly code: string }
  | { readonly kind: 'hangup' }
  | { readonly kind: 'reject'; readonly reason: 'rejected' | 'busy' };

export interface DialResult {
  readonly status: 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled' | 'answered';
  readonly callSid: string | undefined;
  readonly durationS: number;
  /** <Dial record=…>: the recording, reported to the action as RecordingSid/Url/Duration. */
  readonly recording?: { readonly sid: string; readonly url: string; readonly durationS: number };
}

export interface VerbContext {
  readonly channel: CallChannel;
  /** Aborted when the call ends or the API redirects it: every verb stops waiting then. */
  readonly signal: AbortSignal;
  /** URL of the document being run: relative URLs resolve against it. */
  readonly documentUrl: string;
  readonly logger: Logger;
  /** The standard webhook parameters at this moment (CallSid, From, To, CallStatus…). */
  params(): Record<string, string>;
  /** Stores a finished recording; returns its SID and media URL. */
  saveRecording(
    path: string,
    durationMs: number,
    source: string,
  ): Promise<{ sid: string; url: string }>;
  /** A new recording's SID, the file it is written to, and its media URL. */
  newRecording(): { sid: string; path: string; url: string };
  /** Sends a recording status callback (signed, retried, never blocking). */
  /** A recording's status event; `selected`: its recordingStatusCallbackEvent list asked for it. */
  recordingStatus(
    url: string,
    method: HttpMethod,
    params: Record<string, string> & { RecordingSid: string; RecordingStatus: string },
    selected: boolean,
  ): void;
  dial(verb: DialVerb): Promise<DialResult>;
  // ---- used by call queues (src/voice/queues) ----
  /** Fetches a TwiML document for this call (signed; fallback and notifications as usual). */
  fetchTwiml(
    url: string,
    method: HttpMethod,
    params: Record<string, string>,
  ): Promise<{ verbs: Verb[]; url: string } | undefined>;
  /** Records a call notification (Twilio error code; `warning` for Twilio's warnings) and logs it. */
  notify(code: number, message: string, url: string | null, level?: 'warning'): void;
  /** `<Start><Recording>`: records the rest of the call (once; a second start is a no-op). */
  startCallRecording(verb: StartRecordingVerb): void;
  readonly queues: QueueService;
  // ---- end call queues ----
  /** `<Dial><Conference>`: in the room until the participant leaves it (src/voice/conferences). */
  joinConference(noun: ConferenceNoun, dial: DialVerb): Promise<DialResult>;
}

/** What playing prompts and gathering digits need: a leg, its signal, its document. */
export type PromptContext = Pick<
  VerbContext,
  'channel' | 'signal' | 'documentUrl' | 'params' | 'notify' | 'logger'
>;

/** Resolves with the value, or undefined when the call ended or was redirected first. */
export function until<T>(
  ctx: Pick<VerbContext, 'signal'>,
  work: Promise<T>,
): Promise<T | undefined> {
  if (ctx.signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function resolveUrl(ctx: Pick<VerbContext, 'documentUrl'>, url: string): string {
  return new URL(url, ctx.documentUrl).toString();
}
