// SIP transactions (RFC 3261 section 17, with the RFC 6026 "Accepted" states for INVITE).
// All timers run on one TimerWheel; each transaction is its own TimerTarget.

import {
  Headers,
  createResponse,
  serialize,
  type SipRequest,
  type SipResponse,
  type Via,
} from './message.js';
import { TimerWheel, type TimerHandle, type TimerTarget } from './timer-wheel.js';
import type { Peer, SipTransport } from './transport.js';

export interface TimerConfig {
  T1: number;
  T2: number;
  T4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };

const enum K {
  A,
  B,
  D,
  E,
  F,
  K,
  G,
  H,
  I,
  J,
  L,
  M,
  /** RFC 6026 2xx retransmission by the server INVITE transaction in Accepted state. */
  G2xx,
}

export type ClientState =
  'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'terminated';
export type ServerState =
  'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** Receives everything the transaction layer does not absorb. */
export interface TransactionUser {
  /** A new request (retransmissions are absorbed). ACKs go to `onAck`, CANCELs to `onCancel`. */
  onRequest(req: SipRequest, tx: ServerTransaction): void;
  /** An ACK for a 2xx (end to end) or a stray ACK. */
  onAck(ack: SipRequest, source: Peer): void;
  /** A CANCEL matched an INVITE still proceeding; the layer has already answered the CANCEL 200. */
  onCancel(invite: ServerTransaction, cancel: SipRequest): void;
  /** A 2xx to an INVITE whose client transaction is gone (the TU re-sends its ACK). */
  onStrayResponse(res: SipResponse, source: Peer): void;
  /** The 2xx we sent to an INVITE was never ACKed (Timer L / 64*T1). */
  onAckTimeout?(tx: ServerTransaction): void;
}

export type ResponseCallback = (res: SipResponse, tx: ClientTransaction) => void;

function isMagic(branch: string | null | undefined): branch is string {
  return typeof branch === 'string' && branch.startsWith('z9hG4bK');
}

function sentBy(v: Via): string {
  return `${v.host}:${v.port ?? 5060}`;
}

function serverKey(req: SipRequest, method: string): string {
  const top = req.vias[0] as Via;
  const branch = top.params.branch;
  if (isMagic(branch)) return `${branch}|${sentBy(top)}|${method}`;
  // RFC 2543 peers: fall back on the dialog identifiers.
  return `old|${req.callId}|${req.cseq.seq}|${req.from.params.tag ?? ''}|${sentBy(top)}|${method}`;
}

export class ClientTransaction implements TimerTarget {
  state: ClientState;
  readonly invite: boolean;
  private wire: Buffer;
  private ackWire: Buffer | null = null;
  private interval: number;
  private retransmit: TimerHandle | null = null;
  private timeout: TimerHandle | null = null;
  private linger: TimerHandle | null = null;
  private cancelled = false;
  /** Last provisional or final response received. */
  lastResponse: SipResponse | undefined;

  constructor(
    private readonly layer: TransactionLayer,
    readonly request: SipRequest,
    readonly dest: Peer,
    readonly key: string,
    private readonly callback: ResponseCallback,
  ) {
    this.invite = request.method === 'INVITE';
    this.state = this.invite ? 'calling' : 'trying';
    this.wire = serialize(request);
    this.interval = layer.timers.T1;
  }

  get branch(): string {
    return (this.request.vias[0] as Via).params.branch ?? '';
  }

  start(): void {
    const { wheel, timers } = this.layer;
    this.layer.transport.sendRaw(this.wire, this.dest);
    if (this.dest.transport === 'udp')
      this.retransmit = wheel.schedule(this.interval, this, this.invite ? K.A : K.E);
    this.timeout = wheel.schedule(64 * timers.T1, this, this.invite ? K.B : K.F);
  }

