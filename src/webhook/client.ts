import { Agent, type Dispatcher } from 'undici';
import { ADDRESS_REFUSED, addressPolicy } from './address-policy.js';
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

let agent: Dispatcher | undefined;

/**
 * The keep-alive pool outgoing HTTP goes through: its sockets resolve names through the address
 * policy in force (address-policy.ts). Made on first use; the sender thread makes its own with
 * its connection and pipelining figures.
 */
export function webhookAgent(options: { connections?: number; pipelining?: number } = {}) {
  if (!agent || Object.keys(options).length) {
    agent = new Agent({
      ...options,
      connect: { lookup: (host, opts, cb) => addressPolicy().lookup(host, opts, cb) },
    });
  }
  return agent;
}

interface Prepared {
  readonly url: string;
  readonly method: WebhookMethod;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly idempotent: boolean;
}

/** Builds the signed URL, headers and body of a webhook (GET parameters go in the query). */
function prepare(req: WebhookRequest): Prepared {
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
    return { url, method, headers, idempotent: req.retryOnStatus === true };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  headers['x-twilio-signature'] = twilioSignature(req.authToken, req.url, req.params);
  return {
    url: req.url,
    method,
    headers,
    body: new URLSearchParams(req.params).toString(),
    idempotent: req.retryOnStatus === true,
  };
}

/** undici's codes for an attempt that ran out of time. */
const TIMED_OUT = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([300, 301, 302, 303, 307, 308]);

/**
 * Calls a webhook. Never throws: network failures, timeouts and refused connections come
 * back as Twilio error codes so that the caller can fall back and log.
 *
 * The transport is undici's dispatcher (its keep-alive pool) driven through a handler rather
 * than `fetch` or `request`: status callbacks go out at thousands per second, and `fetch`
 * (WHATWG objects, web streams, an AbortSignal timer per call) cost about four times as much
 * CPU per request as `request`, which itself costs about twice a handler (its body is a
 * Readable stream, and its redirect support a handler and a parsed URL per request). Redirects
 * are followed here the way undici follows them (303 turns the request into a GET). The
 * attempt's bound is undici's headers timeout (request sent → response headers) plus the same
 * bound on any pause while the body arrives.
 */
export async function callWebhook(req: WebhookRequest): Promise<WebhookOutcome> {
  const attempts = Math.max(1, req.attempts ?? 2);
  const timeoutMs = req.timeoutMs ?? 15_000;
  const prepared = prepare(req);
  let last: WebhookOutcome = { ok: false, code: 11205, message: 'not attempted' };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep((req.firstDelayMs ?? 250) * 2 ** (i - 1));
    try {
      const outcome = await follow(prepared, timeoutMs, req.maxBytes ?? 1_000_000);
      if (req.retryOnStatus && (outcome.status >= 500 || outcome.status === 429)) {
        last = outcome;
        continue;
      }
      return outcome;
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      const refused = e.code === ADDRESS_REFUSED || e.cause?.code === ADDRESS_REFUSED;
      const cause = refused ? ADDRESS_REFUSED : (e.code ?? e.name);
      if (cause === ADDRESS_REFUSED) {
        // Not the receiver's failure, and no retry can change it.
        return { ok: false, code: 11205, message: `refused by the address policy: ${e.message}` };
      }
      if (cause === 'ENOTFOUND' || cause === 'EAI_AGAIN') {
        return {
          ok: false,
          code: 11210,
          message: `bad host name: ${new URL(prepared.url).hostname}`,
        };
      }
      const timedOut = TIMED_OUT.has(cause);
      last = {
        ok: false,
        code: timedOut ? 11200 : 11205,
        message: timedOut
          ? `timed out after ${timeoutMs} ms`
          : `connection failed: ${cause ?? e.message}`,
      };
      // A request that timed out may have been acted on: only idempotent deliveries (status
      // callbacks, retryOnStatus) try again; a TwiML fetch goes to its fallback instead.
      if (timedOut && !req.retryOnStatus) return last;
    }
  }
  return last;
}

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly contentType: string;
  readonly body: Buffer;
}

