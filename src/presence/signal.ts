// One Voice SDK connection speaking the SDK's signalling protocol ("PStream" 1.6): JSON frames
// {type, version, payload} both ways, and a bare "\n" as heartbeat. The SDK sends listen (its
// AccessToken; again on device.updateToken), register (every 30 s; audio:false unregisters),
// answer/reject/hangup for calls it was invited to, dtmf and message; this side answers
// connected/ready/offline and sends invite/cancel/hangup/error. Transport-free: the TLS edge
// hands frames in and this writes frames out, so tests and the bench drive it directly too.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/index.js';
import type { DeviceCall, DeviceGateway } from '../plugin/index.js';
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

export class SignalSession {
  readonly deviceId = 'DV' + randomBytes(16).toString('hex');
  private token: VerifiedToken | undefined;
  private registered = false;
  private readonly calls = new Map<string, { call: DeviceCall; answered: boolean }>();
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
    this.calls.set(call.callSid, { call, answered: false });
    call.onEnd((how) => {
      if (!this.calls.delete(call.callSid)) return;
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
    const sid = typeof payload.callsid === 'string' ? payload.callsid : '';
    return { sid, entry: this.calls.get(sid) };
  }

  private async answer(payload: Record<string, unknown>): Promise<void> {
    const { sid, entry } = this.callOf(payload);
    if (!entry) return this.error(31404, 'Not Found: no such call', sid || undefined);
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
    this.calls.delete(sid);
    if (entry.answered) entry.call.hangup();
    else entry.call.reject(how === 'reject' ? 'declined' : 'gone');
    this.publish();
  }

  private dtmf(payload: Record<string, unknown>): void {
    const { sid, entry } = this.callOf(payload);
    const digits = typeof payload.dtmf === 'string' ? payload.dtmf : '';
    if (!entry || !/^[0-9A-D*#w]{1,32}$/i.test(digits))
      return this.error(31400, 'Bad Request: dtmf', sid || undefined);
    entry.call.digits(digits.replace(/w/gi, ''));
  }

  private invite(payload: Record<string, unknown>): void {
    const sid = typeof payload.callsid === 'string' ? payload.callsid.slice(0, 64) : '';
    if (!this.token) return this.error(31204, 'Invalid Access Token: listen first (20101)', sid);
    if (!this.token.voice.outgoingApplicationSid)
      return this.send('hangup', {
        callsid: sid,
        error: {
          code: 31204,
          message: 'Invalid Access Token grants: no outgoing application (20106)',
        },
      });
    // Outgoing calls from the SDK are not served yet: the SDK shows a clear failure.
    this.send('hangup', {
      callsid: sid,
      error: { code: 31005, message: 'Connection error: outgoing calls are not served yet' },
    });
  }

  /** The socket closed: the device is gone, its calls end. */
  closedBySocket(): void {
    if (this.closed && !this.registered && this.calls.size === 0) return this.deps.onClose(this);
    this.closed = true;
    this.unregister();
    for (const { call, answered } of this.calls.values())
      if (answered) call.hangup();
      else call.reject('gone');
    this.calls.clear();
    this.deps.onClose(this);
  }
}