  onTimer(kind: number): void {
    const { wheel, timers, transport } = this.layer;
    switch (kind) {
      case K.A:
      case K.E:
        if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding')
          return;
        transport.sendRaw(this.wire, this.dest);
        this.interval = kind === K.A ? this.interval * 2 : Math.min(this.interval * 2, timers.T2);
        if (kind === K.E && this.state === 'proceeding') this.interval = timers.T2;
        this.retransmit = wheel.schedule(this.interval, this, kind);
        return;
      case K.B:
      case K.F:
        this.timeout = null;
        if (this.state === 'completed' || this.state === 'terminated' || this.state === 'accepted')
          return;
        this.terminate();
        this.deliver(createResponse(this.request, 408, 'Request Timeout'));
        return;
      default:
        // D, K, M: the lingering state is over.
        this.linger = null;
        this.terminate();
    }
  }

  /**
   * After a CANCEL (RFC 3261 9.1): if no final response arrives within 64*T1, give up on
   * the INVITE (a proceeding INVITE transaction otherwise has no timer at all).
   */
  expireAfterCancel(): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    this.cancelled = true;
    if (this.timeout === null)
      this.timeout = this.layer.wheel.schedule(64 * this.layer.timers.T1, this, K.B);
  }

  /** A response matched this transaction (from the transport). */
  receive(res: SipResponse): void {
    const { wheel, timers, transport } = this.layer;
    const reliable = this.dest.transport !== 'udp';
    const s = res.status;
    if (s < 200) {
      if (this.state === 'calling' || this.state === 'trying') {
        this.state = 'proceeding';
        if (this.invite) {
          // Proceeding INVITE: no more retransmissions and no Timer B (unless CANCELled);
          // the TU bounds the ringing time and CANCELs.
          wheel.cancel(this.retransmit);
          this.retransmit = null;
          if (!this.cancelled) {
            wheel.cancel(this.timeout);
            this.timeout = null;
          }
        }
      }
      if (this.state === 'proceeding') this.deliver(res);
      return;
    }
    if (this.invite) {
      if (s < 300) {
        if (this.state === 'calling' || this.state === 'proceeding') {
          this.stopTimers();
          this.state = 'accepted';
          this.linger = wheel.schedule(64 * timers.T1, this, K.M);
        }
        if (this.state === 'accepted') this.deliver(res);
        return;
      }
      if (this.state === 'calling' || this.state === 'proceeding') {
        this.stopTimers();
        this.state = 'completed';
        this.ackWire = serialize(this.buildAck(res));
        transport.sendRaw(this.ackWire, this.dest);
        this.linger = wheel.schedule(reliable ? 0 : 32_000, this, K.D);
        this.deliver(res);
      } else if (this.state === 'completed' && this.ackWire !== null) {
        transport.sendRaw(this.ackWire, this.dest);
      }
      return;
    }
    if (this.state === 'trying' || this.state === 'proceeding') {
      this.stopTimers();
      this.state = 'completed';
      this.linger = wheel.schedule(reliable ? 0 : timers.T4, this, K.K);
      this.deliver(res);
    }
  }

  /** ACK for a non-2xx final response (RFC 3261 17.1.1.3): same branch, To from the response. */
  private buildAck(res: SipResponse): SipRequest {
    const req = this.request;
    const headers = new Headers();
    for (const r of req.headers.getAll('route')) headers.append('Route', r);
    headers.append('Max-Forwards', '70');
    return {
      kind: 'request',
      method: 'ACK',
      uri: req.uri,
      vias: [req.vias[0] as Via],
      from: req.from,
      to: res.to,
      callId: req.callId,
      cseq: { seq: req.cseq.seq, method: 'ACK' },
      headers,
      body: Buffer.alloc(0),
    };
  }

  private deliver(res: SipResponse): void {
    this.lastResponse = res;
    try {
      this.callback(res, this);
    } catch (err) {
      this.layer.onError(err);
    }
  }

  private stopTimers(): void {
    const w = this.layer.wheel;
    w.cancel(this.retransmit);
    w.cancel(this.timeout);
    this.retransmit = this.timeout = null;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.stopTimers();
    this.layer.wheel.cancel(this.linger);
    this.linger = null;
    this.state = 'terminated';
    this.layer.removeClient(this);
  }
}

