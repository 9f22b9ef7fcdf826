// The SIP engine a voice engine drives: transports + transaction layer + dialogs + calls
// (+ an optional registrar). Start it with `createSipEngine`, stop it with `close()`.

import type { Logger } from '../core/index.js';
import {
  ALLOW,
  IncomingCall,
  OutgoingCall,
  legKey,
  type CallHost,
  type CallLeg,
  type InviteOptions,
  type Target,
  type Trunk,
} from './call.js';
import { dialogId } from './dialog.js';
import { Emitter } from './emitter.js';
import { createResponse, tagOf, type SipRequest, type SipResponse } from './message.js';
import { SipParseError, parseUri } from './parser.js';
import { Registrar, type Binding, type RegistrarOptions, type RemoveReason } from './registrar.js';
import { TimerWheel } from './timer-wheel.js';
import {
  DEFAULT_TIMERS,
  TransactionLayer,
  type ServerTransaction,
  type TimerConfig,
  type TransactionUser,
} from './transaction.js';
import { SipTransport, type Peer, type TransportName, type TransportOptions } from './transport.js';

export interface SipEngineOptions {
  /** Bind address (config `sipHost`, default 0.0.0.0). */
  host?: string;
  /** UDP and TCP port (config `sipPort`; 0 = any free port). */
  port?: number;
  /** Address advertised in Via/Contact (config `sipPublicAddress`; NAT). */
  publicAddress?: string;
  publicPort?: number;
  logger?: Logger;
  udp?: boolean;
  tcp?: boolean;
  /** Server / User-Agent header (default "Switchboard"). */
  userAgent?: string;
  timers?: Partial<TimerConfig>;
  /** Default outbound trunks for `invite(undefined, ...)` / `inviteViaTrunks`. */
  trunks?: Trunk[];
  /** Unanswered incoming calls are rejected 480 after this long (default 180 s). */
  ringTimeoutMs?: number;
  /** Enable the registrar (REGISTER with digest auth). */
  registrar?: RegistrarOptions;
  /** See TransportOptions.forceRport (default true). */
  forceRport?: boolean;
}

export interface SipEngineEvents {
  /** A new incoming call. With no listener, INVITEs are answered 480. */
  invite: [call: IncomingCall];
  /** A registrar binding appeared (or was refreshed: `refreshed` true). */
  'binding-added': [binding: Binding, refreshed: boolean];
  'binding-removed': [binding: Binding, reason: RemoveReason];
}

export interface SipEngineStats {
  calls: number;
  clientTransactions: number;
  serverTransactions: number;
  timers: number;
  received: number;
  sent: number;
  malformed: number;
  rejected400: number;
}

export class SipEngine extends Emitter<SipEngineEvents> implements CallHost, TransactionUser {
  readonly wheel = new TimerWheel();
  readonly layer: TransactionLayer;
  readonly timers: TimerConfig;
  readonly userAgent: string;
  readonly log: Logger | undefined;
  readonly registrar: Registrar | undefined;
  private readonly legs = new Map<string, CallLeg>();
  private readonly live = new Set<CallLeg>();
  private closed = false;

  private constructor(
    readonly transport: SipTransport,
    private readonly opts: SipEngineOptions,
  ) {
    super();
    this.log = opts.logger;
    this.userAgent = opts.userAgent ?? 'Switchboard';
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.listenerError = (err) => this.log?.error({ err }, 'sip engine listener threw');
    this.layer = new TransactionLayer(transport, this, this.wheel, this.timers);
    this.layer.onError = (err) => this.log?.error({ err }, 'sip transaction layer error');
    this.wheel.onError = (err) => this.log?.error({ err }, 'sip timer error');
    if (opts.registrar !== undefined) {
      const r = new Registrar(opts.registrar);
      r.on('added', (b) => this.emit('binding-added', b, false));
      r.on('refreshed', (b) => this.emit('binding-added', b, true));
      r.on('removed', (b, why) => this.emit('binding-removed', b, why));
      this.registrar = r;
    }
  }

