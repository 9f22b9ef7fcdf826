import { twilioSignature } from './signature.js';

export type WebhookMethod = 'GET' | 'POST';

export interface WebhookRequest {
  readonly url: string;
  readonly method?: WebhookMethod;
  readonly params: Readonly<Record<string, string>>;
  /** Signs with X-Twilio-Signature using this account's AuthToken. */
  readonly authToken: string;
  /** Bound on one attempt, ms (Twilio's default is 15 s). */
  readonly timeoutMs?: number;
  /** Attempts on connection failures (and, with retryOnStatus, on 5xx/429). */
  readonly attempts?: number;
  readonly retryOnStatus?: boolean;
  /** Backoff before the second attempt, doubled after each. */
  readonly firstDelayMs?: number;
  /** Largest response body read, bytes. */
  readonly maxBytes?: number;
}

export type WebhookOutcome =
  | {
      readonly ok: true;
      readonly status: number;
      readonly body: string;
      readonly contentType: string;
    }
  | {
      readonly ok: false;
      /** Twilio's code: 11200 retrieval failure, 11205 connection failure, 11210 bad host. */
      readonly code: 11200 | 11205 | 11210;
      readonly status?: number;
      readonly message: string;
    };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the signed URL and fetch init for a webhook (GET parameters go in the query). */
function prepare(req: WebhookRequest): { url: string; init: RequestInit } {
  const method = req.method ?? 'POST';
  const headers: Record<string, string> = {
    'user-agent': 'TwilioProxy/1.1 (Switchboard)',
    accept: '*/*',
  };
  if (method === 'GET') {
    const u = new URL(req.url);
    for (const [k, v] of Object.entries(req.params)) u.searchParams.set(k, v);
    const url = u.toString();
    headers['x-twilio-signature'] = twilioSignature(req.authToken, url);
    return { url, init: { method, headers } };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  headers['x-twilio-signature'] = twilioSignature(req.authToken, req.url, req.params);
  return {
    url: req.url,
    init: { method, headers, body: new URLSearchParams(req.params).toString() },
  };
}

/**
 * Calls a webhook. Never throws: network failures, timeouts and refused connections come
 * back as Twilio error codes so that the caller can fall back and log.
 */
export async function callWebhook(req: WebhookRequest): Promise<WebhookOutcome> {
  const attempts = Math.max(1, req.attempts ?? 2);
  const { url, init } = prepare(req);
  let last: WebhookOutcome = { ok: false, code: 11205, message: 'not attempted' };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep((req.firstDelayMs ?? 250) * 2 ** (i - 1));
    try {
      const res = await fetch(url, {
        ...init,
        redirect: 'follow',
        signal: AbortSignal.timeout(req.timeoutMs ?? 15_000),
      });
      const body = await readBounded(res, req.maxBytes ?? 1_000_000);
      const outcome: WebhookOutcome = {
        ok: true,
        status: res.status,
        body,
        contentType: res.headers.get('content-type') ?? '',
      };
      if (req.retryOnStatus && (res.status >= 500 || res.status === 429)) {
        last = outcome;
        continue;
      }
      return outcome;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const cause = e.cause?.code ?? e.name;
      if (cause === 'ENOTFOUND' || cause === 'EAI_AGAIN') {
        return { ok: false, code: 11210, message: `bad host name: ${new URL(url).hostname}` };
      }
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      last = {
        ok: false,
        code: timedOut ? 11200 : 11205,
        message: timedOut
          ? `timed out after ${req.timeoutMs ?? 15_000} ms`
          : `connection failed: ${cause}`,
      };
      // A request that timed out may have been acted on: only idempotent deliveries (status
      // callbacks, retryOnStatus) try again; a TwiML fetch goes to its fallback instead.
      if (timedOut && !req.retryOnStatus) return last;
    }
  }
  return last;
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