export class ServerTransaction implements TimerTarget {
  state: ServerState;
  readonly invite: boolean;
  private last: Buffer | null = null;
  private lastDest: Peer | null = null;
  private interval: number;
  private retransmit: TimerHandle | null = null;
  private timeout: TimerHandle | null = null;
  private linger: TimerHandle | null = null;
  /** Final status sent, 0 before. */
  finalStatus = 0;
  acceptedKey: string | undefined;
  /** Free slot for the transaction user (e.g. the call object). */
  owner: unknown;

  constructor(
    private readonly layer: TransactionLayer,
    readonly request: SipRequest,
    readonly source: Peer,
    readonly key: string,
  ) {
    this.invite = request.method === 'INVITE';
    this.state = this.invite ? 'proceeding' : 'trying';
    this.interval = layer.timers.T1;
  }

  /** Send a response built from the request (see `createResponse`), or a prepared one. */
  respond(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    const { wheel, timers, transport } = this.layer;
    const dest = transport.responsePeer(res, this.source);
    const wire = serialize(res);
    transport.sendRaw(wire, dest);
    this.last = wire;
    this.lastDest = dest;
    const s = res.status;
    if (s < 200) {
      this.state = 'proceeding';
      return;
    }
    this.finalStatus = s;
    const unreliable = dest.transport === 'udp';
    if (!this.invite) {
      this.state = 'completed';
      this.linger = wheel.schedule(unreliable ? 64 * timers.T1 : 0, this, K.J);
      return;
    }
    if (s < 300) {
      this.state = 'accepted';
      this.acceptedKey = `${this.request.callId}|${this.request.cseq.seq}`;
      this.layer.accepted.set(this.acceptedKey, this);
      if (unreliable) this.retransmit = wheel.schedule(this.interval, this, K.G2xx);
      this.timeout = wheel.schedule(64 * timers.T1, this, K.L);
      return;
    }
    this.state = 'completed';
    if (unreliable) this.retransmit = wheel.schedule(this.interval, this, K.G);
    this.timeout = wheel.schedule(64 * timers.T1, this, K.H);
  }

  onTimer(kind: number): void {
    const { wheel, timers, transport } = this.layer;
    switch (kind) {
      case K.G:
      case K.G2xx:
        if (
          (kind === K.G && this.state !== 'completed') ||
          (kind === K.G2xx && this.state !== 'accepted')
        )
          return;
        if (this.last !== null && this.lastDest !== null)
          transport.sendRaw(this.last, this.lastDest);
        this.interval = Math.min(this.interval * 2, timers.T2);
        this.retransmit = wheel.schedule(this.interval, this, kind);
        return;
      case K.L:
        this.timeout = null;
        this.terminate();
        this.layer.tu.onAckTimeout?.(this);
        return;
      default:
        // H (no ACK for a non-2xx: give up), I, J: done.
        this.timeout = this.linger = null;
        this.terminate();
    }
  }

  /** A retransmission of the request arrived. */
  retransmitted(): void {
    if (this.last !== null && this.lastDest !== null && this.state !== 'accepted')
      this.layer.transport.sendRaw(this.last, this.lastDest);
  }

  /** An ACK matched this INVITE transaction. Returns true when it was a 2xx ACK. */
  acked(): boolean {
    const w = this.layer.wheel;
    if (this.state === 'completed') {
      w.cancel(this.retransmit);
      w.cancel(this.timeout);
      this.retransmit = this.timeout = null;
      this.state = 'confirmed';
      this.linger = w.schedule(
        this.source.transport === 'udp' ? this.layer.timers.T4 : 0,
        this,
        K.I,
      );
      return false;
    }
    if (this.state === 'accepted') {
      this.terminate();
      return true;
    }
    return false;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    const w = this.layer.wheel;
    w.cancel(this.retransmit);
    w.cancel(this.timeout);
    w.cancel(this.linger);
    this.retransmit = this.timeout = this.linger = null;
    this.state = 'terminated';
    this.layer.removeServer(this);
  }
}

