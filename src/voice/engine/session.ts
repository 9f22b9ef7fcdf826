import { join } from 'node:path';
import { Errors, newSid, type ErrorName, type Logger } from '../../core/index.js';
import {
  FINAL_STATUSES,
  type CallRow,
  type CallSpendLimit,
  type CallStatus,
  type CallStore,
  type CallUpdate,
} from '../calls/index.js';
import {
  parseTwiml,
  TwimlError,
  type ConferenceNoun,
  type DialVerb,
  type HttpMethod,
  type Verb,
  fetchTwiml,
  type TwimlSource,
} from '../twiml/index.js';
import type { Conferences } from '../conferences/index.js';
import {
  RecordingCallbacks,
  type CallbackOutbox,
  type StatusCallbacks,
} from '../callbacks/index.js';
import type { QueueService } from '../queues/index.js';
import type {
  CallChannel,
  Dialer,
  ModuleTarget,
  SegmentMeter,
  VoiceDirectory,
} from '../ports/index.js';
import type { DialResult, Next, VerbContext } from './context.js';
import { runDocument } from './interpreter.js';
import { callParams } from './call-params.js';
import { ringAll } from './ring-all.js';
import { whisper, type WhisperContext } from './whisper.js';
import type {
  CallRecordingOptions,
  RecordingCommand,
  RecordingReply,
  RecordingStore,
} from '../recordings/index.js';
import { CallRecording } from './call-recording.js';

export interface SessionDeps {
  readonly calls: CallStore;
  readonly recordings: RecordingStore;
  /** Where status callbacks (the call's and its legs') are stored and delivered from. */
  readonly outbox: CallbackOutbox;
  readonly directory: VoiceDirectory;
  readonly meter: SegmentMeter;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly recordingsDir: string;
  /** Base URL of this platform's API (known once the HTTP server listens). */
  readonly publicUrl: () => string;
  readonly webhookTimeoutMs: number;
  /** Records a call event in the interaction log. */
  readonly event: (row: CallRow, data: Record<string, unknown>) => void;
  /** Creates a child call record and returns its SID (for <Dial>). */
  readonly onChildCall: (parent: CallRow, child: CallRow) => void;
  /** Call queues shared by every node (<Enqueue>, <Dial><Queue>). */
  readonly queues: QueueService;
  /** The rooms of `<Dial><Conference>`; absent, joining one fails with a notification. */
  readonly conferences: Conferences | undefined;
}

export type Source = TwimlSource & { readonly moduleSid: string | null };

/** Where a session starts: a URL to fetch, or TwiML given inline (Calls create with Twiml). */
export type Start = { readonly kind: 'fetch' } | { readonly kind: 'twiml'; readonly twiml: string };

const SPEND_CHECK_MS = 1000;
/** Twilio's default TimeLimit of a call: four hours. */
const DEFAULT_TIME_LIMIT_S = 14_400;

/** What the control loop does next when a verb is interrupted (API redirect, spend limit). */
type Pending = Next | { kind: 'twiml'; twiml: string } | { kind: 'handoff'; code: string };

