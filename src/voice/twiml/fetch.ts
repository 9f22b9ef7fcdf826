import type { Logger } from '../../core/index.js';
import { callWebhook, type WebhookMethod } from '../../webhook/index.js';
import { parseTwiml, TwimlError } from './parse.js';
import type { Verb } from './verbs.js';

export interface TwimlSource {
  readonly url: string;
  readonly method: WebhookMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: WebhookMethod;
}

export type Fetched =
  | { readonly ok: true; readonly verbs: Verb[]; readonly url: string }
  | { readonly ok: false; readonly code: number; readonly message: string; readonly url: string };

export interface FetchContext {
  readonly authToken: string;
  readonly logger: Logger;
  readonly timeoutMs: number;
  /** Records an error against the call (Twilio's call notifications). */
  notify(code: number, message: string, url: string): void;
}

async function fetchOnce(
  url: string,
  method: WebhookMethod,
  params: Record<string, string>,
  ctx: FetchContext,
): Promise<Fetched> {
  const out = await callWebhook({
    url,
    method,
    params,
    authToken: ctx.authToken,
    timeoutMs: ctx.timeoutMs,
    attempts: 2,
  });
  if (!out.ok) return { ok: false, code: out.code, message: out.message, url };
  if (out.status >= 400)
    return { ok: false, code: 11200, message: `HTTP ${out.status} from ${url}`, url };
  const type = out.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type && !/xml|text\/plain|text\/html/.test(type)) {
    return { ok: false, code: 12300, message: `invalid Content-Type "${type}"`, url };
  }
  try {
    return { ok: true, verbs: parseTwiml(out.body), url };
  } catch (e) {
    if (e instanceof TwimlError) return { ok: false, code: e.code, message: e.message, url };
    throw e;
  }
}

/** Fetches TwiML; on any failure records it and tries the fallback URL. */
export async function fetchTwiml(
  source: TwimlSource,
  params: Record<string, string>,
  ctx: FetchContext,
): Promise<Fetched> {
  const first = await fetchOnce(source.url, source.method, params, ctx);
  if (first.ok) return first;
  ctx.notify(first.code, first.message, first.url);
  if (!source.fallbackUrl) return first;
  const fallback = await fetchOnce(
    source.fallbackUrl,
    source.fallbackMethod,
    { ...params, ErrorCode: String(first.code), ErrorUrl: first.url },
    ctx,
  );
  if (!fallback.ok) ctx.notify(fallback.code, fallback.message, fallback.url);
  return fallback;
}
