// Call legs: the UAS (IncomingCall) and UAC (OutgoingCall) sides of an INVITE dialog, with
// BYE, re-INVITE, INFO and CANCEL. Signalling only: bodies (SDP) are opaque bytes here.

import type { Logger } from '../core/index.js';
import { Dialog, dialogId } from './dialog.js';
import { authorize, pickChallenge } from './digest.js';
import { Emitter } from './emitter.js';
import {
  EMPTY_BODY,
  Headers,
  createResponse,
  formatNameAddr,
  formatUri,
  newBranch,
  randomToken,
  tagOf,
  type NameAddr,
  type SipRequest,
  type SipResponse,
  type SipUri,
  type Via,
} from './message.js';
import { SipParseError, parseNameAddr, parseUri } from './parser.js';
import type { TimerHandle, TimerTarget, TimerWheel } from './timer-wheel.js';
import type {
  ClientTransaction,
  ServerTransaction,
  TimerConfig,
  TransactionLayer,
} from './transaction.js';
import type { Peer, SipTransport, TransportName } from './transport.js';

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER';

/** What call legs need from the engine. */
export interface CallHost {
  readonly layer: TransactionLayer;
  readonly transport: SipTransport;
  readonly wheel: TimerWheel;
  readonly timers: TimerConfig;
  readonly userAgent: string;
  readonly log: Logger | undefined;
  contact(transport: TransportName): string;
  track(leg: CallLeg): void;
  untrack(leg: CallLeg): void;
}

export type EndReason =
  'bye' | 'hangup' | 'cancel' | 'rejected' | 'failed' | 'ack-timeout' | 'ring-timeout' | 'closed';

export interface InfoEvent {
  contentType: string | undefined;
  body: Buffer;
  request: SipRequest;
}

/** A re-INVITE from the peer (hold/resume, codec change). Answer it once. */
export interface ReinviteRequest {
  readonly sdp: Buffer | undefined;
  readonly request: SipRequest;
  accept(sdp?: Buffer | string): void;
  reject(status?: number, reason?: string): void;
}

export interface LegEvents {
  bye: [request: SipRequest];
  cancel: [request: SipRequest];
  info: [info: InfoEvent];
  reinvite: [reinvite: ReinviteRequest];
  ack: [ack: SipRequest];
  ended: [reason: EndReason];
  // Outgoing calls
  provisional: [response: SipResponse];
  'early-media': [sdp: Buffer, response: SipResponse];
  answered: [response: SipResponse];
  failover: [from: Target, status: number];
}

export interface Credentials {
  username: string;
  password: string;
}

/** An outbound trunk (or any SIP destination). */
export interface Trunk {
  name?: string;
  host: string;
  port?: number;
  transport?: TransportName;
  credentials?: Credentials;
  /** Lower goes first (default 0). */
  priority?: number;
  /** Domain for From when the caller is a bare number (default: our public address). */
  fromDomain?: string;
}

export type Target = Trunk & { uri?: string };

function toBody(sdp: Buffer | string | undefined): Buffer {
  if (sdp === undefined) return EMPTY_BODY;
  return typeof sdp === 'string' ? Buffer.from(sdp) : sdp;
}

const enum T {
  RING,
}

let legCounter = 0;

export abstract class CallLeg extends Emitter<LegEvents> implements TimerTarget {
  readonly id = `leg${++legCounter}`;
  dialog: Dialog | undefined;
  state: 'new' | 'early' | 'confirmed' | 'ended' = 'new';
  endReason: EndReason | undefined;
  localSdp: Buffer | undefined;
  remoteSdp: Buffer | undefined;
  protected timer: TimerHandle | null = null;
  private lastAck: { req: SipRequest; dest: Peer } | undefined;
  private reinvitePending = false;

  constructor(protected readonly host: CallHost) {
    super();
    this.listenerError = (err) => host.log?.error({ err }, 'sip call listener threw');
  }

  abstract readonly direction: 'inbound' | 'outbound';

