// One Voice SDK connection speaking the SDK's signalling protocol ("PStream" 1.6): JSON frames
// {type, version, payload} both ways, and a bare "\n" as heartbeat. The SDK sends listen (its
// AccessToken; again on device.updateToken), register (every 30 s; audio:false unregisters),
// answer/reject/hangup for calls it was invited to, dtmf and message; this side answers
// connected/ready/offline and sends invite/cancel/hangup/error. Transport-free: the TLS edge
// hands frames in and this writes frames out, so tests and the bench drive it directly too.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/index.js';
import type { DeviceCall, DeviceGateway, PlacedCall } from '../plugin/index.js';
import {
  TokenRefusal,
  verifyAccessToken,
  type KeyLookup,
  type VerifiedToken,
} from './access-token.js';
import type { PresenceRegistry } from './registry.js';

export const VERSION = '1.6';
/** The SDK reconnects after 15 s without a frame; this side speaks well before that. */
export const HEARTBEAT_MS = 10_000;
/** Calls one connection may have ringing or up at once (an invite storm is refused beyond). */
const MAX_CALLS = 4;
/** Protocol errors tolerated on one connection before it is closed. */
const MAX_ERRORS = 20;
/** The largest `twilio.params` of an invite taken (device.connect's params, URL-encoded). */
const MAX_PARAMS_CHARS = 8192;

/** What the edge gives a session: one WebSocket. */
export interface SignalSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface SessionDeps {
  readonly keys: KeyLookup;
  readonly registry: PresenceRegistry;
  readonly gateway: DeviceGateway | undefined;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly onClose: (session: SignalSession) => void;
}

type Frame = { type?: unknown; payload?: unknown };

/** A call of this device: one it was invited to (in), or one it placed (out). */
type CallEntry =
  | { readonly kind: 'in'; readonly call: DeviceCall; answered: boolean }
  | { readonly kind: 'out'; readonly call: PlacedCall; answered: boolean; readonly temp: string };

export class SignalSession {
  readonly deviceId = 'DV' + randomBytes(16).toString('hex');
  private token: VerifiedToken | undefined;
  private registered = false;
  private readonly calls = new Map<string, CallEntry>();
  /** The SDK's temporary ids (TJS…) of the calls it placed, until it learns their CA SID. */
  private readonly temps = new Map<string, string>();
  private errors = 0;
  private closed = false;
  private registeredAt = 0;
  lastSeen = Date.now();

  constructor(
    private readonly socket: SignalSocket,
    private readonly deps: SessionDeps,
  ) {}

