// A Voice SDK signalling client for tests and benches: speaks the SDK's PStream 1.6 frames
// over wss, as @twilio/voice-sdk does, without a browser.
import twilio from 'twilio';
import WebSocket from 'ws';

export interface Frame {
  type: string;
  version?: string;
  payload: Record<string, unknown>;
}

/** A Twilio AccessToken with a VoiceGrant, made by the official `twilio` package. */
export function voiceToken(options: {
  accountSid: string;
  keySid: string;
  secret: string;
  identity: string;
  incomingAllow?: boolean;
  outgoingApplicationSid?: string;
  /** The grant's outgoing.params (sent to the application with the SDK's own). */
  outgoingParams?: Record<string, string>;
  ttl?: number;
  algorithm?: 'HS256' | 'HS384' | 'HS512';
}): string {
  const { AccessToken } = twilio.jwt;
  const token = new AccessToken(options.accountSid, options.keySid, options.secret, {
    identity: options.identity,
    ttl: options.ttl ?? 3600,
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
  });
  token.addGrant(
    new AccessToken.VoiceGrant({
      incomingAllow: options.incomingAllow ?? true,
      ...(options.outgoingApplicationSid
        ? { outgoingApplicationSid: options.outgoingApplicationSid }
        : {}),
      ...(options.outgoingParams ? { outgoingApplicationParams: options.outgoingParams } : {}),
    }),
  );
  return token.toJwt();
}

export class SignalClient {
  readonly frames: Frame[] = [];
  heartbeats = 0;
  private waiters: { type: string; resolve: (f: Frame) => void; from: number }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '\n') {
        this.heartbeats++;
        ws.send('\n');
        return;
      }
      const frame = JSON.parse(text) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (w.type !== frame.type) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string): Promise<SignalClient> {
    const ws = new WebSocket(url, { rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new SignalClient(ws);
  }

  send(type: string, payload: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ type, version: '1.6', payload }));
  }

  /** The next frame of `type` (one already received and not yet taken counts). */
  next(type: string, ms = 5000): Promise<Frame> {
    const i = this.frames.findIndex((f) => f.type === type);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} frame within ${ms} ms`)), ms);
      this.waiters.push({
        type,
        from: Date.now(),
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }

  /** listen + register, as Device.register() does. */
  async register(token: string): Promise<Frame> {
    this.send('listen', { token, browserinfo: { p: 'browser' }, reconnectTimeout: 0 });
    const connected = await Promise.race([this.next('connected'), this.next('error')]);
    if (connected.type === 'error') return connected;
    this.send('register', { media: { audio: true } });
    return Promise.race([this.next('ready'), this.next('error')]);
  }

  close(): void {
    this.ws.close();
  }
}