  get callId(): string | undefined {
    return this.dialog?.callId;
  }

  /** BYE (answered) or CANCEL/reject (not yet answered). */
  abstract hangup(headers?: Record<string, string>): void;

  onTimer(_kind: number): void {}

  protected end(reason: EndReason): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    this.host.wheel.cancel(this.timer);
    this.timer = null;
    if (this.dialog !== undefined) this.dialog.state = 'terminated';
    this.host.untrack(this);
    this.emit('ended', reason);
  }

  protected sendBye(headers?: Record<string, string>): void {
    const d = this.dialog;
    if (d === undefined) return;
    const bye = d.createRequest('BYE', { headers });
    this.host.layer.request(bye, d.peer, () => {});
  }

  /** Send an in-dialog INFO (e.g. application/dtmf-relay). Resolves with the final status. */
  sendInfo(body: Buffer | string, contentType: string): Promise<number> {
    const d = this.dialog;
    if (d === undefined || this.state !== 'confirmed') return Promise.resolve(481);
    return new Promise((resolve) => {
      const req = d.createRequest('INFO', { body: toBody(body), contentType });
      this.host.layer.request(req, d.peer, (res) => {
        if (res.status >= 200) resolve(res.status);
      });
    });
  }

  /** Send a re-INVITE (hold/resume). Resolves with the final status and the answer SDP. */
  reinvite(sdp: Buffer | string): Promise<{ status: number; sdp?: Buffer }> {
    const d = this.dialog;
    if (d === undefined || this.state !== 'confirmed' || this.reinvitePending)
      return Promise.resolve({ status: 491 });
    this.reinvitePending = true;
    const body = toBody(sdp);
    return new Promise((resolve) => {
      const req = d.createRequest('INVITE', { body });
      this.host.layer.request(req, d.peer, (res) => {
        if (res.status < 200) return;
        this.reinvitePending = false;
        if (res.status < 300) {
          this.sendAck(res);
          this.localSdp = body;
          if (res.body.length > 0) this.remoteSdp = res.body;
          resolve({ status: res.status, sdp: res.body.length > 0 ? res.body : undefined });
        } else {
          if (res.status === 481 || res.status === 408) this.end('failed');
          resolve({ status: res.status });
        }
      });
    });
  }

  /** ACK a 2xx end to end (new branch; re-sent when the 2xx is retransmitted). */
  protected sendAck(res: SipResponse): void {
    const d = this.dialog;
    if (d === undefined) return;
    if (this.lastAck !== undefined && this.lastAck.req.cseq.seq === res.cseq.seq) {
      this.host.transport.send(this.lastAck.req, this.lastAck.dest);
      return;
    }
    d.updateTarget(res.headers.getAll('contact'));
    const ack = d.createRequest('ACK');
    ack.cseq = { seq: res.cseq.seq, method: 'ACK' };
    this.host.layer.sendStateless(ack, d.peer);
    this.lastAck = { req: ack, dest: d.peer };
  }

  /** A 2xx retransmission arrived after its transaction ended. */
  strayResponse(res: SipResponse): void {
    this.sendAck(res);
  }

  /** An in-dialog request (the engine matched Call-ID and tags). */
  onDialogRequest(req: SipRequest, tx: ServerTransaction): void {
    const d = this.dialog as Dialog;
    if (!d.acceptRemoteSeq(req)) {
      tx.respond(createResponse(req, 500, 'CSeq Out of Order'));
      return;
    }
    switch (req.method) {
      case 'BYE':
        tx.respond(createResponse(req, 200));
        this.emit('bye', req);
        this.end('bye');
        return;
      case 'INFO': {
        tx.respond(createResponse(req, 200));
        this.emit('info', {
          contentType: req.headers.get('content-type'),
          body: req.body,
          request: req,
        });
        return;
      }
      case 'INVITE':
        this.onReinvite(req, tx);
        return;
      case 'OPTIONS': {
        const res = createResponse(req, 200);
        res.headers.append('Allow', ALLOW);
        tx.respond(res);
        return;
      }
      default: {
        const res = createResponse(req, 501);
        res.headers.append('Allow', ALLOW);
        tx.respond(res);
      }
    }
  }

  private onReinvite(req: SipRequest, tx: ServerTransaction): void {
    if (this.state !== 'confirmed') {
      tx.respond(createResponse(req, 491));
      return;
    }
    const d = this.dialog as Dialog;
    d.updateTarget(req.headers.getAll('contact'));
    let done = false;
    const answer = (sdp: Buffer | undefined, status: number, reason?: string): void => {
      if (done) return;
      done = true;
      const res = createResponse(req, status, reason);
      if (status < 300) {
        res.headers.append('Contact', d.contact);
        res.headers.append('Allow', ALLOW);
        const body = sdp ?? this.localSdp ?? EMPTY_BODY;
        if (body.length > 0) {
          res.headers.append('Content-Type', 'application/sdp');
          res.body = body;
          this.localSdp = body;
        }
        if (req.body.length > 0) this.remoteSdp = req.body;
      }
      tx.respond(res);
    };
    const r: ReinviteRequest = {
      sdp: req.body.length > 0 ? req.body : undefined,
      request: req,
      accept: (sdp) => answer(sdp === undefined ? undefined : toBody(sdp), 200),
      reject: (status = 488, reason) => answer(undefined, status, reason),
    };
    if (this.listenerCount('reinvite') > 0) this.emit('reinvite', r);
    else r.accept();
  }

  onAck(ack: SipRequest): void {
    if (ack.body.length > 0) this.remoteSdp = ack.body;
    this.emit('ack', ack);
  }

  onAckTimeout(): void {
    this.sendBye();
    this.end('ack-timeout');
  }

  /** Engine shutdown: hang up politely, then forget. */
  close(): void {
    if (this.state === 'ended') return;
    try {
      this.hangup();
    } finally {
      this.end('closed');
    }
  }
}

