// One live conference on this node: its participants, its audio room, its lifecycle
// (init → in-progress → completed, by Twilio's rules) and its status callbacks.
import { join } from 'node:path';
import { newSid, rfc2822, type Logger } from '../../core/index.js';
import { type CallbackOutbox, RecordingCallbacks } from '../callbacks/index.js';
import type { ConferenceNoun } from '../twiml/index.js';
import { ConferenceCallbacks, type ConferenceEvent } from './callbacks.js';
import type { AudioRoom, ConferenceLeg, ConferenceOutcome } from './ports.js';
import type { ConferenceStore } from './store.js';
import type { ConferenceEndReason, ConferenceRow, ParticipantRow } from './tables.js';
import { playWhileWaiting } from './wait.js';

export interface RoomDeps {
  readonly store: ConferenceStore;
  /** Status and recording callbacks go through the durable outbox. */
  readonly outbox: CallbackOutbox;
  readonly logger: Logger;
  readonly recordingsDir: string;
  readonly webhookTimeoutMs: number;
  readonly recordingUrl: (accountSid: string, sid: string) => string;
}

type LeaveReason = 'left' | 'kicked' | 'ended' | 'redirected';

interface Participant {
  readonly leg: ConferenceLeg;
  readonly noun: ConferenceNoun;
  muted: boolean;
  hold: boolean;
  endOnExit: boolean;
  inRoom: boolean;
  /** Stops the wait (before start) or hold audio playing to this participant. */
  sound: AbortController | undefined;
  leave: (reason: LeaveReason) => void;
  readonly joined: number;
}

const bit = (b: boolean): number => (b ? 1 : 0);

export class LiveConference {
  private readonly participants = new Map<string, Participant>();
  readonly callbacks: ConferenceCallbacks;
  private readonly recordingCallbacks: RecordingCallbacks;
  private started = false;
  private ended = false;
  private recording:
    | {
        stop(): Promise<{ path: string; durationMs: number }>;
        sid: string;
        by: string;
        at: number;
      }
    | undefined;
  /** How the room is recorded: the first participant's trim and recording callback. */
  private readonly recordingNoun: ConferenceNoun;
  /** The first participant's limits apply to the room. */
  private maxParticipants = 250;
  private record: ConferenceNoun['record'] = 'do-not-record';
  readonly ready: Promise<void>;
  /** Called once the room has ended (the registry forgets it). */
  onEnded: () => void = () => undefined;

  constructor(
    private readonly deps: RoomDeps,
    readonly row: ConferenceRow,
    private readonly audio: AudioRoom,
    first: ConferenceNoun,
  ) {
    this.callbacks = new ConferenceCallbacks(deps.outbox, row.account_sid);
    this.recordingCallbacks = new RecordingCallbacks(deps.outbox);
    this.maxParticipants = first.maxParticipants;
    this.record = first.record;
    this.recordingNoun = first;
    this.ready = deps.store.insert(row);
  }

  get sid(): string {
    return this.row.sid;
  }