/** One request, then its redirects (up to MAX_REDIRECTS). */
async function follow(
  first: Prepared,
  timeoutMs: number,
  maxBytes: number,
): Promise<WebhookOutcome & { ok: true }> {
  let p = first;
  for (let hop = 0; ; hop++) {
    const a = await exchange(p, timeoutMs, maxBytes);
    if (!a.location || !REDIRECTS.has(a.status) || hop >= MAX_REDIRECTS) {
      return {
        ok: true,
        status: a.status,
        body: a.body.toString('utf8'),
        contentType: a.contentType,
      };
    }
    const url = new URL(a.location, p.url).toString();
    if (a.status === 303 && p.method !== 'GET') {
      const headers = { ...p.headers };
      delete headers['content-type'];
      p = { url, method: 'GET', headers, idempotent: p.idempotent };
    } else {
      p = { ...p, url };
    }
  }
}

/** Why this URL may not be fetched, as the error a refused connection fails with. */
async function vet(url: URL): Promise<void> {
  const why = await addressPolicy().refusalOfUrl(url);
  if (why) throw Object.assign(new Error(`${url.host}: ${why}`), { code: ADDRESS_REFUSED });
}

/**
 * Sends one request on the webhook pool and reads the answer: the body bounded by maxBytes, and
 * the whole exchange by timeoutMs twice over (headers, then body; a body dripping in a byte at
 * a time never pauses long enough for undici's body timeout).
 */
async function exchange(p: Prepared, timeoutMs: number, maxBytes: number): Promise<Answer> {
  const u = new URL(p.url);
  await vet(u);
  const deadline = Date.now() + 2 * timeoutMs;
  return new Promise<Answer>((resolve, reject) => {
    let status = 0;
    let location: string | undefined;
    let contentType = '';
    let abort: ((err: Error) => void) | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    webhookAgent().dispatch(
      {
        origin: u.origin,
        path: u.pathname + u.search,
        method: p.method,
        headers: p.headers,
        body: p.body ?? null,
        // Only deliveries retried anyway (status callbacks) may share a pipelined connection:
        // undici sends a non-idempotent request only once those before it are answered.
        idempotent: p.idempotent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onConnect(a) {
          abort = a;
        },
        onHeaders(code, raw) {
          status = code;
          for (let i = 0; i + 1 < raw.length; i += 2) {
            const name = raw[i]!.toString('latin1').toLowerCase();
            if (name === 'content-type') contentType = raw[i + 1]!.toString('latin1');
            else if (name === 'location') location = raw[i + 1]!.toString('latin1');
          }
          return true;
        },
        onData(chunk) {
          size += chunk.byteLength;
          if (size > maxBytes) {
            abort?.(new Error(`response larger than ${maxBytes} bytes`));
            return false;
          }
          if (Date.now() > deadline) {
            abort?.(
              Object.assign(new Error(`response took longer than ${2 * timeoutMs} ms`), {
                code: 'UND_ERR_BODY_TIMEOUT',
              }),
            );
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          resolve({
            status,
            location,
            contentType,
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
          });
        },
        onError: reject,
      },
    );
  });
}

/**
 * Fetches a resource a tenant named (a <Play> URL): GET, redirects followed within the address
 * policy, the body bounded. Throws with a message saying why it could not.
 */
export async function fetchResource(
  url: string,
  options: { timeoutMs: number; maxBytes: number },
): Promise<{ status: number; contentType: string; body: Buffer }> {
  let p: Prepared = {
    url,
    method: 'GET',
    headers: { 'user-agent': 'TwilioProxy/1.1 (Switchboard)', accept: '*/*' },
    idempotent: true,
  };
  for (let hop = 0; ; hop++) {
    const a = await exchange(p, options.timeoutMs, options.maxBytes);
    if (!a.location || !REDIRECTS.has(a.status) || hop >= MAX_REDIRECTS) return a;
    p = { ...p, url: new URL(a.location, p.url).toString() };
  }
}