// ---------------------------------------------------------------- UAS

export class IncomingCall extends CallLeg {
  readonly direction = 'inbound';
  readonly localTag = randomToken(12);
  /** Custom X- headers of the INVITE, with their names as received. */
  readonly xHeaders: Record<string, string> = {};
  private answered: ((ok: boolean) => void) | undefined;

  constructor(
    host: CallHost,
    readonly request: SipRequest,
    readonly tx: ServerTransaction,
    ringTimeoutMs: number,
  ) {
    super(host);
    tx.owner = this;
    for (const h of request.headers.list)
      if (h.key.startsWith('x-')) this.xHeaders[h.name] = h.value;
    if (request.body.length > 0) this.remoteSdp = request.body;
    this.timer = host.wheel.schedule(ringTimeoutMs, this, T.RING);
  }

  get from(): NameAddr {
    return this.request.from;
  }
  get to(): NameAddr {
    return this.request.to;
  }
  /** The offer, if the INVITE carried one. */
  get sdp(): Buffer | undefined {
    return this.request.body.length > 0 ? this.request.body : undefined;
  }
  get source(): Peer {
    return this.tx.source;
  }
  header(name: string): string | undefined {
    return this.request.headers.get(name);
  }

  override onTimer(kind: number): void {
    if (kind === T.RING && this.state !== 'confirmed' && this.state !== 'ended') {
      this.timer = null;
      this.reject(480, 'Temporarily Unavailable');
      this.endReason = 'ring-timeout';
    }
  }

  private ensureDialog(): Dialog {
    if (this.dialog === undefined) {
      this.dialog = Dialog.fromRequest(
        this.request,
        this.localTag,
        this.tx.source,
        this.host.contact(this.tx.source.transport),
        this.host.userAgent,
      );
      this.host.track(this);
    }
    return this.dialog;
  }