/** Matches messages to transactions, creates server transactions, and owns the timer wheel. */
export class TransactionLayer {
  readonly client = new Map<string, ClientTransaction>();
  readonly server = new Map<string, ServerTransaction>();
  /** INVITE server transactions that sent a 2xx, by `Call-ID|CSeq`, until the ACK. */
  readonly accepted = new Map<string, ServerTransaction>();
  onError: (err: unknown) => void = () => {};

  constructor(
    readonly transport: SipTransport,
    readonly tu: TransactionUser,
    readonly wheel: TimerWheel = new TimerWheel(),
    readonly timers: TimerConfig = DEFAULT_TIMERS,
  ) {
    transport.onMessage((msg, source) => {
      try {
        if (msg.kind === 'request') this.onRequest(msg, source);
        else this.onResponse(msg, source);
      } catch (err) {
        this.onError(err);
      }
    });
  }

  /** Start a client transaction. The request's top Via is added when missing. */
  request(req: SipRequest, dest: Peer, callback: ResponseCallback): ClientTransaction {
    if (req.vias.length === 0) req.vias.push(this.transport.via(dest.transport));
    const branch = (req.vias[0] as Via).params.branch ?? '';
    const key = `${branch}|${req.method === 'ACK' ? 'INVITE' : req.method}`;
    const tx = new ClientTransaction(this, req, dest, key, callback);
    this.client.set(key, tx);
    tx.start();
    return tx;
  }

  /** Send a request outside any transaction (ACK for a 2xx). */
  sendStateless(req: SipRequest, dest: Peer): void {
    if (req.vias.length === 0) req.vias.push(this.transport.via(dest.transport));
    this.transport.send(req, dest);
  }

  private onRequest(req: SipRequest, source: Peer): void {
    if (req.method === 'ACK') {
      const tx = this.server.get(serverKey(req, 'INVITE'));
      if (tx !== undefined) {
        if (!tx.acked()) return;
      } else {
        const acc = this.accepted.get(`${req.callId}|${req.cseq.seq}`);
        if (acc !== undefined) acc.acked();
      }
      this.tu.onAck(req, source);
      return;
    }
    const key = serverKey(req, req.method);
    const existing = this.server.get(key);
    if (existing !== undefined) {
      existing.retransmitted();
      return;
    }
    const tx = new ServerTransaction(this, req, source, key);
    this.server.set(key, tx);
    if (req.method === 'CANCEL') {
      const invite = this.server.get(serverKey(req, 'INVITE'));
      if (invite === undefined || invite.state === 'terminated') {
        tx.respond(createResponse(req, 481));
        return;
      }
      tx.respond(createResponse(req, 200));
      if (invite.state === 'proceeding') this.tu.onCancel(invite, req);
      return;
    }
    this.tu.onRequest(req, tx);
  }

  private onResponse(res: SipResponse, source: Peer): void {
    const top = res.vias[0] as Via;
    const tx = this.client.get(`${top.params.branch ?? ''}|${res.cseq.method}`);
    if (tx !== undefined) {
      tx.receive(res);
      return;
    }
    if (res.cseq.method === 'INVITE' && res.status >= 200 && res.status < 300)
      this.tu.onStrayResponse(res, source);
  }

  removeClient(tx: ClientTransaction): void {
    if (this.client.get(tx.key) === tx) this.client.delete(tx.key);
  }

  removeServer(tx: ServerTransaction): void {
    if (this.server.get(tx.key) === tx) this.server.delete(tx.key);
    if (tx.acceptedKey !== undefined && this.accepted.get(tx.acceptedKey) === tx)
      this.accepted.delete(tx.acceptedKey);
  }

  close(): void {
    for (const tx of [...this.client.values()]) tx.terminate();
    for (const tx of [...this.server.values()]) tx.terminate();
    this.wheel.close();
  }
}