/** One live call: its state machine, its TwiML control loop, its segments and callbacks. */
export class CallSession {
  private control: AbortController = new AbortController();
  private pending: Pending | undefined;
  private segment: string | undefined;
  private spendTimer: NodeJS.Timeout | undefined;
  private spendSoon: NodeJS.Timeout | undefined;
  private spendChecking = false;
  /** In the spend-limit hand-off module: no more spend checks until control moves on. */
  private handedOff = false;
  /** Set by the engine for a Calls create with SpendLimit / SpendLimitHandoffModule. */
  spendLimit: CallSpendLimit = {};
  /** Set by the engine for a Calls create with Record=true: the whole call is recorded. */
  recordCall: CallRecordingOptions | undefined;
  /** Calls create SendDigits: sent once the call is answered, before its TwiML runs. */
  sendDigitsOnAnswer: string | undefined;
  /** Calls create/update TimeLimit (seconds from the answer); Twilio's default is 4 hours. */
  timeLimitS: number | undefined;
  private timeLimit: NodeJS.Timeout | undefined;
  /** The direction its segments are metered under when not the call's (inbound-client). */
  meteredAs: string | undefined;
  /** Webhook parameters of this call beyond Twilio's own (a device's connect params). */
  extraParams: Readonly<Record<string, string>> = {};
  private callRecording: CallRecording | undefined;
  /**
   * Every recording of the whole call or of a <Dial> started on this call, in start order:
   * the Call Recordings API finds them here (the finished ones are skipped).
   */
  private readonly recordings: CallRecording[] = [];
  private recordingCallbacksOf: RecordingCallbacks | undefined;
  private finalized = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly deps: SessionDeps,
    readonly row: CallRow,
    private readonly channel: CallChannel,
    private source: Source,
    private readonly authToken: string,
    private readonly callbacks: StatusCallbacks,
    private readonly sipHeaders: Readonly<Record<string, string>> = {},
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    void channel.ended.then(() => this.control.abort());
  }

  get sid(): string {
    return this.row.sid;
  }

  /** Twilio's voice webhook parameters for this call now. */
  params(): Record<string, string> {
    const r = this.row;
    const p: Record<string, string> = {
      CallSid: r.sid,
      AccountSid: r.account_sid,
      From: r.from,
      To: r.to,
      Caller: r.from,
      Called: r.to,
      CallStatus: r.status,
      ApiVersion: '2010-04-01',
      Direction: r.direction,
    };
    if (r.forwarded_from) p.ForwardedFrom = r.forwarded_from;
    if (r.caller_name) p.CallerName = r.caller_name;
    if (r.parent_call_sid) p.ParentCallSid = r.parent_call_sid;
    for (const [k, v] of Object.entries(this.sipHeaders)) p[`SipHeader_${k}`] = v;
    // A device's params first: Twilio's own fields (CallSid, CallStatus…) are not overridden.
    return { ...this.extraParams, ...p };
  }

  /** This call's recordings' status callbacks (through the durable outbox). */
  private get recordingCallbacks(): RecordingCallbacks {
    return (this.recordingCallbacksOf ??= new RecordingCallbacks(this.deps.outbox));
  }

  /** The segment being opened (set until it is), so that the call's end can close it. */
  private opening: Promise<void> | undefined;

  /** Opens the call's next segment, for the module now in control. */
  private openSegment(reason: 'start' | 'redirect' | 'spend-limit', at: number): Promise<void> {
    const opening = this.deps.meter
      .open(this.meterKey(), this.source.moduleSid, reason, at)
      .then((sid) => {
        this.segment = sid;
      });
    this.opening = opening;
    return opening;
  }

  private meterKey(): { callSid: string; accountSid: string; direction: string } {
    return {
      callSid: this.row.sid,
      accountSid: this.row.account_sid,
      direction: this.meteredAs ?? this.row.direction,
    };
  }

  /** Status writes of this call, in order (a later one never lands before an earlier one). */
  private writes: Promise<void> = Promise.resolve();

  private setStatus(status: CallStatus, extra: Partial<CallRow> = {}): Promise<void> {
    Object.assign(this.row, extra, { status, date_updated: Date.now() });
    const changes = { status, ...extra };
    const write = this.writes.then(() => this.deps.calls.update(this.row.sid, changes));
    // The next write waits for this one whatever its outcome; whoever holds `write` reports it.
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** A call notification: an error (Twilio's log 0) or, with `warning`, a warning (log 1). */
  private notify(code: number, message: string, url: string | null, level?: 'warning'): void {
    this.deps.logger.warn({ callSid: this.row.sid, code, url }, message);
    const log = level === 'warning' ? 1 : 0;
    this.deps.calls.notify(this.row, code, message, url, log).catch((err: unknown) => {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'could not store a call notification');
    });
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Inbound: ring, fetch the first document, answer (unless it rejects) and run it.
   * `inserted` is the write of the call's row, which the engine started.
   */
  async runInbound(inserted: Promise<void>): Promise<void> {
    try {
      this.channel.ring();
      // The first segment is written while the call's row is and while the webhook is
      // fetched: none of the three waits for another, except the webhook for the row (its
      // handler may fetch the call through the API).
      const opening = this.openSegment('start', Date.now());
      await inserted;
      void this.callbacks.emit('ringing', this.params());
      const [, first] = await Promise.all([
        opening,
        this.fetch({
          kind: 'fetch',
          url: this.source.url,
          method: this.source.method,
          params: this.params(),
        }),
      ]);
      if (!first) {
        this.channel.reject('rejected');
        await this.finish('failed');
        return;
      }
      if (first.verbs[0]?.verb === 'Reject') {
        const reason = first.verbs[0].reason;
        this.channel.reject(reason);
        await this.finish(reason === 'busy' ? 'busy' : 'no-answer');
        return;
      }
      if (!(await this.channel.answer())) {
        await this.finish('canceled');
        return;
      }
      this.answered();
      await this.loop(first);
    } catch (err) {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'call failed');
      this.notify(20500, `internal error: ${(err as Error).message}`, null);
      this.channel.hangup();
    } finally {
      await this.finishFromChannel();
    }
  }

  /** Outbound (Calls create): the leg is already answered by the dialer. */
  async runOutbound(start: Start): Promise<void> {
    try {
      await this.openSegment('start', Date.now());
      this.answered();
      if (this.recordCall) this.callRecording = this.startRecording(this.recordCall);
      if (this.sendDigitsOnAnswer) await this.channel.sendDigits(this.sendDigitsOnAnswer);
      const first =
        start.kind === 'twiml'
          ? this.inline(start.twiml)
          : await this.fetch({
              kind: 'fetch',
              url: this.source.url,
              method: this.source.method,
              params: this.params(),
            });
      if (first) await this.loop(first);
    } catch (err) {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'call failed');
      this.channel.hangup();
    } finally {
      this.channel.hangup();
      await this.finishFromChannel();
    }
  }

  private answered(): void {
    const now = Date.now();
    // Not awaited: the first verb's media starts now, the row follows (writes stay in order).
    this.setStatus('in-progress', {
      answered_time: now,
      start_time: this.row.start_time ?? now,
    }).catch((err: unknown) => {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'could not store the answer');
    });
    void this.callbacks.emit('answered', this.params());
    this.deps.event(this.row, { status: 'in-progress' });
    this.spendTimer = setInterval(() => void this.checkSpend(), SPEND_CHECK_MS);
    this.armTimeLimit();
  }

  /** Ends the call TimeLimit seconds after its answer (re-armed by a Calls update). */
  private armTimeLimit(): void {
    clearTimeout(this.timeLimit);
    if (this.row.answered_time === null || this.finalized) return;
    const limitMs = (this.timeLimitS ?? DEFAULT_TIME_LIMIT_S) * 1000;
    const left = this.row.answered_time + limitMs - Date.now();
    this.timeLimit = setTimeout(() => this.channel.hangup(), Math.max(0, left));
  }

  /**
   * Once a second (and exactly when the billing says the limit falls due): has the call
   * reached its spend limit? Then it is handed to the configured module (the call's own,
   * else the account's), or ended when there is none.
   */
  private async checkSpend(): Promise<void> {
    if (this.channel.isEnded || this.handedOff || this.spendChecking) return;
    if (this.pending?.kind === 'handoff') return;
    this.spendChecking = true;
    try {
      const spend = await this.deps.meter.checkSpend(
        this.row.sid,
        this.row.account_sid,
        Date.now(),
        this.spendLimit.limitMicros,
      );
      // The call may have been handed off (or ended) while the check ran.
      if (this.channel.isEnded || this.finalized || this.handedOff) return;
      if (!spend.reached) {
        if (spend.msUntilLimit !== undefined && spend.msUntilLimit < SPEND_CHECK_MS) {
          clearTimeout(this.spendSoon);
          this.spendSoon = setTimeout(() => void this.checkSpend(), spend.msUntilLimit + 5);
        }
        return;
      }
      const handoff = this.spendLimit.handoffModule ?? spend.accountHandoffModule;
      if (handoff) {
        // No more checks from now: the hand-off resolves the module and opens its segment
        // asynchronously, and a check meanwhile would hand the call off a second time.
        this.handedOff = true;
        this.pending = { kind: 'handoff', code: handoff };
        this.control.abort();
        return;
      }
      this.notify(Errors.spendLimitReached.code, 'spend limit reached: call ended', null);
      this.channel.hangup();
    } catch (err) {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'spend check failed');
    } finally {
      this.spendChecking = false;
    }
  }

  private async finishFromChannel(): Promise<void> {
    if (this.finalized) return;
    this.channel.hangup();
    const wasAnswered = this.row.answered_time !== null;
    await this.finish(wasAnswered ? 'completed' : 'canceled');
  }

  private async finish(status: CallStatus): Promise<void> {
    if (this.finalized) return;
    this.finalized = true;
    clearInterval(this.spendTimer);
    clearTimeout(this.spendSoon);
    clearTimeout(this.timeLimit);
    this.control.abort();
    const now = Date.now();
    const final: CallStatus = FINAL_STATUSES.has(this.row.status) ? this.row.status : status;
    const duration = this.row.answered_time ? Math.round((now - this.row.answered_time) / 1000) : 0;
    Object.assign(this.row, { status: final, end_time: now });
    // The completed callback is stored before the call's end is written (a crash between the
    // two finds a live call, whose recovery sees that its callback is there) and sent after
    // (its receiver may fetch the call, priced).
    await this.callbacks.emitAround(
      'completed',
      { ...this.params(), CallDuration: String(duration) },
      async () => {
        // The call's row and its last segment are written at the same time.
        const closing = (async () => {
          // Every recording still running ends with the call (Record=true, <Start>, the API).
          await Promise.all(this.recordings.map((r) => this.stopRecording(r)));
          // A call that ends while its segment is being written closes it once it is.
          await this.opening?.catch(() => undefined);
          if (this.segment) await this.deps.meter.close(this.segment, 'hangup', now);
        })();
        const written = await Promise.allSettled([
          this.setStatus(final, { end_time: now }),
          closing,
        ]);
        for (const w of written)
          if (w.status === 'rejected')
            this.deps.logger.error(
              { err: w.reason, callSid: this.row.sid },
              'could not store the end of a call',
            );
      },
    );
    this.deps.event(this.row, { status: final, durationS: duration });
    this.resolveDone();
  }

  // ------------------------------------------------------------------ API control

  /** Calls update: new fallback, status callback or time limit; then end or redirect. */
  update(u: CallUpdate): void {
    if (u.fallback)
      this.source = {
        ...this.source,
        fallbackUrl: u.fallback.url,
        fallbackMethod: u.fallback.method,
      };
    if (u.statusCallback) this.callbacks.retarget(u.statusCallback.url, u.statusCallback.method);
    if (u.timeLimitS !== undefined) {
      this.timeLimitS = u.timeLimitS;
      this.armTimeLimit();
    }
    // Status=canceled leaves an answered call alone (as on Twilio); completed ends any call.
    if (u.status === 'completed' || (u.status === 'canceled' && this.row.answered_time === null))
      this.hangup();
    else if (u.redirect) this.redirect(u.redirect);
  }

  /** Redirects the live call to new TwiML (Calls update with Url or Twiml). */
  redirect(to: { url: string; method: HttpMethod } | { twiml: string }): void {
    // A call at its spend limit goes to the hand-off module first, whatever the API says.
    if (this.pending?.kind === 'handoff') return;
    this.pending =
      'twiml' in to
        ? { kind: 'twiml', twiml: to.twiml }
        : { kind: 'fetch', url: to.url, method: to.method, params: {} };
    this.control.abort();
  }

  hangup(): void {
    this.channel.hangup();
  }

  // ------------------------------------------------------------------ control loop

  private inline(twiml: string): { verbs: Verb[]; url: string } | undefined {
    try {
      return { verbs: parseTwiml(twiml), url: this.source.url };
    } catch (e) {
      if (!(e instanceof TwimlError)) throw e;
      this.notify(e.code, e.message, null);
      return undefined;
    }
  }

  private async fetch(
    next: Extract<Next, { kind: 'fetch' }>,
  ): Promise<{ verbs: Verb[]; url: string } | undefined> {
    const fetched = await fetchTwiml(
      {
        url: next.url,
        method: next.method,
        fallbackUrl: this.source.fallbackUrl,
        fallbackMethod: this.source.fallbackMethod,
      },
      next.params,
      {
        authToken: this.authToken,
        logger: this.deps.logger,
        timeoutMs: this.deps.webhookTimeoutMs,
        notify: (code, message, url) => this.notify(code, message, url),
      },
    );
    return fetched.ok ? { verbs: fetched.verbs, url: fetched.url } : undefined;
  }

  /** Hands the call to another module: dispatcher + policy, then a new segment. */
  private async transfer(
    code: string,
    from: string,
  ): Promise<{ verbs: Verb[]; url: string } | undefined> {
    const resolution = await this.deps.directory.resolveModule(
      this.row.account_sid,
      code,
      this.row.sid,
    );
    if (!resolution.ok) {
      this.notify(resolution.code, `module ${code} refused: ${resolution.message}`, null);
      // The refusal goes back to the module in control, which decides what the caller hears.
      const params = {
        ...this.params(),
        ErrorCode: String(resolution.code),
        ErrorMessage: resolution.message,
      };
      const url = this.source.fallbackUrl ?? from;
      const method = this.source.fallbackUrl ? this.source.fallbackMethod : 'POST';
      return this.fetch({ kind: 'fetch', url, method, params });
    }
    this.handedOff = false;
    return this.enter(resolution.target, 'redirect');
  }

  /**
   * The call reached its spend limit: the configured module takes over (the calling-card
   * case — "your credit is exhausted", a top-up). The policy still applies; a refusal ends
   * the call as if no module were configured.
   */
  private async handOff(code: string): Promise<{ verbs: Verb[]; url: string } | undefined> {
    const resolution = await this.deps.directory.resolveModule(
      this.row.account_sid,
      code,
      this.row.sid,
      'spend-limit',
    );
    if (!resolution.ok) {
      this.notify(
        resolution.code,
        `spend-limit module ${code} refused: ${resolution.message}`,
        null,
      );
      this.notify(Errors.spendLimitReached.code, 'spend limit reached: call ended', null);
      this.channel.hangup();
      return undefined;
    }
    this.handedOff = true;
    return this.enter(resolution.target, 'spend-limit');
  }

  /** Closes the current segment, opens the target module's, and fetches its TwiML. */
  private async enter(
    target: ModuleTarget,
    reason: 'redirect' | 'spend-limit',
  ): Promise<{ verbs: Verb[]; url: string } | undefined> {
    const now = Date.now();
    if (this.segment) await this.deps.meter.close(this.segment, reason, now);
    this.segment = undefined;
    this.source = { ...target };
    await this.openSegment(reason, now);
    await this.deps.calls.update(this.row.sid, { module_sid: target.moduleSid, url: target.url });
    return this.fetch({
      kind: 'fetch',
      url: target.url,
      method: target.method,
      params: this.params(),
    });
  }

  private async loop(first: { verbs: Verb[]; url: string }): Promise<void> {
    let doc: { verbs: Verb[]; url: string } | undefined = first;
    while (doc && !this.channel.isEnded) {
      this.control = new AbortController();
      const ctx = this.context(doc.url, this.control.signal);
      // A redirect or hand-off that arrived while the document was fetched takes over at once.
      const next: Next = this.pending ? { kind: 'hangup' } : await runDocument(ctx, doc.verbs);
      if (this.channel.isEnded) {
        // A <Record>/<Enqueue>/<Dial><Queue> action after the caller hung up is still
        // requested; its TwiML is ignored.
        const p = next.kind === 'fetch' ? next.params : {};
        if (next.kind === 'fetch' && (p.RecordingSid || p.QueueResult || p.DequeueResult))
          await this.fetch(next);
        return;
      }
      const pending = this.pending;
      this.pending = undefined;
      const step: Pending = pending ?? next;
      switch (step.kind) {
        case 'twiml':
          doc = this.inline(step.twiml);
          break;
        case 'fetch':
          doc = await this.fetch({ ...step, params: { ...this.params(), ...step.params } });
          break;
        case 'module':
          doc = await this.transfer(step.code, doc.url);
          break;
        case 'handoff':
          doc = await this.handOff(step.code);
          break;
        case 'reject':
        case 'hangup':
          doc = undefined;
          break;
      }
    }
  }

  private context(documentUrl: string, signal: AbortSignal): VerbContext {
    return {
      channel: this.channel,
      signal,
      documentUrl,
      logger: this.deps.logger,
      params: () => this.params(),
      newRecording: () => {
        const sid = newSid('RE');
        const path = join(this.deps.recordingsDir, `${sid}.wav`);
        return { sid, path, url: this.recordingUrl(sid) };
      },
      startCallRecording: (verb) => {
        // One whole-call recording at a time: Record=true or an earlier <Start> already runs.
        this.callRecording ??= this.startRecording({
          source: 'StartCallRecordingTwiML',
          track: verb.track,
          trim: verb.trim === 'trim-silence',
          channels: verb.channels,
          statusCallback:
            verb.recordingStatusCallback && new URL(verb.recordingStatusCallback, documentUrl).href,
          statusCallbackMethod: verb.recordingStatusCallbackMethod,
          statusCallbackEvents: verb.recordingStatusCallbackEvents,
        });
      },
      saveRecording: (path, durationMs, source) => this.saveRecording(path, durationMs, source),
      recordingStatus: (url, method, params, selected) =>
        this.recordingCallbacks.event(
          { accountSid: this.row.account_sid, url, method },
          params,
          selected,
        ),
      dial: (verb) => this.dial(verb),
      fetchTwiml: (url, method, params) => this.fetch({ kind: 'fetch', url, method, params }),
      notify: (code, message, url, level) => this.notify(code, message, url, level),
      queues: this.deps.queues,
      joinConference: (noun, dial) => this.joinConference(noun, dial, documentUrl, signal),
    };
  }

  /** Starts recording this call's leg (both parties mixed): Record=true, <Dial record>. */
  private startRecording(options: CallRecordingOptions): CallRecording {
    const recording = new CallRecording(
      {
        recordings: this.deps.recordings,
        logger: this.deps.logger,
        recordingsDir: this.deps.recordingsDir,
        publicUrl: this.deps.publicUrl,
        params: () => this.params(),
        callback: (url, method, params, selected) =>
          this.recordingCallbacks.event(
            { accountSid: this.row.account_sid, url, method },
            params,
            selected,
          ),
      },
      this.row,
      this.channel,
      options,
    );
    this.recordings.push(recording);
    return recording;
  }

  /**
   * The Call Recordings API on this (live) call: starts a recording, or pauses, resumes or
   * stops one (`Twilio.CURRENT`: the one recording running). Answers the recording's SID
   * once its resource reflects the change, or the Twilio error.
   */
  async recordingCommand(command: RecordingCommand): Promise<RecordingReply> {
    const refuse = (error: ErrorName, detail: string): RecordingReply => ({
      ok: false,
      error,
      detail,
    });
    if (this.finalized || this.channel.isEnded || this.row.answered_time === null)
      return refuse(
        'callNotInProgress',
        `Call ${this.row.sid} is not in-progress: it cannot be recorded`,
      );
    if (command.op === 'start') {
      const recording = this.startRecording(command.options);
      try {
        await recording.stored;
      } catch (err) {
        this.deps.logger.error({ err, callSid: this.row.sid }, 'could not start a recording');
        return refuse('internal', 'the recording could not be stored');
      }
      return { ok: true, sid: recording.sid };
    }
    const running = this.recordings.filter((r) => r.active);
    let target: CallRecording | undefined;
    if (command.sid === 'Twilio.CURRENT') {
      if (running.length > 1)
        return refuse(
          'concurrentRecordings',
          'more than one recording runs on this call: name one',
        );
      target = running[0];
    } else target = running.find((r) => r.sid === command.sid);
    if (!target) {
      const known = this.recordings.some((r) => r.sid === command.sid);
      return known
        ? refuse('callNotInProgress', `Recording ${command.sid} is over: it cannot be changed`)
        : refuse('notFound', `no recording ${command.sid.slice(0, 40)} runs on this call`);
    }
    if (command.status === 'paused') await target.pause(command.pauseBehavior);
    else if (command.status === 'in-progress') await target.resume();
    else await this.stopRecording(target);
    return { ok: true, sid: target.sid };
  }

  private async stopRecording(
    recording: CallRecording | undefined,
  ): Promise<{ sid: string; url: string; durationS: number } | undefined> {
    if (!recording) return undefined;
    try {
      return await recording.stop();
    } catch (err) {
      this.deps.logger.error({ err, callSid: this.row.sid }, 'recording failed');
      this.notify(20500, `recording ${recording.sid} failed: ${(err as Error).message}`, null);
      return undefined;
    }
  }

  private async joinConference(
    noun: ConferenceNoun,
    dial: DialVerb,
    documentUrl: string,
    signal: AbortSignal,
  ): Promise<DialResult> {
    if (!this.deps.conferences) {
      this.notify(13221, '<Dial><Conference> needs the conference service', null);
      return { status: 'failed', callSid: undefined, durationS: 0 };
    }
    const out = await this.deps.conferences.join(
      {
        callSid: this.row.sid,
        accountSid: this.row.account_sid,
        channel: this.channel,
        authToken: this.authToken,
        documentUrl,
        signal,
        hangupOnStar: dial.hangupOnStar,
        timeLimitS: dial.timeLimitS,
        params: () => this.params(),
        notify: (code, message, url) => this.notify(code, message, url),
      },
      noun,
    );
    return { status: out.status, callSid: undefined, durationS: out.durationS };
  }

  private async saveRecording(
    path: string,
    durationMs: number,
    source: string,
  ): Promise<{ sid: string; url: string }> {
    const sid = /(RE[0-9a-f]{32})\.wav$/.exec(path)?.[1] ?? newSid('RE');
    const now = Date.now();
    await this.deps.recordings.insert({
      sid,
      account_sid: this.row.account_sid,
      call_sid: this.row.sid,
      status: 'completed',
      duration_ms: Math.round(durationMs),
      channels: 1,
      path,
      source,
      date_created: now,
      date_updated: now,
    });
    return { sid, url: this.recordingUrl(sid) };
  }

  private recordingUrl(sid: string): string {
    return `${this.deps.publicUrl()}/2010-04-01/Accounts/${this.row.account_sid}/Recordings/${sid}`;
  }

  private async dial(verb: DialVerb): Promise<DialResult> {
    const signal = this.control.signal;
    const recordFrom = (when: DialVerb['record']) =>
      verb.record === when
        ? this.startRecording({
            source: 'DialVerb',
            track: verb.recordingTrack,
            channels: verb.recordChannels,
            trim: verb.trim === 'trim-silence',
            statusCallback: verb.recordingStatusCallback,
            statusCallbackMethod: verb.recordingStatusCallbackMethod,
            statusCallbackEvents: verb.recordingStatusCallbackEvents,
          })
        : undefined;
    const fromRinging = recordFrom('record-from-ringing');
    const rung = await ringAll(this.deps, this.row, this.channel, verb, signal);
    if (!rung.ok) {
      const recording = await this.stopRecording(fromRinging);
      return { status: rung.status, callSid: rung.callSid, durationS: 0, recording };
    }
    const { row, answeredAt, channel: callee, noun, callbacks } = rung;
    const legEnded = async (status: CallRow['status']) => {
      callee.hangup();
      const now = Date.now();
      Object.assign(row, { status, end_time: now });
      const duration = String(Math.round((now - answeredAt) / 1000));
      // Stored before the leg's end is written, sent after (as for the call, see finish).
      const write = () => this.deps.calls.update(row.sid, { status, end_time: now });
      const params = { ...callParams(row), CallDuration: duration };
      await (callbacks ? callbacks.emitAround('completed', params, write) : write());
    };
    // What the noun asks for before the parties are connected: DTMF, then its whisper.
    if (noun.noun !== 'Conference') {
      if (noun.sendDigits) await callee.sendDigits(noun.sendDigits);
      if (
        noun.url &&
        (await this.whisperTo(row, callee, noun.url, noun.method, signal)) !== 'accepted'
      ) {
        await legEnded('completed');
        const recording = await this.stopRecording(fromRinging);
        return { status: 'no-answer', callSid: row.sid, durationS: 0, recording };
      }
    }
    const recorder = fromRinging ?? recordFrom('record-from-answer');
    const unbridge = this.channel.bridge(callee);
    const limit = setTimeout(() => callee.hangup(), verb.timeLimitS * 1000);
    const unsubscribeStar = verb.hangupOnStar
      ? this.channel.onDigit((d) => d === '*' && callee.hangup())
      : () => undefined;
    // An API redirect or a spend-limit hand-off (the signal) also ends the bridge.
    const interrupted = new Promise<void>((r) => {
      if (signal.aborted) r();
      else signal.addEventListener('abort', () => r(), { once: true });
    });
    await Promise.race([this.channel.ended, callee.ended, interrupted]);
    const stopping = this.stopRecording(recorder); // the recording ends with the bridge
    clearTimeout(limit);
    unsubscribeStar();
    unbridge();
    callee.hangup();
    const durationS = Math.round((Date.now() - answeredAt) / 1000);
    await legEnded('completed');
    return { status: 'completed', callSid: row.sid, durationS, recording: await stopping };
  }

  /** Runs a noun's `url` (absolute) on the called party, signed with its own call's parameters. */
  private whisperTo(
    leg: CallRow,
    callee: CallChannel,
    url: string,
    method: HttpMethod,
    signal: AbortSignal,
  ): Promise<'accepted' | 'declined'> {
    const ctx: WhisperContext = {
      channel: callee,
      signal,
      documentUrl: url,
      logger: this.deps.logger,
      params: () => callParams(leg),
      notify: (code, message, at, level) =>
        this.notify(code, `leg ${leg.sid}: ${message}`, at, level),
      fetchTwiml: async (u, m, params) => {
        const fetched = await fetchTwiml(
          { url: u, method: m, fallbackUrl: null, fallbackMethod: 'POST' },
          params,
          {
            authToken: this.authToken,
            logger: this.deps.logger,
            timeoutMs: this.deps.webhookTimeoutMs,
            notify: (code, message, at) => this.notify(code, message, at),
          },
        );
        return fetched.ok ? { verbs: fetched.verbs, url: fetched.url } : undefined;
      },
    };
    return whisper(ctx, url, method);
  }
}