  private respond(
    status: number,
    sdp?: Buffer | string,
    reason?: string,
    headers?: Record<string, string>,
  ): void {
    if (this.state === 'ended' || this.state === 'confirmed') return;
    const res = createResponse(this.request, status, reason, this.localTag);
    if (status > 100 && status < 300) {
      const d = this.ensureDialog();
      // RFC 3261 12.1.1: a dialog-creating response carries the request's Record-Route.
      for (const rr of this.request.headers.getAll('record-route'))
        res.headers.append('Record-Route', rr);
      res.headers.append('Contact', d.contact);
      if (status >= 200) {
        res.headers.append('Allow', ALLOW);
        res.headers.append('Supported', 'replaces');
      }
    }
    res.headers.append('Server', this.host.userAgent);
    for (const [k, v] of Object.entries(headers ?? {})) res.headers.append(k, v);
    const body = toBody(sdp);
    if (body.length > 0) {
      res.headers.append('Content-Type', 'application/sdp');
      res.body = body;
      this.localSdp = body;
    }
    this.tx.respond(res);
    if (status > 100 && status < 200 && this.state === 'new') this.state = 'early';
  }

  trying(): void {
    this.respond(100);
  }

  ringing(sdp?: Buffer | string): void {
    this.respond(180, sdp);
  }

  /** 183 Session Progress with early media. */
  progress(sdp: Buffer | string): void {
    this.respond(183, sdp);
  }

  /** 200 OK with the answer. Resolves true when the ACK arrives, false if it never does. */
  answer(sdp: Buffer | string, headers?: Record<string, string>): Promise<boolean> {
    if (this.state === 'ended' || this.state === 'confirmed')
      return Promise.resolve(this.state === 'confirmed');
    this.respond(200, sdp, undefined, headers);
    this.state = 'confirmed';
    (this.dialog as Dialog).state = 'confirmed';
    this.host.wheel.cancel(this.timer);
    this.timer = null;
    return new Promise((resolve) => (this.answered = resolve));
  }

  reject(status = 486, reason?: string, headers?: Record<string, string>): void {
    if (status < 300) throw new RangeError('reject needs a status of 300 or more');
    if (this.state === 'ended' || this.state === 'confirmed') return;
    this.respond(status, undefined, reason, headers);
    this.end('rejected');
  }

  hangup(headers?: Record<string, string>): void {
    if (this.state === 'confirmed') {
      this.sendBye(headers);
      this.end('hangup');
    } else if (this.state !== 'ended') {
      this.respond(487, undefined, 'Request Terminated', headers);
      this.end('hangup');
    }
  }

  /** The caller CANCELled before we answered. */
  onCancel(cancel: SipRequest): void {
    if (this.state === 'ended' || this.state === 'confirmed') return;
    this.respond(487);
    this.emit('cancel', cancel);
    this.end('cancel');
  }

  override onAck(ack: SipRequest): void {
    super.onAck(ack);
    const done = this.answered;
    this.answered = undefined;
    done?.(true);
  }

  override onAckTimeout(): void {
    const done = this.answered;
    this.answered = undefined;
    super.onAckTimeout();
    done?.(false);
  }

  protected override end(reason: EndReason): void {
    super.end(reason);
    const done = this.answered;
    this.answered = undefined;
    done?.(false);
  }
}

// ---------------------------------------------------------------- UAC

export interface InviteOptions {
  /** Caller: a number/user (`+15551234`) or a SIP URI / name-addr. */
  from?: string;
  /** Callee for trunks (number/user or URI); for a URI target defaults to the target. */
  to?: string;
  sdp?: Buffer | string;
  headers?: Record<string, string>;
  /** No answer within this time: CANCEL and fail with 408 (default 60 s). */
  timeoutMs?: number;
  /** Digest credentials for 401/407 (a trunk's own credentials win). */
  credentials?: Credentials;
  /** Final statuses that move on to the next trunk (default 408, 480, 500, 502, 503, 504). */
  failoverCodes?: readonly number[];
  /**
   * Send to this address instead of the target URI's host (outbound proxy, or the source
   * address of a NATed phone's REGISTER: `binding.source`). The Request-URI stays the target.
   */
  destination?: { address: string; port: number; transport?: TransportName };
}