  get identity(): string | undefined {
    return this.token?.identity;
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  private send(type: string, payload: Record<string, unknown>): void {
    if (this.closed) return;
    this.socket.send(JSON.stringify({ type, version: VERSION, payload }));
  }

  heartbeat(): void {
    if (!this.closed) this.socket.send('\n');
  }

  private error(code: number, message: string, callsid?: string): void {
    this.send('error', { error: { code, message }, ...(callsid ? { callsid } : {}) });
    if (++this.errors > MAX_ERRORS) {
      this.socket.close(1008, 'too many protocol errors');
      this.closed = true;
    }
  }

  /** A text frame from the SDK. */
  async message(text: string): Promise<void> {
    this.lastSeen = Date.now();
    if (text === '\n' || text === '') return; // the SDK's heartbeat echo
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return this.error(31400, 'Bad Request: the frame is not JSON');
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string')
      return this.error(31400, 'Bad Request: a frame is {type, version, payload}');
    const payload = (
      typeof frame.payload === 'object' && frame.payload !== null ? frame.payload : {}
    ) as Record<string, unknown>;
    switch (frame.type) {
      case 'listen':
        return this.listen(payload);
      case 'register':
        return this.register(payload);
      case 'answer':
        return this.answer(payload);
      case 'reject':
      case 'hangup':
        return this.end(payload, frame.type);
      case 'dtmf':
        return this.dtmf(payload);
      case 'invite':
        return this.invite(payload);
      case 'message':
        // Call messages (call.sendMessage) are acknowledged; nothing consumes them yet.
        return this.send('ack', {
          acktype: 'message',
          callsid: payload.callsid,
          voiceeventsid: payload.voiceeventsid,
        });
      default:
        return this.error(31400, `Bad Request: unknown message type ${frame.type.slice(0, 40)}`);
    }
  }

  private async listen(payload: Record<string, unknown>): Promise<void> {
    let token: VerifiedToken;
    try {
      token = await verifyAccessToken(payload.token, this.deps.keys);
    } catch (err) {
      if (!(err instanceof TokenRefusal)) throw err;
      this.deps.logger.info({ code: err.code, reason: err.message }, 'access token refused');
      return this.error(err.signallingCode, err.message);
    }
    const before = this.token;
    // A refreshed token (device.updateToken) must name the same client.
    if (before && (before.identity !== token.identity || before.accountSid !== token.accountSid))
      return this.error(31204, 'Invalid Access Token: a new token must keep the identity (20101)');
    this.token = token;
    this.send('connected', {
      region: 'switchboard',
      edge: 'switchboard',
      home: 'switchboard',
      token: {
        identity: token.identity,
        ttl: Math.max(0, token.expiresAt - Math.floor(Date.now() / 1000)),
      },
    });
    if (this.registered) this.publish();
  }

  private register(payload: Record<string, unknown>): void {
    if (!this.token) return this.error(31204, 'Invalid Access Token: listen first (20101)');
    const media = payload.media as { audio?: unknown } | undefined;
    if (media?.audio === false) {
      this.unregister();
      return this.send('offline', {});
    }
    if (!this.token.voice.incomingAllow)
      return this.error(31204, 'Invalid Access Token grants: incoming calls not allowed (20106)');
    if (!this.registered) this.registeredAt = Date.now();
    this.registered = true;
    this.publish();
    this.send('ready', {});
  }

  private publish(): void {
    const t = this.token;
    if (!t || !this.registered) return;
    const now = Date.now();
    this.deps.registry.put({
      id: this.deviceId,
      accountSid: t.accountSid,
      identity: t.identity,
      kind: 'sdk',
      status: [...this.calls.values()].some((c) => c.answered) ? 'busy' : 'available',
      node: this.deps.nodeId,
      address: this.deps.gateway?.addressOf(this.deviceId) ?? '',
      registeredAt: this.registeredAt,
      lastSeen: now,
    });
  }

  private unregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.deps.registry.remove(this.deviceId);
  }

  /** The token expired while registered: the device is no longer reachable. */
  expireIfDue(nowS: number): void {
    if (this.token && this.token.expiresAt + 30 < nowS) {
      this.error(31205, 'Access Token expired or expiration date invalid (20104)');
      this.unregister();
      this.token = undefined;
    }
  }

  /** A call for this device (from the gateway): the SDK's `incoming`. */
  ring(call: DeviceCall): void {
    if (!this.registered || this.closed) return call.reject('gone');
    if (this.calls.size >= MAX_CALLS) return call.reject('busy');
    this.calls.set(call.callSid, { kind: 'in', call, answered: false });
    call.onEnd((how) => {
      if (!this.forget(call.callSid)) return;
      this.send(how === 'canceled' ? 'cancel' : 'hangup', { callsid: call.callSid });
      this.publish();
    });
    this.send('invite', {
      callsid: call.callSid,
      sdp: call.offer,
      parameters: {
        CallSid: call.callSid,
        AccountSid: this.token?.accountSid,
        From: call.from,
        To: call.to,
        ApiVersion: '2010-04-01',
        Params: new URLSearchParams(call.params).toString(),
      },
    });
  }

  private callOf(payload: Record<string, unknown>) {
    const given = typeof payload.callsid === 'string' ? payload.callsid : '';
    const sid = this.temps.get(given) ?? given;
    return { sid, entry: this.calls.get(sid) };
  }

  private async answer(payload: Record<string, unknown>): Promise<void> {
    const { sid, entry } = this.callOf(payload);
    if (!entry || entry.kind !== 'in')
      return this.error(31404, 'Not Found: no such call', sid || undefined);
    if (typeof payload.sdp !== 'string' || entry.answered)
      return this.error(31400, 'Bad Request: answer carries an sdp, once', sid);
    entry.answered = true;
    try {
      await entry.call.accept(payload.sdp);
    } catch (err) {
      this.deps.logger.warn({ err, callSid: sid }, 'device answer failed');
      this.calls.delete(sid);
      entry.call.reject('gone');
      return this.send('hangup', {
        callsid: sid,
        error: { code: 31003, message: 'Connection error: media' },
      });
    }
    this.publish();
  }

