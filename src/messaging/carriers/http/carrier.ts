// A carrier reached over HTTP with the JSON contract of ./contract.ts: submits are signed POSTs
// (fetch, keep-alive), their failures classified the way the worker expects (4xx permanent,
// 429/5xx and refused connections provider-transient, no answer = unknown outcome), and the
// carrier's signed callbacks become receipts and inbound messages like SMPP's deliver_sm.
import { EventEmitter } from 'node:events';
import type { Carrier, CarrierEvents, CarrierState, OutboundSms } from '../carrier.js';
import { ESME, SubmitError, type Receipt, type ReceiptStat } from '../smpp/status.js';
import {
  parseCallback,
  signedHeaders,
  verify,
  type DeliveryStatus,
  type SubmitRequest,
} from './contract.js';

export interface HttpSettings {
  /** The carrier's submit endpoint (http or https). */
  readonly url: string;
  /** Shared secret for HMAC-SHA256 in both directions (at least 16 characters). */
  readonly secret: string;
  /** Bound on one submit; past it the outcome is unknown (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Submits in flight at once (default 20): the HTTP counterpart of an SMPP window. */
  readonly concurrency?: number;
  /** The carrier accepts MediaUrl (MMS). */
  readonly mms?: boolean;
  /** Largest clock difference accepted on callbacks (default 300 s). */
  readonly toleranceSeconds?: number;
}

/** Settings errors, in words, or undefined when they are usable. */
export function checkHttpSettings(s: Record<string, unknown>): string | undefined {
  if (typeof s.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(s.url)) {
    return 'Settings.url must be an http(s) URL';
  }
  if (typeof s.secret !== 'string' || s.secret.length < 16) {
    return 'Settings.secret must be a string of at least 16 characters';
  }
  for (const k of ['timeoutMs', 'concurrency', 'toleranceSeconds']) {
    if (s[k] !== undefined && (typeof s[k] !== 'number' || !(s[k] > 0))) {
      return `Settings.${k} must be a positive number`;
    }
  }
  if (s.mms !== undefined && typeof s.mms !== 'boolean') return 'Settings.mms must be a boolean';
  return undefined;
}

const STAT: Record<DeliveryStatus, ReceiptStat> = {
  sent: 'ENROUTE',
  delivered: 'DELIVRD',
  undelivered: 'UNDELIV',
  failed: 'REJECTD',
  expired: 'EXPIRED',
};

/** What the callback endpoint answers. */
export interface CallbackReply {
  readonly status: 200 | 400 | 401 | 503;
  readonly why?: string;
}

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

