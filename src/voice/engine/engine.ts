import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newSid, type Logger } from '../../core/index.js';
import type { SharedState } from '../../state/index.js';
import type {
  CallCommand,
  CallRow,
  CallStore,
  CallUpdate,
  LiveCalls,
  OutboundCalls,
  OutboundRequest,
} from '../calls/index.js';
import type { QueueService } from '../queues/index.js';
import type {
  CallChannel,
  Dialer,
  DialOutcome,
  InboundRoute,
  SegmentMeter,
  VoiceDirectory,
} from '../ports/index.js';
import type { Conferences } from '../conferences/index.js';
import type {
  CallRecordingControl,
  RecordingCommand,
  RecordingReply,
  RecordingStore,
} from '../recordings/index.js';
import { CallSession, type Start } from './session.js';
import { callParams } from './call-params.js';
import { type CallbackOutbox, StatusCallbacks, type StatusEvent } from '../callbacks/index.js';

export interface VoiceEngineOptions {
  readonly calls: CallStore;
  readonly recordings: RecordingStore;
  readonly directory: VoiceDirectory;
  readonly meter: SegmentMeter;
  readonly dialer: Dialer;
  /** Call queues (membership in the SQL store; waiting members of this node). */
  readonly queues: QueueService;
  readonly state: SharedState;
  /** Where status callbacks are stored and delivered from (src/voice/callbacks). */
  readonly outbox: CallbackOutbox;
  /** This process among the nodes (replies to its requests over the bus come to it). */
  readonly nodeId: string;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly publicUrl: () => string;
  readonly webhookTimeoutMs?: number;
  /** `<Dial><Conference>` rooms (src/voice/conferences). */
  readonly conferences?: Conferences;
  /** Mark calls left live by a previous run of this (only) node as ended. */
  readonly recoverOrphans?: boolean;
  /**
   * With several nodes (recoverOrphans false): this node says it is alive in the shared state,
   * and takes a node that has not said so for this long (ms) for dead: its calls not answered
   * yet fail. (Its answered calls end by their metering: Billing and endAbandoned.)
   */
  readonly nodeStaleMs?: number;
  readonly recordEvent: (event: {
    accountSid: string;
    kind: 'call';
    subjectSid: string;
    /** A child leg belongs to its parent's interaction; the application's tags apply. */
    parentSid: string | null;
    via: (string | null)[];
    durationMs?: number;
    data: Record<string, unknown>;
  }) => void;
}

export interface InboundInvite {
  readonly from: string;
  readonly to: string;
  readonly callerName?: string | undefined;
  readonly sipCallId?: string | undefined;
  /** X- headers of the INVITE, passed to webhooks as SipHeader_X-… */
  readonly sipHeaders: Readonly<Record<string, string>>;
  /** Where the call goes when the edge already knows (a call to a SIP Domain's VoiceUrl). */
  readonly route?: InboundRoute;
}

/** A call a Voice SDK device placed (`device.connect`), vouched for by the WebRTC edge. */
export interface ClientCallInvite {
  /** The SID the device was told (`ringing`). */
  readonly callSid: string;
  readonly accountSid: string;
  readonly identity: string;
  /** The AccessToken's outgoing application (a module). */
  readonly applicationSid: string;
  /** device.connect's params (and the token's): sent to the application's webhook. */
  readonly params: Readonly<Record<string, string>>;
  readonly sipCallId?: string | undefined;
}

/** What goes over the bus to the node holding a call: a call command, or a recording one. */
type ControlMessage =
  | CallCommand
  | {
      readonly callSid: string;
      readonly action: 'recording';
      readonly command: RecordingCommand;
      /** The asking node's reply channel, and the request it answers. */
      readonly replyTo: string;
      readonly requestId: string;
    };

/** An API call still being dialled: no session yet, but cancellable and redirectable. */
interface Dialling {
  readonly abort: AbortController;
  request: OutboundRequest;
  readonly callbacks: StatusCallbacks;
  timeLimitS: number | undefined;
}