  get size(): number {
    return this.participants.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private base(): Record<string, string> {
    return {
      AccountSid: this.row.account_sid,
      ConferenceSid: this.row.sid,
      FriendlyName: this.row.friendly_name,
    };
  }

  private participantParams(p: Participant): Record<string, string> {
    return {
      ...this.base(),
      CallSid: p.leg.callSid,
      Muted: String(p.muted),
      Hold: String(p.hold),
      Coaching: 'false',
      EndConferenceOnExit: String(p.endOnExit),
      StartConferenceOnEnter: String(p.noun.startConferenceOnEnter),
      ...(p.noun.participantLabel ? { ParticipantLabel: p.noun.participantLabel } : {}),
    };
  }

  private emit(event: ConferenceEvent, p?: Participant, extra: Record<string, string> = {}) {
    this.callbacks.emit(event, { ...(p ? this.participantParams(p) : this.base()), ...extra });
  }

  /** Whether one more participant fits (maxParticipants of the room). */
  get full(): boolean {
    return this.participants.size >= this.maxParticipants;
  }

  /** Runs one participant from joining to leaving; resolves with the Dial's outcome. */
  async run(leg: ConferenceLeg, noun: ConferenceNoun): Promise<ConferenceOutcome> {
    await this.ready;
    let leave!: (reason: LeaveReason) => void;
    const left = new Promise<LeaveReason>((r) => (leave = r));
    const p: Participant = {
      leg,
      noun,
      muted: noun.muted,
      hold: false,
      endOnExit: noun.endConferenceOnExit,
      inRoom: false,
      sound: undefined,
      leave,
      joined: Date.now(),
    };
    this.participants.set(leg.callSid, p);
    if (noun.statusCallback)
      this.callbacks.configure(
        new URL(noun.statusCallback, leg.documentUrl).toString(),
        noun.statusCallbackMethod,
        noun.statusCallbackEvent,
      );
    const now = Date.now();
    const row: ParticipantRow = {
      conference_sid: this.sid,
      call_sid: leg.callSid,
      account_sid: leg.accountSid,
      label: noun.participantLabel ?? null,
      status: 'connected',
      muted: bit(p.muted),
      hold: 0,
      start_conference_on_enter: bit(noun.startConferenceOnEnter),
      end_conference_on_exit: bit(noun.endConferenceOnExit),
      date_created: now,
      date_updated: now,
    };
    const existing = await this.deps.store.participant(leg.accountSid, this.sid, leg.callSid);
    if (existing)
      await this.deps.store.updateParticipant(this.sid, leg.callSid, { status: 'connected' });
    else await this.deps.store.insertParticipant(row);
    this.emit('participant-join', p);

    const onEnded = () => leave('left');
    void leg.channel.ended.then(onEnded);
    const onRedirect = () => leave('redirected');
    leg.signal.addEventListener('abort', onRedirect, { once: true });
    if (leg.signal.aborted || leg.channel.isEnded)
      leave(leg.signal.aborted ? 'redirected' : 'left');

    if (this.started) this.enterRoom(p, true);
    else if (noun.startConferenceOnEnter) await this.start(p);
    else this.wait(p);

    const stopStar = leg.hangupOnStar
      ? leg.channel.onDigit((d) => d === '*' && leave('left'))
      : () => undefined;
    const limit = setTimeout(() => leave('left'), leg.timeLimitS * 1000);
    const reason = await left;
    clearTimeout(limit);
    stopStar();
    leg.signal.removeEventListener('abort', onRedirect);
    await this.depart(p, reason);
    return { status: 'completed', durationS: Math.round((Date.now() - p.joined) / 1000) };
  }

  private wait(p: Participant): void {
    const sound = new AbortController();
    p.sound = sound;
    void playWhileWaiting(
      {
        channel: p.leg.channel,
        url:
          p.noun.waitUrl === undefined || p.noun.waitUrl === ''
            ? p.noun.waitUrl
            : new URL(p.noun.waitUrl, p.leg.documentUrl).toString(),
        method: p.noun.waitMethod,
        params: { ...p.leg.params(), ...this.base() },
        authToken: p.leg.authToken,
        logger: this.deps.logger,
        timeoutMs: this.deps.webhookTimeoutMs,
        notify: (code, message, url) => p.leg.notify(code, message, url),
      },
      sound.signal,
    );
  }

  private stopSound(p: Participant): void {
    p.sound?.abort();
    p.sound = undefined;
  }

  private enterRoom(p: Participant, beep: boolean): void {
    if (p.leg.channel.isEnded || p.inRoom) return;
    this.stopSound(p);
    this.audio.add(p.leg.channel, p.muted || p.hold);
    p.inRoom = true;
    if (beep && (p.noun.beep === 'true' || p.noun.beep === 'onEnter')) this.audio.tone('enter');
  }

  private async start(by: Participant): Promise<void> {
    if (this.started || this.ended) return;
    this.started = true;
    this.row.status = 'in-progress';
    await this.deps.store.update(this.sid, { status: 'in-progress' });
    for (const p of this.participants.values()) if (!p.hold) this.enterRoom(p, p === by);
    this.emit('conference-start');
    if (this.record === 'record-from-start') this.startRecording(by.leg);
  }

  private startRecording(by: ConferenceLeg): void {
    const sid = newSid('RE');
    const path = join(this.deps.recordingsDir, `${sid}.wav`);
    try {
      const r = this.audio.record(path, { trim: this.recordingNoun.trim === 'trim-silence' });
      const at = Date.now();
      this.recording = { stop: () => r.stop(), sid, by: by.callSid, at };
      this.recordingEvent(this.recording, 'in-progress', 0);
    } catch (err) {
      this.deps.logger.error(
        { err, conferenceSid: this.sid },
        'conference recording failed to start',
      );
    }
  }

  private async depart(p: Participant, reason: LeaveReason): Promise<void> {
    if (!this.participants.delete(p.leg.callSid)) return;
    this.stopSound(p);
    if (p.inRoom) this.audio.remove(p.leg.channel);
    p.inRoom = false;
    await this.deps.store.updateParticipant(this.sid, p.leg.callSid, { status: 'complete' });
    this.emit('participant-leave', p);
    if (this.ended) return;
    const kicked = reason === 'kicked';
    if (p.endOnExit)
      await this.end(
        kicked
          ? 'participant-with-end-conference-on-exit-kicked'
          : 'participant-with-end-conference-on-exit-left',
        p.leg.callSid,
      );
    else if (this.participants.size === 0)
      await this.end(kicked ? 'last-participant-kicked' : 'last-participant-left', p.leg.callSid);
    else if (this.started && (p.noun.beep === 'true' || p.noun.beep === 'onExit'))
      this.audio.tone('exit');
  }

  /** Ends the room: every participant leaves (their Dial ends and their TwiML goes on). */
  async end(reason: ConferenceEndReason, callSid: string | null): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const p of [...this.participants.values()]) p.leave('ended');
    // Their departures run concurrently; wait for the rows before the room's own end.
    await Promise.all([...this.participants.values()].map((p) => this.depart(p, 'ended')));
    const now = Date.now();
    Object.assign(this.row, {
      status: 'completed',
      reason_conference_ended: reason,
      call_sid_ending_conference: callSid,
    });
    await this.deps.store.update(this.sid, {
      status: 'completed',
      reason_conference_ended: reason,
      call_sid_ending_conference: callSid,
    });
    await this.saveRecording(now);
    this.audio.close();
    this.emit('conference-end', undefined, {
      ReasonConferenceEnded: reason,
      ...(callSid ? { CallSidEndingConference: callSid } : {}),
    });
    this.onEnded();
  }

  private async saveRecording(now: number): Promise<void> {
    const rec = this.recording;
    this.recording = undefined;
    if (!rec) return;
    try {
      const done = await rec.stop();
      // Trimmed to nothing: the room was silent, and Twilio keeps no such recording.
      if (done.durationMs === 0) {
        this.recordingEvent(rec, 'absent', 0);
        return;
      }
      await this.deps.store.insertRecording({
        sid: rec.sid,
        account_sid: this.row.account_sid,
        call_sid: rec.by,
        conference_sid: this.sid,
        status: 'completed',
        duration_ms: Math.round(done.durationMs),
        channels: 1,
        path: done.path,
        source: 'Conference',
        date_created: rec.at,
        date_updated: now,
      });
      this.recordingEvent(rec, 'completed', done.durationMs);
    } catch (err) {
      this.deps.logger.error({ err, conferenceSid: this.sid }, 'conference recording failed');
    }
  }

  /** The room's recordingStatusCallback (the first participant's), for the events it asked. */
  private recordingEvent(
    rec: NonNullable<LiveConference['recording']>,
    event: 'in-progress' | 'completed' | 'absent',
    durationMs: number,
  ): void {
    const n = this.recordingNoun;
    if (!n.recordingStatusCallback) return;
    this.recordingCallbacks.event(
      {
        accountSid: this.row.account_sid,
        url: n.recordingStatusCallback,
        method: n.recordingStatusCallbackMethod,
      },
      {
        AccountSid: this.row.account_sid,
        ConferenceSid: this.sid,
        CallSid: rec.by,
        RecordingSid: rec.sid,
        RecordingUrl: this.deps.recordingUrl(this.row.account_sid, rec.sid),
        RecordingStatus: event,
        RecordingDuration: String(Math.round(durationMs / 1000)),
        RecordingChannels: '1',
        RecordingSource: 'Conference',
        RecordingStartTime: rfc2822(rec.at) ?? '',
      },
      n.recordingStatusCallbackEvents.includes(event),
    );
  }

  // ------------------------------------------------------------------ live control

  kick(callSid: string): boolean {
    const p = this.participants.get(callSid);
    if (!p) return false;
    p.leave('kicked');
    return true;
  }

  async setMuted(callSid: string, muted: boolean): Promise<void> {
    const p = this.participants.get(callSid);
    if (!p || p.muted === muted) return;
    p.muted = muted;
    if (p.inRoom) this.audio.setMuted(p.leg.channel, muted || p.hold);
    await this.deps.store.updateParticipant(this.sid, callSid, { muted: bit(muted) });
    this.emit(muted ? 'participant-mute' : 'participant-unmute', p);
  }

  /** Hold: the participant neither hears nor is heard, and hears the hold audio instead. */
  async setHold(
    callSid: string,
    hold: boolean,
    holdUrl: string | undefined,
    holdMethod: 'GET' | 'POST',
  ): Promise<void> {
    const p = this.participants.get(callSid);
    if (!p || p.hold === hold) return;
    p.hold = hold;
    if (hold) {
      if (p.inRoom) this.audio.remove(p.leg.channel);
      p.inRoom = false;
      this.stopSound(p);
      const sound = new AbortController();
      p.sound = sound;
      void playWhileWaiting(
        {
          channel: p.leg.channel,
          url: holdUrl,
          method: holdMethod,
          params: { ...p.leg.params(), ...this.base() },
          authToken: p.leg.authToken,
          logger: this.deps.logger,
          timeoutMs: this.deps.webhookTimeoutMs,
          notify: (code, message, url) => p.leg.notify(code, message, url),
        },
        sound.signal,
      );
    } else if (this.started) this.enterRoom(p, false);
    else this.wait(p);
    await this.deps.store.updateParticipant(this.sid, callSid, { hold: bit(hold) });
    this.emit(hold ? 'participant-hold' : 'participant-unhold', p);
  }

  async setEndOnExit(callSid: string, end: boolean): Promise<void> {
    const p = this.participants.get(callSid);
    if (!p) return;
    p.endOnExit = end;
    await this.deps.store.updateParticipant(this.sid, callSid, {
      end_conference_on_exit: bit(end),
    });
  }

  hasLabel(label: string): boolean {
    for (const p of this.participants.values()) if (p.noun.participantLabel === label) return true;
    return false;
  }

  has(callSid: string): boolean {
    return this.participants.has(callSid);
  }
}
