// The JSON contract between Switchboard and an HTTP carrier (docs/messaging.md, "HTTP
// providers"): the bodies each side sends and how both sign them. Every request in either
// direction carries `X-Switchboard-Timestamp` (Unix seconds) and `X-Switchboard-Signature:
// v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`, so that a captured request can
// neither be altered nor replayed outside the tolerance window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-switchboard-timestamp';
export const SIGNATURE_HEADER = 'x-switchboard-signature';

/** Switchboard → carrier: `POST <Settings.url>`. */
export interface SubmitRequest {
  /** The message SID; also sent as `Idempotency-Key` so a carrier can drop a repeat. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  /** MMS: public URLs of up to 10 media files (only to carriers declaring `mms`). */
  readonly media_urls?: readonly string[];
  /** Seconds the carrier may keep trying. */
  readonly validity_seconds?: number;
  /** Where the carrier posts delivery reports for this message. */
  readonly status_callback?: string;
}

/** Carrier → Switchboard, 2xx: the carrier has the message. */
export interface SubmitAccepted {
  readonly message_id: string;
}

/** Carrier → Switchboard, 4xx/5xx (optional body). */
export interface SubmitRefused {
  readonly error?: { readonly code?: string; readonly message?: string };
}

export type DeliveryStatus = 'sent' | 'delivered' | 'undelivered' | 'failed' | 'expired';

/** Carrier → Switchboard callback: a delivery report. */
export interface ReceiptCallback {
  readonly type: 'receipt';
  readonly message_id: string;
  readonly status: DeliveryStatus;
  /** Carrier's own error code, kept on the message's routing log. */
  readonly error_code?: string;
}

/** Carrier → Switchboard callback: a mobile-originated message. */
export interface InboundCallback {
  readonly type: 'inbound';
  readonly from: string;
  readonly to: string;
  readonly body?: string;
  readonly media_urls?: readonly string[];
  readonly media_content_types?: readonly string[];
}

export type CarrierCallback = ReceiptCallback | InboundCallback;

export function signature(secret: string, timestamp: string, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Headers that sign `body` now. */
export function signedHeaders(
  secret: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const ts = String(Math.floor(now / 1000));
  return {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: ts,
    [SIGNATURE_HEADER]: signature(secret, ts, body),
  };
}

export type Verdict = { ok: true } | { ok: false; why: string };

/** Checks a signed request: the signature first, then that its timestamp is fresh. */
export function verify(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  toleranceSeconds: number,
  now = Date.now(),
): Verdict {
  const ts = one(headers[TIMESTAMP_HEADER]);
  const sig = one(headers[SIGNATURE_HEADER]);
  if (!ts || !/^\d{1,12}$/.test(ts))
    return { ok: false, why: `missing or bad ${TIMESTAMP_HEADER}` };
  if (!sig) return { ok: false, why: `missing ${SIGNATURE_HEADER}` };
  const want = Buffer.from(signature(secret, ts, body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    return { ok: false, why: 'signature does not match' };
  }
  if (Math.abs(now / 1000 - Number(ts)) > toleranceSeconds) {
    return { ok: false, why: `timestamp outside the ${toleranceSeconds} s tolerance (replay?)` };
  }
  return { ok: true };
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Validates a callback body; a string says what is wrong. */
export function parseCallback(raw: string): CarrierCallback | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'body is not JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'body must be a JSON object';
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string' && (o[k] as string).length > 0;
  const strings = (k: string) =>
    o[k] === undefined ||
    (Array.isArray(o[k]) &&
      (o[k] as unknown[]).length <= 10 &&
      (o[k] as unknown[]).every((x) => typeof x === 'string'));
  if (o.type === 'receipt') {
    if (!str('message_id')) return 'message_id is required';
    if (!['sent', 'delivered', 'undelivered', 'failed', 'expired'].includes(String(o.status))) {
      return 'status must be sent, delivered, undelivered, failed or expired';
    }
    if (o.error_code !== undefined && typeof o.error_code !== 'string')
      return 'error_code must be a string';
    return o as unknown as ReceiptCallback;
  }
  if (o.type === 'inbound') {
    if (!str('from') || !str('to')) return 'from and to are required';
    if (o.body !== undefined && typeof o.body !== 'string') return 'body must be a string';
    if (!strings('media_urls') || !strings('media_content_types'))
      return 'media_urls and media_content_types must be lists of at most 10 strings';
    if (!o.body && !(o.media_urls as unknown[] | undefined)?.length)
      return 'body or media_urls is required';
    return o as unknown as InboundCallback;
  }
  return 'type must be receipt or inbound';
}