const CONTROL_CHANNEL = 'voice:control';
/** A node's word that it is alive, with a TTL of the staleness span (several nodes). */
const NODE_KEY = 'voice:node:';
/** How long a Call Recordings request waits for the node holding the call. */
const RECORDING_REPLY_MS = 5000;

interface ReplyMessage {
  readonly requestId: string;
  readonly reply: RecordingReply;
}

/**
 * Takes inbound calls, places API calls, and keeps the live sessions of this node. Live-call
 * commands from the API reach the node holding the call through the shared-state bus.
 */
export class VoiceEngine implements OutboundCalls, LiveCalls, CallRecordingControl {
  private readonly sessions = new Map<string, CallSession>();
  private readonly dialling = new Map<string, Dialling>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly liveness: NodeJS.Timeout[] = [];
  /** Nodes whose word was missing at the last sweep. */
  private suspects = new Set<string>();
  private unsubscribeReplies: (() => Promise<void>) | undefined;
  private readonly replies = new Map<string, (reply: RecordingReply) => void>();
  private readonly recordingsDir: string;

  constructor(private readonly options: VoiceEngineOptions) {
    this.recordingsDir = join(options.dataDir, 'recordings');
    mkdirSync(this.recordingsDir, { recursive: true });
  }

  async start(): Promise<void> {
    // With several nodes, a starting node must not end the calls the others hold.
    if (this.options.recoverOrphans !== false) await this.endOrphans();
    else await this.startLiveness();
    this.unsubscribe = await this.options.state.subscribe(CONTROL_CHANNEL, (raw) =>
      this.onControl(raw),
    );
    this.unsubscribeReplies = await this.options.state.subscribe(this.replyChannel, (raw) => {
      const msg = JSON.parse(raw) as ReplyMessage;
      this.replies.get(msg.requestId)?.(msg.reply);
    });
    await this.options.queues.start();
  }

  /**
   * Marks the calls a previous run of this (only) node left live as ended, and sends each
   * one's `completed` status callback, numbered after those it had sent (the outbox, started
   * first, delivers those still undelivered before it).
   */
  private async endOrphans(): Promise<void> {
    const { calls, logger } = this.options;
    const now = Date.now();
    const orphans = await calls.failOrphans(now);
    if (orphans.length === 0) return;
    logger.warn({ calls: orphans.length }, 'closed calls left live by a previous run');
    for (const row of orphans) await this.sendCompleted(row, now);
  }

  /**
   * Ends the calls of a node that died, each at the last moment its metering was heard of
   * (Billing closed their segments then), and sends each one's `completed` status callback.
   * Calls this node holds are left alone. The dead node's leases on undelivered callbacks ran
   * out as its heartbeat did (same span): the outbox adopts those chains first, so that their
   * `completed` still comes last.
   */
  async endAbandoned(ended: readonly { callSid: string; atMs: number }[]): Promise<number> {
    const { calls, outbox, logger } = this.options;
    const abandoned: { row: CallRow; atMs: number }[] = [];
    for (const { callSid, atMs } of ended) {
      if (this.sessions.has(callSid)) continue;
      const row = await calls.endAbandoned(callSid, atMs);
      if (row) abandoned.push({ row, atMs });
    }
    if (abandoned.length === 0) return 0;
    logger.warn({ calls: abandoned.length }, 'ended the calls of a node that stopped');
    await outbox.adoptStale();
    for (const { row, atMs } of abandoned) await this.sendCompleted(row, atMs);
    return abandoned.length;
  }

  /** The `completed` callback of a call ended for a node that stopped, numbered after its others. */
  private async sendCompleted(row: CallRow, endMs: number): Promise<void> {
    const { outbox } = this.options;
    if (!row.status_callback) return;
    const chain = await outbox.chainState(row.sid);
    if (chain.closed) return; // its completed was stored before the crash
    const callbacks = new StatusCallbacks(
      outbox,
      row.status_callback,
      row.status_callback_method === 'GET' ? 'GET' : 'POST',
      new Set(JSON.parse(row.status_callback_events) as StatusEvent[]),
      chain.nextSeq,
    );
    const duration = row.answered_time
      ? Math.max(0, Math.round((endMs - row.answered_time) / 1000))
      : 0;
    void callbacks.emit('completed', { ...callParams(row), CallDuration: String(duration) });
  }