export type CallResult =
  | { answered: true; status: number; sdp: Buffer | undefined; response: SipResponse }
  | { answered: false; status: number; reason: string; cancelled: boolean; response?: SipResponse };

export const DEFAULT_FAILOVER = [408, 480, 500, 502, 503, 504];

export class OutgoingCall extends CallLeg {
  readonly direction = 'outbound';
  readonly result: Promise<CallResult>;
  private resolveResult!: (r: CallResult) => void;
  private readonly targets: Target[];
  private attempt = -1;
  private authTries = 0;
  private invite: SipRequest | undefined;
  private inviteTx: ClientTransaction | undefined;
  private gotProvisional = false;
  private cancelRequested = false;
  private cancelSent = false;
  private timedOut = false;
  private settled = false;
  private readonly from: string;

  constructor(
    host: CallHost,
    targets: Target[],
    private readonly opts: InviteOptions,
  ) {
    super(host);
    this.result = new Promise((r) => (this.resolveResult = r));
    this.targets = [...targets].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
    this.from = opts.from ?? 'switchboard';
    this.localSdp = opts.sdp === undefined ? undefined : toBody(opts.sdp);
    this.timer = host.wheel.schedule(opts.timeoutMs ?? 60_000, this, T.RING);
    this.next(0, '');
  }

  /** The target currently being tried. */
  get target(): Target | undefined {
    return this.targets[this.attempt];
  }

  override onTimer(kind: number): void {
    this.timer = null;
    if (kind === T.RING && this.state !== 'confirmed' && this.state !== 'ended') {
      this.timedOut = true;
      this.cancel();
    }
  }

  private next(prevStatus: number, _prevReason: string): void {
    const prev = this.targets[this.attempt];
    this.attempt++;
    const target = this.targets[this.attempt];
    if (target === undefined) {
      this.finish({
        answered: false,
        status: prevStatus || 503,
        reason: 'No route to destination',
        cancelled: false,
      });
      return;
    }
    if (prev !== undefined) this.emit('failover', prev, prevStatus);
    this.authTries = 0;
    this.gotProvisional = false;
    this.dialog = undefined;
    const built = this.buildInvite(target);
    if (built instanceof SipParseError) {
      this.failTarget(400, built.message);
      return;
    }
    this.invite = built;
    this.send(built, target);
  }

  private dest(target: Target): Peer {
    return {
      transport: target.transport ?? 'udp',
      address: target.host,
      port: target.port ?? 5060,
    };
  }

