// Recording a whole call (Calls create Record=true, <Start><Recording>, the Call Recordings
// API) or a <Dial> (record="record-from-…"): both sides mixed into one 8 kHz WAV on the
// caller's leg, or on two channels; a Recording resource that is `in-progress` while it runs
// (`paused` while the API pauses it) and `completed` with its duration when it stops
// (`absent` when it holds no sound), and the recordingStatusCallback events asked for
// (in-progress, completed, absent).
import { join } from 'node:path';
import { newSid, type Logger } from '../../core/index.js';
import type { CallRow } from '../calls/index.js';
import type { HttpMethod } from '../twiml/index.js';
import type { CallChannel, ChannelRecording } from '../ports/index.js';
import type {
  CallRecordingOptions,
  RecordingEvent,
  RecordingStore,
  RecordingTrack,
} from '../recordings/index.js';

export interface CallRecordingDeps {
  readonly recordings: RecordingStore;
  readonly logger: Logger;
  readonly recordingsDir: string;
  readonly publicUrl: () => string;
  /** Sends a signed, retried recording status callback (never blocks the call). */
  readonly callback: (
    url: string,
    method: HttpMethod,
    params: Record<string, string> & { RecordingSid: string; RecordingStatus: string },
    selected: boolean,
  ) => void;
  /** The call's webhook parameters now (CallSid, AccountSid…). */
  readonly params: () => Record<string, string>;
}

export interface FinishedRecording {
  readonly sid: string;
  readonly url: string;
  readonly durationS: number;
}

/** Twilio's RecordingTrack, on the caller's leg: inbound = what the caller says. */
const TRACK_MODE: Readonly<Record<RecordingTrack, 'in' | 'out' | 'both'>> = {
  inbound: 'in',
  outbound: 'out',
  both: 'both',
};

export class CallRecording {
  readonly sid = newSid('RE');
  private readonly recording: ChannelRecording;
  private readonly started = Date.now();
  private finished: Promise<FinishedRecording> | undefined;
  /** The row's writes, in order: the insert, then each pause and resume. */
  private writes: Promise<void>;
  /** Set by pause(), cleared by resume(). */
  private pausedNow = false;

  constructor(
    private readonly deps: CallRecordingDeps,
    private readonly call: CallRow,
    channel: CallChannel,
    private readonly options: CallRecordingOptions,
  ) {
    const path = join(deps.recordingsDir, `${this.sid}.wav`);
    this.recording = channel.record({
      path,
      maxLengthS: options.maxLengthS ?? 14_400,
      track: TRACK_MODE[options.track],
      trim: options.trim,
      channels: this.channels,
    });
    this.writes = deps.recordings.insert({
      sid: this.sid,
      account_sid: call.account_sid,
      call_sid: call.sid,
      status: 'in-progress',
      duration_ms: 0,
      channels: this.channels,
      track: options.track,
      path,
      source: options.source,
      date_created: this.started,
      date_updated: this.started,
    });
    this.writes.then(
      () => this.event('in-progress', { RecordingDuration: '0' }),
      (err: unknown) => deps.logger.error({ err, sid: this.sid }, 'could not store a recording'),
    );
  }

  private get channels(): 1 | 2 {
    return this.options.channels ?? 1;
  }

  /** Resolves once the Recording resource is stored (it fails if it could not be). */
  get stored(): Promise<void> {
    return this.writes;
  }

  /** Still taking sound (in progress or paused)? */
  get active(): boolean {
    return this.finished === undefined;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** The Call Recordings API pauses it: `skip` leaves the time out, `silence` records silence. */
  pause(behavior: 'skip' | 'silence'): Promise<void> {
    this.recording.pause(behavior);
    this.pausedNow = true;
    return this.setStatus('paused');
  }

  resume(): Promise<void> {
    this.recording.resume();
    this.pausedNow = false;
    return this.setStatus('in-progress');
  }

  private setStatus(status: 'paused' | 'in-progress'): Promise<void> {
    const write = this.writes.then(() => this.deps.recordings.update(this.sid, { status }));
    this.writes = write.catch(() => undefined);
    return write;
  }

  get url(): string {
    return `${this.deps.publicUrl()}/2010-04-01/Accounts/${this.call.account_sid}/Recordings/${this.sid}`;
  }

  private event(event: RecordingEvent, extra: Record<string, string>): void {
    const o = this.options;
    if (!o.statusCallback) return;
    this.deps.callback(
      o.statusCallback,
      o.statusCallbackMethod,
      {
        ...this.deps.params(),
        RecordingSid: this.sid,
        RecordingUrl: this.url,
        RecordingStatus: event,
        RecordingChannels: String(this.channels),
        RecordingSource: o.source,
        RecordingTrack: o.track,
        RecordingStartTime: new Date(this.started).toUTCString().replace('GMT', '+0000'),
        ...extra,
      },
      o.statusCallbackEvents.includes(event),
    );
  }

  /** Stops (idempotent), stores the duration, and sends `completed` (or `absent` when empty). */
  stop(): Promise<FinishedRecording> {
    this.finished ??= (async () => {
      const result = await this.recording.stop();
      await this.writes;
      const durationS = Math.round(result.durationMs / 1000);
      await this.deps.recordings.update(this.sid, {
        status: result.durationMs > 0 ? 'completed' : 'absent',
        duration_ms: Math.round(result.durationMs),
      });
      this.event(result.durationMs > 0 ? 'completed' : 'absent', {
        RecordingDuration: String(durationS),
      });
      return { sid: this.sid, url: this.url, durationS };
    })();
    return this.finished;
  }
}