  static async start(opts: SipEngineOptions): Promise<SipEngine> {
    const topts: TransportOptions = {
      host: opts.host,
      port: opts.port,
      publicAddress: opts.publicAddress,
      publicPort: opts.publicPort,
      logger: opts.logger,
      udp: opts.udp,
      tcp: opts.tcp,
      forceRport: opts.forceRport,
    };
    const transport = await SipTransport.listen(topts);
    return new SipEngine(transport, opts);
  }

  /** Bound port (UDP and TCP). */
  get port(): number {
    return this.transport.port;
  }

  get publicAddress(): string {
    return this.transport.publicAddress;
  }

  get stats(): SipEngineStats {
    const t = this.transport.stats;
    return {
      calls: this.live.size,
      clientTransactions: this.layer.client.size,
      serverTransactions: this.layer.server.size,
      timers: this.wheel.size,
      received: t.received,
      sent: t.sent,
      malformed: t.malformed,
      rejected400: t.rejected400,
    };
  }

  contact(transport: TransportName): string {
    return this.transport.contact(undefined, transport);
  }

  track(leg: CallLeg): void {
    const k = legKey(leg);
    if (k !== undefined) this.legs.set(k, leg);
    this.live.add(leg);
  }

  untrack(leg: CallLeg): void {
    const k = legKey(leg);
    if (k !== undefined && this.legs.get(k) === leg) this.legs.delete(k);
    this.live.delete(leg);
  }

  /**
   * Place a call to a SIP URI (`sip:bob@host:port;transport=tcp`) or through trunks tried in
   * priority order, failing over on `failoverCodes`. Await `call.result`.
   */
  invite(
    target: string | Trunk | readonly Trunk[] | undefined,
    opts: InviteOptions = {},
  ): OutgoingCall {
    let targets: Target[];
    if (typeof target === 'string') {
      const u = parseUri(target);
      if (u instanceof SipParseError) targets = [{ host: '0.0.0.0', uri: target }];
      else {
        const transport: TransportName = u.params.transport === 'tcp' ? 'tcp' : 'udp';
        const d = opts.destination;
        targets = [
          d !== undefined
            ? { host: d.address, port: d.port, transport: d.transport ?? transport, uri: target }
            : {
                host: u.host.replace(/^\[|\]$/g, ''),
                port: u.port ?? 5060,
                transport,
                uri: target,
              },
        ];
      }
    } else if (target === undefined) targets = [...(this.opts.trunks ?? [])];
    else if (Array.isArray(target)) targets = [...(target as readonly Trunk[])];
    else targets = [target as Trunk];
    const call = new OutgoingCall(this, targets, opts);
    if (call.state !== 'ended') this.live.add(call);
    return call;
  }

  // ---------------------------------------------------------------- TransactionUser