export class HttpCarrier extends EventEmitter<CarrierEvents> implements Carrier {
  readonly kind = 'http' as const;
  private inflight = 0;
  private running = false;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly s: HttpSettings,
    /** Where this provider's callbacks arrive (sent with each submit); undefined: not sent. */
    private readonly callbackUrl: () => string | undefined,
    readonly log: (msg: string) => void = () => undefined,
  ) {
    super();
    this.timeoutMs = s.timeoutMs ?? 10_000;
    this.concurrency = s.concurrency ?? 20;
  }

  get mms(): boolean {
    return this.s.mms === true;
  }

  start(): void {
    this.running = true;
    this.emit('state', this.state());
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  capacity(): number {
    return this.running ? Math.max(0, this.concurrency - this.inflight) : 0;
  }

  /** HTTP has no bind: the carrier counts as up and the worker's circuit breaker judges it. */
  isUp(): boolean {
    return this.running;
  }

  state(): CarrierState {
    return {
      binds: 1,
      bound: this.running ? 1 : 0,
      outstanding: this.inflight,
      backingOff: false,
    };
  }

  async submit(sms: OutboundSms): Promise<string[]> {
    const callback = this.callbackUrl();
    const req: SubmitRequest = {
      id: sms.sid ?? String(sms.ref),
      from: sms.from,
      to: sms.to,
      body: sms.body,
      ...(sms.mediaUrls?.length ? { media_urls: sms.mediaUrls } : {}),
      ...(sms.validitySeconds ? { validity_seconds: sms.validitySeconds } : {}),
      ...(callback ? { status_callback: callback } : {}),
    };
    const body = JSON.stringify(req);
    this.inflight++;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.s.url, {
        method: 'POST',
        headers: { ...signedHeaders(this.s.secret, body), 'idempotency-key': req.id },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw classifyNetworkError(e, this.timeoutMs);
    } finally {
      this.inflight--;
    }
    if (res.status >= 200 && res.status < 300) {
      const id = messageIdOf(text);
      if (!id) {
        // The carrier took it but did not say under which id: receipts cannot be matched, and
        // sending it again would surely duplicate it (not in doubt: failed at once).
        throw new SubmitError(
          'permanent',
          0,
          `HTTP ${res.status} without message_id; not resent, the carrier has it`,
          30008,
        );
      }
      return [id];
    }
    const detail = errorOf(text);
    if (res.status === 429) {
      // Mapped onto SMPP's throttling status so that the worker pauses its buckets likewise.
      throw new SubmitError('transient', ESME.RTHROTTLED, `HTTP 429${detail}`, 30008);
    }
    if (res.status >= 500) {
      throw new SubmitError('transient', ESME.RSYSERR, `HTTP ${res.status}${detail}`, 30008);
    }
    throw new SubmitError('permanent', 0, `HTTP ${res.status}${detail}`, permanentCode(text));
  }

  /**
   * A callback from the carrier (raw body, as signed). Receipts are answered 200 only once
   * stored, so a carrier that gets no 200 sends them again; inbound messages once handed on.
   */
  async callback(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    raw: string,
  ): Promise<CallbackReply> {
    const v = verify(this.s.secret, headers, raw, this.s.toleranceSeconds ?? 300);
    if (!v.ok) return { status: 401, why: v.why };
    const cb = parseCallback(raw);
    if (typeof cb === 'string') return { status: 400, why: cb };
    if (cb.type === 'inbound') {
      const media = (cb.media_urls ?? []).map((url, i) => ({
        url,
        contentType: cb.media_content_types?.[i] ?? null,
      }));
      const stored = await this.whenStored((done) =>
        this.emit('inbound', {
          from: cb.from,
          to: cb.to,
          body: cb.body ?? '',
          media,
          stored: done,
        }),
      );
      return stored ? { status: 200 } : { status: 503, why: 'message not stored; send it again' };
    }
    const receipt: Receipt = {
      id: cb.message_id,
      stat: STAT[cb.status],
      err: cb.error_code ?? '000',
    };
    const stored = await this.whenStored((done) => this.emit('receipt', receipt, done));
    return stored ? { status: 200 } : { status: 503, why: 'receipt not stored yet; send it again' };
  }

  /** Hands something on with a "stored" callback; false if it was not called within 15 s. */
  private whenStored(handOn: (done: () => void) => void): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 15_000);
      handOn(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

/**
 * A request that never reached the carrier (refused, no such host) is safe to retry; one that
 * failed after it was sent (timeout, reset) may have been taken: unknown outcome.
 */
function classifyNetworkError(e: unknown, timeoutMs: number): SubmitError {
  const err = e as { name?: string; message?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new SubmitError('unknown', 0, `no HTTP response within ${timeoutMs} ms`, 30008);
  }
  const code = err.cause?.code ?? '';
  if (CONNECT_FAILURES.has(code)) {
    return new SubmitError('transient', ESME.RSYSERR, `carrier unreachable (${code})`, 30008);
  }
  return new SubmitError('unknown', 0, `HTTP request failed: ${code || err.message}`, 30008);
}

function json(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function messageIdOf(text: string): string | undefined {
  const id = json(text)?.message_id;
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

function errorOf(text: string): string {
  const e = json(text)?.error as { code?: unknown; message?: unknown } | undefined;
  if (!e) return '';
  return `: ${String(e.code ?? '')}${e.message ? ` ${String(e.message)}` : ''}`.slice(0, 200);
}

/** The Twilio code a permanent refusal gets, from the carrier's error code when it gives one. */
function permanentCode(text: string): number {
  const e = json(text)?.error as { code?: unknown } | undefined;
  switch (e?.code) {
    case 'invalid_destination':
    case 'unknown_destination':
      return 30005;
    case 'blocked':
      return 30004;
    case 'filtered':
    case 'spam':
      return 30007;
    case 'landline':
      return 30006;
    case 'mms_not_supported':
      return 30011;
    default:
      return 30008;
  }
}