  /** Says this node is alive, and watches the others (several nodes). */
  private async startLiveness(): Promise<void> {
    const staleMs = this.options.nodeStaleMs ?? 60_000;
    const { state, logger } = this.options;
    const beat = () => state.set(NODE_KEY + this.options.nodeId, '1', staleMs);
    await beat();
    const every = (ms: number, run: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        run().catch((err: unknown) => logger.error({ err }, what));
      }, ms);
      timer.unref();
      this.liveness.push(timer);
    };
    every(staleMs / 3, beat, 'could not renew this node in the shared state');
    every(staleMs / 2, () => this.failUnansweredOfDeadNodes(), 'dead-node sweep failed');
  }

  /**
   * Fails the unanswered calls of the nodes that stopped saying they are alive: missing at two
   * sweeps in a row (half a span apart, while a live node renews every third of one), so that
   * a shared state that lost its keys (Redis restarted without persistence) fails no one.
   */
  async failUnansweredOfDeadNodes(): Promise<number> {
    const { calls, state, outbox, logger } = this.options;
    const missing = new Set<string>();
    for (const node of await calls.nodesWithUnanswered()) {
      if ((await state.get(NODE_KEY + node)) === null) missing.add(node);
    }
    const dead = [...missing].filter((node) => this.suspects.has(node));
    this.suspects = missing;
    const failed: CallRow[] = [];
    for (const node of dead) failed.push(...(await calls.failUnansweredOf(node, Date.now())));
    if (failed.length === 0) return 0;
    logger.warn({ calls: failed.length }, 'failed the unanswered calls of a node that stopped');
    await outbox.adoptStale();
    for (const row of failed) await this.sendCompleted(row, row.end_time ?? Date.now());
    return failed.length;
  }

  async stop(): Promise<void> {
    for (const t of this.liveness) clearInterval(t);
    for (const s of this.sessions.values()) s.hangup();
    await Promise.allSettled([...this.sessions.values()].map((s) => s.done));
    await this.unsubscribe?.();
    await this.unsubscribeReplies?.();
    await this.options.queues.stop();
  }

  private get replyChannel(): string {
    return `voice:reply:${this.options.nodeId}`;
  }

  /**
   * A Call Recordings API request: run by this node when it holds the call, else by the node
   * that does (over the shared-state bus), which answers once the recording's resource
   * reflects it. No answer in time means that no node holds the call live (21220).
   */
  async recording(callSid: string, command: RecordingCommand): Promise<RecordingReply> {
    const local = this.sessions.get(callSid);
    if (local) return local.recordingCommand(command);
    // In-process state: this node is the only one, and it does not hold the call.
    if (this.options.state.kind === 'memory')
      return {
        ok: false,
        error: 'callNotInProgress',
        detail: `Call ${callSid} is not in-progress: it cannot be recorded`,
      };
    const requestId = newSid('RE').slice(2);
    const answered = new Promise<RecordingReply>((resolve) => {
      const timer = setTimeout(() => {
        this.replies.delete(requestId);
        resolve({
          ok: false,
          error: 'callNotInProgress',
          detail: `Call ${callSid} is not in-progress on any node: it cannot be recorded`,
        });
      }, RECORDING_REPLY_MS);
      this.replies.set(requestId, (reply) => {
        clearTimeout(timer);
        this.replies.delete(requestId);
        resolve(reply);
      });
    });
    const message: ControlMessage = {
      callSid,
      action: 'recording',
      command,
      replyTo: this.replyChannel,
      requestId,
    };
    await this.options.state.publish(CONTROL_CHANNEL, JSON.stringify(message));
    return answered;
  }

  private answerRecording(msg: Extract<ControlMessage, { action: 'recording' }>): void {
    const session = this.sessions.get(msg.callSid);
    if (!session) return; // another node holds it (or none does: the asker times out)
    void session
      .recordingCommand(msg.command)
      .catch((err: unknown): RecordingReply => {
        this.options.logger.error({ err, callSid: msg.callSid }, 'recording command failed');
        return { ok: false, error: 'internal', detail: 'the recording command failed' };
      })
      .then((reply) => {
        const answer: ReplyMessage = { requestId: msg.requestId, reply };
        return this.options.state.publish(msg.replyTo, JSON.stringify(answer));
      })
      .catch((err: unknown) =>
        this.options.logger.error(
          { err, callSid: msg.callSid },
          'could not answer a recording command',
        ),
      );
  }

  get liveCalls(): number {
    return this.sessions.size;
  }

  private onControl(raw: string): void {
    let msg: ControlMessage;
    try {
      msg = JSON.parse(raw) as ControlMessage;
    } catch {
      this.options.logger.warn(
        { raw: raw.slice(0, 100) },
        'ignoring malformed voice control message',
      );
      return;
    }
    if (msg.action === 'recording') {
      this.answerRecording(msg);
      return;
    }
    const update: CallUpdate =
      msg.action === 'update'
        ? msg.update
        : msg.action === 'hangup'
          ? { status: 'completed' }
          : msg.action === 'redirect'
            ? { redirect: { url: msg.url, method: msg.method } }
            : { redirect: { twiml: msg.twiml } };
    const session = this.sessions.get(msg.callSid);
    if (session) session.update(update);
    else this.updateDialling(msg.callSid, update);
  }

  /** Calls update on an API call not answered yet: cancel it, or change what runs on answer. */
  private updateDialling(callSid: string, update: CallUpdate): void {
    const d = this.dialling.get(callSid);
    if (!d) return;
    if (update.status) {
      d.abort.abort();
      return;
    }
    const r = update.redirect;
    d.request = {
      ...d.request,
      ...(r && 'twiml' in r ? { twiml: r.twiml, url: undefined } : {}),
      ...(r && 'url' in r ? { url: r.url, method: r.method, twiml: undefined } : {}),
      ...(update.fallback
        ? { fallbackUrl: update.fallback.url, fallbackMethod: update.fallback.method }
        : {}),
    };
    if (update.statusCallback)
      d.callbacks.retarget(update.statusCallback.url, update.statusCallback.method);
    if (update.timeLimitS !== undefined) d.timeLimitS = update.timeLimitS;
  }

  /** Sends a command to whichever node holds the call. */
  async control(message: CallCommand): Promise<void> {
    const local = this.sessions.get(message.callSid) ?? this.dialling.get(message.callSid);
    if (local) {
      this.onControl(JSON.stringify(message));
      return;
    }
    await this.options.state.publish(CONTROL_CHANNEL, JSON.stringify(message));
  }

  private deps() {
    const o = this.options;
    return {
      calls: o.calls,
      recordings: o.recordings,
      outbox: o.outbox,
      directory: o.directory,
      meter: o.meter,
      dialer: o.dialer,
      queues: o.queues,
      logger: o.logger,
      recordingsDir: this.recordingsDir,
      publicUrl: o.publicUrl,
      webhookTimeoutMs: o.webhookTimeoutMs ?? 15_000,
      conferences: o.conferences,
      event: (row: CallRow, data: Record<string, unknown>) =>
        o.recordEvent({
          accountSid: row.account_sid,
          kind: 'call',
          subjectSid: row.sid,
          parentSid: row.parent_call_sid,
          via: [row.module_sid],
          ...(typeof data.durationS === 'number' ? { durationMs: data.durationS * 1000 } : {}),
          data: { direction: row.direction, ...data },
        }),
      onChildCall: (parent: CallRow, child: CallRow) =>
        o.recordEvent({
          accountSid: child.account_sid,
          kind: 'call',
          subjectSid: child.sid,
          parentSid: parent.sid,
          via: [child.module_sid],
          data: { direction: child.direction, to: child.to },
        }),
    };
  }

  private track(session: CallSession): void {
    this.sessions.set(session.sid, session);
    void session.done.finally(() => this.sessions.delete(session.sid));
  }

  /**
   * An inbound call reached this node. Returns false when no number routes it (the caller
   * then answers 404); otherwise the call runs until it ends.
   */
  async handleInbound(channel: CallChannel, invite: InboundInvite): Promise<boolean> {
    // A leg another node places to bridge one of our <Dial><Queue> calls to its member.
    if (await this.options.queues.acceptLeg(invite.to, channel)) return true;
    const route = invite.route ?? (await this.options.directory.findInboundRoute(invite.to));
    if (!route) return false;
    return this.runInbound(channel, invite, route);
  }

  /**
   * A call a Voice SDK device placed: runs the token's application (its VoiceUrl gets
   * From=client:<identity>, ApplicationSid and the device's params, To among them). Returns
   * false when the account cannot use that application (the edge answers 404: the SDK's
   * 31001). Metered as a Client call (usage category calls-client).
   */
  async handleClientCall(channel: CallChannel, invite: ClientCallInvite): Promise<boolean> {
    const app = await this.options.directory.moduleBySid(invite.accountSid, invite.applicationSid);
    if (!app) return false;
    const route: InboundRoute = {
      accountSid: invite.accountSid,
      numberSid: null,
      moduleSid: app.moduleSid,
      url: app.url,
      method: app.method,
      fallbackUrl: app.fallbackUrl,
      fallbackMethod: app.fallbackMethod,
      statusCallback: app.statusCallback,
      statusCallbackMethod: app.statusCallbackMethod,
    };
    const from = `client:${invite.identity}`;
    return this.runInbound(
      channel,
      { from, to: invite.params.To ?? '', sipCallId: invite.sipCallId, sipHeaders: {} },
      route,
      {
        callSid: invite.callSid,
        meteredAs: 'inbound-client',
        params: { ...invite.params, ApplicationSid: invite.applicationSid, From: from },
      },
    );
  }

  private async runInbound(
    channel: CallChannel,
    invite: InboundInvite,
    route: InboundRoute,
    client?: { callSid: string; meteredAs: string; params: Record<string, string> },
  ): Promise<boolean> {
    const authToken = await this.options.directory.authToken(route.accountSid);
    if (!authToken) return false;
    const now = Date.now();
    const row: CallRow = {
      sid: client?.callSid ?? newSid('CA'),
      account_sid: route.accountSid,
      parent_call_sid: null,
      direction: 'inbound',
      from: invite.from,
      to: invite.to,
      caller_name: invite.callerName ?? null,
      forwarded_from: null,
      status: 'ringing',
      start_time: now,
      end_time: null,
      answered_time: null,
      url: route.url,
      method: route.method,
      fallback_url: route.fallbackUrl,
      status_callback: route.statusCallback,
      status_callback_method: route.statusCallbackMethod,
      status_callback_events: JSON.stringify(['initiated', 'ringing', 'answered', 'completed']),
      module_sid: route.moduleSid,
      sip_call_id: invite.sipCallId ?? null,
      sip_response_code: null,
      sip_headers: JSON.stringify(invite.sipHeaders),
      phone_number_sid: route.numberSid,
      date_created: now,
      date_updated: now,
    };
    // Not awaited here: the session writes the first segment meanwhile, and waits for the
    // call's row only before the webhook goes out.
    const inserted = this.options.calls.insert(row);
    const callbacks = new StatusCallbacks(
      this.options.outbox,
      route.statusCallback,
      route.statusCallbackMethod,
      new Set<StatusEvent>(['ringing', 'answered', 'completed']),
    );
    const session = new CallSession(
      this.deps(),
      row,
      channel,
      { ...route },
      authToken,
      callbacks,
      invite.sipHeaders,
    );
    if (client) {
      session.meteredAs = client.meteredAs;
      session.extraParams = client.params;
    }
    this.track(session);
    this.deps().event(row, { status: 'ringing', from: row.from, to: row.to });
    await session.runInbound(inserted);
    return true;
  }

  /** Calls create: records the call as queued and dials in the background. */
  async createOutbound(request: OutboundRequest, authToken: string): Promise<CallRow> {
    const now = Date.now();
    const events = new Set<StatusEvent>(
      request.statusCallbackEvents.length ? request.statusCallbackEvents : ['completed'],
    );
    const row: CallRow = {
      sid: newSid('CA'),
      account_sid: request.accountSid,
      parent_call_sid: null,
      direction: 'outbound-api',
      from: request.from,
      to: request.to,
      caller_name: null,
      forwarded_from: null,
      status: 'queued',
      start_time: null,
      end_time: null,
      answered_time: null,
      url: request.url ?? null,
      method: request.method,
      fallback_url: request.fallbackUrl,
      status_callback: request.statusCallback,
      status_callback_method: request.statusCallbackMethod,
      status_callback_events: JSON.stringify([...events]),
      module_sid: request.moduleSid,
      sip_call_id: null,
      sip_response_code: null,
      sip_headers: '{}',
      phone_number_sid: request.phoneNumberSid ?? null,
      date_created: now,
      date_updated: now,
    };
    await this.options.calls.insert(row);
    const callbacks = new StatusCallbacks(
      this.options.outbox,
      request.statusCallback,
      request.statusCallbackMethod,
      events,
    );
    void callbacks.emit('initiated', { ...callParams(row), CallStatus: 'queued' });
    void this.dialOut(row, request, authToken, callbacks).catch((err: unknown) => {
      this.options.logger.error({ err, callSid: row.sid }, 'outbound call failed');
    });
    return row;
  }

  private async dialOut(
    row: CallRow,
    request: OutboundRequest,
    authToken: string,
    callbacks: StatusCallbacks,
  ): Promise<void> {
    const { calls } = this.options;
    const dialling: Dialling = {
      abort: new AbortController(),
      request,
      callbacks,
      timeLimitS: request.timeLimitS,
    };
    this.dialling.set(row.sid, dialling);
    let outcome: DialOutcome;
    try {
      row.start_time = Date.now();
      await calls.update(row.sid, { start_time: row.start_time });
      outcome = await this.options.dialer.dial({
        to: request.to,
        from: request.callerId ?? request.from,
        timeoutS: request.timeoutS,
        accountSid: row.account_sid,
        callSid: row.sid,
        credentials: request.credentials,
        signal: dialling.abort.signal,
        onRinging: () => {
          row.status = 'ringing';
          void calls.update(row.sid, { status: 'ringing' });
          void callbacks.emit('ringing', { ...callParams(row), CallStatus: 'ringing' });
        },
      });
    } finally {
      this.dialling.delete(row.sid);
    }
    // A Calls update while it rang may have changed what runs on answer.
    request = dialling.request;
    if (!outcome.ok) {
      const now = Date.now();
      row.status = outcome.status;
      // Stored before the call's end is written, sent after (see CallSession.finish).
      await callbacks.emitAround(
        'completed',
        {
          ...callParams(row),
          CallStatus: outcome.status,
          CallDuration: '0',
          ...(outcome.sipResponseCode ? { SipResponseCode: String(outcome.sipResponseCode) } : {}),
        },
        () =>
          calls.update(row.sid, {
            status: outcome.status,
            end_time: now,
            sip_response_code: outcome.sipResponseCode ?? null,
          }),
      );
      this.deps().event(row, { status: outcome.status });
      return;
    }
    row.sip_call_id = outcome.sipCallId ?? null;
    await calls.update(row.sid, { sip_call_id: row.sip_call_id });
    const source = {
      url: request.url ?? `${this.options.publicUrl()}/inline-twiml`,
      method: request.method,
      fallbackUrl: request.fallbackUrl,
      fallbackMethod: request.fallbackMethod,
      moduleSid: request.moduleSid,
    };
    const session = new CallSession(
      this.deps(),
      row,
      outcome.channel,
      source,
      authToken,
      callbacks,
    );
    if (request.spendLimit) session.spendLimit = request.spendLimit;
    session.recordCall = request.record;
    session.sendDigitsOnAnswer = request.sendDigits;
    session.timeLimitS = dialling.timeLimitS;
    this.track(session);
    const start: Start = request.twiml
      ? { kind: 'twiml', twiml: request.twiml }
      : { kind: 'fetch' };
    await session.runOutbound(start);
  }
}