  onRequest(req: SipRequest, tx: ServerTransaction): void {
    if (this.closed) {
      tx.respond(createResponse(req, 503));
      return;
    }
    const toTag = tagOf(req.to);
    if (toTag !== undefined) {
      const leg = this.legs.get(dialogId(req.callId, toTag, tagOf(req.from) ?? ''));
      if (leg === undefined || leg.state === 'ended') {
        if (req.method === 'OPTIONS') this.options(req, tx);
        else tx.respond(createResponse(req, 481));
        return;
      }
      leg.onDialogRequest(req, tx);
      return;
    }
    const scheme = /^([a-z]+):/i.exec(req.uri)?.[1]?.toLowerCase();
    if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
      tx.respond(createResponse(req, 416, 'Unsupported URI Scheme'));
      return;
    }
    const mf = req.headers.get('max-forwards');
    if (
      mf !== undefined &&
      mf.trim() === '0' &&
      req.method !== 'OPTIONS' &&
      req.method !== 'REGISTER'
    ) {
      tx.respond(createResponse(req, 483));
      return;
    }
    const require = req.headers.getAll('require').filter((r) => r.trim() !== '');
    if (require.length > 0 && req.method !== 'CANCEL') {
      const res = createResponse(req, 420);
      res.headers.append('Unsupported', require.join(', '));
      tx.respond(res);
      return;
    }
    switch (req.method) {
      case 'INVITE':
        this.incoming(req, tx);
        return;
      case 'OPTIONS':
        this.options(req, tx);
        return;
      case 'REGISTER':
        if (this.registrar !== undefined) void this.registrar.handle(req, tx);
        else this.notAllowed(req, tx);
        return;
      case 'BYE':
      case 'INFO':
      case 'UPDATE':
      case 'PRACK':
        tx.respond(createResponse(req, 481));
        return;
      default:
        this.notAllowed(req, tx);
    }
  }

  private notAllowed(req: SipRequest, tx: ServerTransaction): void {
    const res = createResponse(req, 405);
    res.headers.append('Allow', ALLOW);
    tx.respond(res);
  }

  private options(req: SipRequest, tx: ServerTransaction): void {
    const res = createResponse(req, 200, undefined, toTagFor(req));
    res.headers.append('Allow', ALLOW);
    res.headers.append('Accept', 'application/sdp');
    res.headers.append('Server', this.userAgent);
    tx.respond(res);
  }

  private incoming(req: SipRequest, tx: ServerTransaction): void {
    const ct = req.headers.get('content-type');
    if (req.body.length > 0 && ct !== undefined && !/^application\/sdp\b/i.test(ct.trim())) {
      const res = createResponse(req, 415);
      res.headers.append('Accept', 'application/sdp');
      tx.respond(res);
      return;
    }
    if (this.listenerCount('invite') === 0) {
      tx.respond(createResponse(req, 480, undefined, toTagFor(req)));
      return;
    }
    const call = new IncomingCall(this, req, tx, this.opts.ringTimeoutMs ?? 180_000);
    this.live.add(call);
    this.emit('invite', call);
  }

  onAck(ack: SipRequest, _source: Peer): void {
    const leg = this.legs.get(dialogId(ack.callId, tagOf(ack.to) ?? '', tagOf(ack.from) ?? ''));
    leg?.onAck(ack);
  }

  onCancel(invite: ServerTransaction, cancel: SipRequest): void {
    const owner = invite.owner;
    if (owner instanceof IncomingCall) owner.onCancel(cancel);
    else invite.respond(createResponse(invite.request, 487, undefined, toTagFor(invite.request)));
  }

  onStrayResponse(res: SipResponse, _source: Peer): void {
    const leg = this.legs.get(dialogId(res.callId, tagOf(res.from) ?? '', tagOf(res.to) ?? ''));
    leg?.strayResponse(res);
  }

  onAckTimeout(tx: ServerTransaction): void {
    const owner = tx.owner;
    if (owner instanceof IncomingCall && owner.state === 'confirmed') owner.onAckTimeout();
  }

  /** Hang up every call, stop the registrar, close sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const leg of [...this.live]) leg.close();
    this.registrar?.close();
    // Let the BYEs/CANCELs leave before the sockets close.
    await new Promise((r) => setTimeout(r, 20));
    this.layer.close();
    await this.transport.close();
  }
}

function toTagFor(req: SipRequest): string {
  // Stateless-style tag so retransmitted requests get the same To tag.
  let h = 0;
  const s = `${req.callId}|${req.from.params.tag ?? ''}|${req.cseq.seq}`;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return `sb${(h >>> 0).toString(16)}`;
}

/**
 * Start a SIP engine. Example (composition root):
 *
 *   const sip = await createSipEngine({ host: config.sipHost, port: config.sipPort,
 *     publicAddress: config.sipPublicAddress, logger });
 *   sip.on('invite', (call) => voice.onIncomingCall(call));
 *   ...
 *   await sip.close();
 */
export function createSipEngine(opts: SipEngineOptions = {}): Promise<SipEngine> {
  return SipEngine.start(opts);
}