  private end(payload: Record<string, unknown>, how: 'reject' | 'hangup'): void {
    const { sid, entry } = this.callOf(payload);
    if (!entry) return; // already over: hangups cross on the wire
    this.forget(sid);
    if (entry.kind === 'out' || entry.answered) entry.call.hangup();
    else entry.call.reject(how === 'reject' ? 'declined' : 'gone');
    this.publish();
  }

  private forget(sid: string): boolean {
    const entry = this.calls.get(sid);
    if (entry?.kind === 'out') this.temps.delete(entry.temp);
    return this.calls.delete(sid);
  }

  private dtmf(payload: Record<string, unknown>): void {
    const { sid, entry } = this.callOf(payload);
    const digits = typeof payload.dtmf === 'string' ? payload.dtmf : '';
    if (!entry || !/^[0-9A-D*#w]{1,32}$/i.test(digits))
      return this.error(31400, 'Bad Request: dtmf', sid || undefined);
    entry.call.digits(digits.replace(/w/gi, ''));
  }

  /**
   * device.connect({params}): the token's outgoing application runs the call. The SDK hears
   * `ringing` with the CA SID and our SDP (media starts while the webhook is fetched), then
   * `answer` once the application answered, or `hangup` with the reason as its error.
   */
  private invite(payload: Record<string, unknown>): void {
    const temp = typeof payload.callsid === 'string' ? payload.callsid.slice(0, 64) : '';
    const token = this.token;
    if (!token) return this.error(31204, 'Invalid Access Token: listen first (20101)', temp);
    const refuse = (code: number, message: string) =>
      this.send('hangup', { callsid: temp, error: { code, message } });
    const app = token.voice.outgoingApplicationSid;
    if (!app) return refuse(31204, 'Invalid Access Token grants: no outgoing application (20106)');
    if (typeof payload.sdp !== 'string' || temp === '' || this.temps.has(temp))
      return this.error(31400, 'Bad Request: an invite carries a callsid and an sdp', temp);
    const gateway = this.deps.gateway;
    if (!gateway) return refuse(31005, 'Connection error: this node takes no calls (SIP is off)');
    if (this.calls.size >= MAX_CALLS) return refuse(31486, 'Busy Here: too many calls at once');
    const twilio = payload.twilio as { params?: unknown } | undefined;
    const raw = typeof twilio?.params === 'string' ? twilio.params : '';
    if (raw.length > MAX_PARAMS_CHARS)
      return refuse(31400, `Bad Request: params over ${MAX_PARAMS_CHARS} characters`);
    // The token's params are the application's own: the page cannot override them.
    const params = {
      ...Object.fromEntries(new URLSearchParams(raw)),
      ...token.voice.outgoingParams,
    };
    let sid = '';
    const placed = gateway.place({
      deviceId: this.deviceId,
      accountSid: token.accountSid,
      identity: token.identity,
      applicationSid: app,
      params,
      offer: payload.sdp,
      ringing: (sdp) => this.send('ringing', { callsid: sid, sdp }),
      answered: () => {
        const entry = this.calls.get(sid);
        if (!entry) return;
        entry.answered = true;
        this.send('answer', { callsid: sid });
        this.publish();
      },
      ended: (error) => {
        if (!this.forget(sid)) return;
        this.send('hangup', { callsid: sid, ...(error ? { error } : {}) });
        this.publish();
      },
    });
    sid = placed.callSid;
    this.calls.set(sid, { kind: 'out', call: placed, answered: false, temp });
    this.temps.set(temp, sid);
  }

  /** The socket closed: the device is gone, its calls end. */
  closedBySocket(): void {
    if (this.closed && !this.registered && this.calls.size === 0) return this.deps.onClose(this);
    this.closed = true;
    this.unregister();
    for (const entry of this.calls.values())
      if (entry.kind === 'out' || entry.answered) entry.call.hangup();
      else entry.call.reject('gone');
    this.calls.clear();
    this.temps.clear();
    this.deps.onClose(this);
  }
}