  private buildInvite(target: Target): SipRequest | SipParseError {
    const t = this.dest(target);
    const publicAddress = this.host.transport.publicAddress;
    let ruri: SipUri;
    if (target.uri !== undefined) {
      const u = parseUri(target.uri);
      if (u instanceof SipParseError) return u;
      ruri = u;
    } else {
      const to = this.opts.to ?? '';
      const parsed = to.includes(':') ? parseUri(to) : undefined;
      const user = parsed !== undefined && !(parsed instanceof SipParseError) ? parsed.user : to;
      ruri = { scheme: 'sip', host: target.host, params: {} };
      if (user !== undefined && user !== '') ruri.user = user;
      if (target.port !== undefined) ruri.port = target.port;
      if (t.transport === 'tcp') ruri.params.transport = 'tcp';
    }
    let from: NameAddr;
    if (/^(sips?:|tel:|<|")/i.test(this.from)) {
      const f = parseNameAddr(this.from);
      if (f instanceof SipParseError) return f;
      from = { display: f.display, uri: f.uri, params: {} };
    } else {
      from = {
        uri: {
          scheme: 'sip',
          user: this.from,
          host: target.fromDomain ?? publicAddress,
          params: {},
        },
        params: {},
      };
    }
    from.params.tag = randomToken(12);
    let to: NameAddr = { uri: { ...ruri, params: {} }, params: {} };
    if (target.uri !== undefined && this.opts.to !== undefined) {
      const t2 = parseNameAddr(this.opts.to);
      if (!(t2 instanceof SipParseError)) to = { display: t2.display, uri: t2.uri, params: {} };
    }
    const headers = new Headers();
    headers.append('Max-Forwards', '70');
    headers.append('Contact', this.host.contact(t.transport));
    headers.append('User-Agent', this.host.userAgent);
    headers.append('Allow', ALLOW);
    for (const [k, v] of Object.entries(this.opts.headers ?? {})) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) continue;
      headers.append(k, v);
    }
    const body = this.localSdp ?? EMPTY_BODY;
    if (body.length > 0) headers.append('Content-Type', 'application/sdp');
    return {
      kind: 'request',
      method: 'INVITE',
      uri: formatUri(ruri),
      vias: [],
      from,
      to,
      callId: `${randomToken(20)}@${publicAddress}`,
      cseq: { seq: 1, method: 'INVITE' },
      headers,
      body,
    };
  }

  private send(req: SipRequest, target: Target): void {
    const dest = this.dest(target);
    this.inviteTx = this.host.layer.request(req, dest, (res, tx) =>
      this.onResponse(res, tx, target, dest),
    );
  }

  private onResponse(res: SipResponse, tx: ClientTransaction, target: Target, dest: Peer): void {
    if (tx !== this.inviteTx && res.status >= 300) return;
    const s = res.status;
    const req = tx.request;
    if (s < 200) {
      this.gotProvisional = true;
      if (this.cancelRequested && !this.cancelSent) this.sendCancel();
      if (this.state === 'ended') return;
      if (s > 100 && tagOf(res.to) !== undefined && this.dialog === undefined) {
        this.dialog = Dialog.fromResponse(
          req,
          res,
          dest,
          this.host.contact(dest.transport),
          this.host.userAgent,
        );
      }
      if (this.state === 'new') this.state = 'early';
      this.emit('provisional', res);
      if (res.body.length > 0) {
        this.remoteSdp = res.body;
        this.emit('early-media', res.body, res);
      }
      return;
    }
    if (s < 300) {
      const tag = tagOf(res.to) ?? '';
      if (this.state === 'confirmed' && this.dialog !== undefined) {
        if (tag === this.dialog.remoteTag) this.sendAck(res);
        else this.killFork(req, res, dest);
        return;
      }
      if (this.state === 'ended') {
        // Answered after we gave up (CANCEL crossed the 200): ACK and BYE.
        this.killFork(req, res, dest);
        return;
      }
      const d = Dialog.fromResponse(
        req,
        res,
        dest,
        this.host.contact(dest.transport),
        this.host.userAgent,
      );
      this.dialog = d;
      d.state = 'confirmed';
      this.state = 'confirmed';
      this.host.track(this);
      this.sendAck(res);
      if (res.body.length > 0) this.remoteSdp = res.body;
      this.host.wheel.cancel(this.timer);
      this.timer = null;
      if (this.cancelRequested) {
        this.sendBye();
        this.finish({
          answered: false,
          status: 487,
          reason: 'Cancelled',
          cancelled: true,
          response: res,
        });
        return;
      }
      this.emit('answered', res);
      this.settled = true;
      this.resolveResult({
        answered: true,
        status: s,
        sdp: res.body.length > 0 ? res.body : undefined,
        response: res,
      });
      return;
    }
    // Final failure.
    if (this.state === 'ended' || this.settled) return;
    if ((s === 401 || s === 407) && !this.cancelRequested) {
      const creds = target.credentials ?? this.opts.credentials;
      const challenge = pickChallenge(
        res.headers.getAll(s === 401 ? 'www-authenticate' : 'proxy-authenticate'),
      );
      if (creds !== undefined && challenge !== undefined && this.authTries < 2) {
        this.authTries++;
        const again: SipRequest = {
          ...req,
          vias: [],
          to: { ...req.to, params: { ...req.to.params } },
          cseq: { seq: req.cseq.seq + 1, method: 'INVITE' },
          headers: req.headers.clone(),
        };
        const hname = s === 401 ? 'Authorization' : 'Proxy-Authorization';
        again.headers.delete(hname);
        again.headers.append(hname, authorize(challenge, creds, 'INVITE', req.uri));
        this.invite = again;
        this.gotProvisional = false;
        this.send(again, target);
        return;
      }
    }
    if (this.cancelRequested) {
      this.finish({
        answered: false,
        status: this.timedOut ? 408 : s,
        reason: this.timedOut ? 'No answer' : res.reason,
        cancelled: true,
        response: res,
      });
      return;
    }
    this.failTarget(s, res.reason, res);
  }

  private failTarget(status: number, reason: string, res?: SipResponse): void {
    const codes = this.opts.failoverCodes ?? DEFAULT_FAILOVER;
    if (codes.includes(status) && this.attempt + 1 < this.targets.length) {
      this.next(status, reason);
      return;
    }
    this.finish({ answered: false, status, reason, cancelled: false, response: res });
  }

  /** ACK and BYE a 2xx we do not want (a second fork, or one that crossed our CANCEL). */
  private killFork(req: SipRequest, res: SipResponse, dest: Peer): void {
    const d = Dialog.fromResponse(
      req,
      res,
      dest,
      this.host.contact(dest.transport),
      this.host.userAgent,
    );
    const ack = d.createRequest('ACK');
    ack.cseq = { seq: res.cseq.seq, method: 'ACK' };
    this.host.layer.sendStateless(ack, dest);
    this.host.layer.request(d.createRequest('BYE'), dest, () => {});
  }

  private finish(r: Extract<CallResult, { answered: false }>): void {
    if (this.settled) {
      this.end(r.cancelled ? 'cancel' : 'failed');
      return;
    }
    this.settled = true;
    this.resolveResult(r);
    this.end(r.cancelled ? 'cancel' : 'failed');
  }

  /**
   * CANCEL a call not yet answered. The result settles at once; the CANCEL itself goes out
   * as soon as a provisional response has arrived (RFC 3261 9.1), and a 2xx that crosses it
   * is ACKed and BYEd.
   */
  cancel(): void {
    if (this.state === 'confirmed' || this.state === 'ended' || this.cancelRequested) return;
    this.cancelRequested = true;
    if (this.gotProvisional) this.sendCancel();
    this.inviteTx?.expireAfterCancel();
    this.finish(
      this.timedOut
        ? { answered: false, status: 408, reason: 'No answer', cancelled: true }
        : { answered: false, status: 487, reason: 'Cancelled', cancelled: true },
    );
  }

  private sendCancel(): void {
    const inv = this.invite;
    const tx = this.inviteTx;
    if (inv === undefined || tx === undefined) return;
    this.cancelSent = true;
    const headers = new Headers();
    for (const r of inv.headers.getAll('route')) headers.append('Route', r);
    headers.append('Max-Forwards', '70');
    const cancel: SipRequest = {
      kind: 'request',
      method: 'CANCEL',
      uri: inv.uri,
      vias: [{ ...(inv.vias[0] as Via) }],
      from: inv.from,
      to: inv.to,
      callId: inv.callId,
      cseq: { seq: inv.cseq.seq, method: 'CANCEL' },
      headers,
      body: EMPTY_BODY,
    };
    this.host.layer.request(cancel, tx.dest, () => {});
  }

  hangup(headers?: Record<string, string>): void {
    if (this.state === 'confirmed') {
      this.sendBye(headers);
      this.end('hangup');
    } else this.cancel();
  }

  protected override end(reason: EndReason): void {
    if (!this.settled) {
      this.settled = true;
      this.resolveResult({ answered: false, status: 487, reason, cancelled: true });
    }
    super.end(reason);
  }
}

/** Key for the engine's dialog map. */
export function legKey(leg: CallLeg): string | undefined {
  const d = leg.dialog;
  return d === undefined ? undefined : dialogId(d.callId, d.localTag, d.remoteTag);
}

export { formatNameAddr, newBranch };
