// Webhooks out: form-encoded POSTs signed with X-Twilio-Signature (HMAC-SHA1 of the URL and the
// sorted parameters, keyed with the account's AuthToken) as the SDK's validateRequest expects,
// with a bounded timeout and retries with backoff.
import { createHmac } from 'node:crypto';

export function twilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>>,
): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export interface WebhookResult {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

export interface PostOptions {
  readonly attempts?: number;
  readonly timeoutMs?: number;
  readonly firstDelayMs?: number;
}

/** POSTs a signed form; retries network errors and 5xx/429. Returns the last response. */
export async function postSigned(
  url: string,
  params: Readonly<Record<string, string>>,
  authToken: string,
  options: PostOptions = {},
): Promise<WebhookResult> {
  const attempts = options.attempts ?? 3;
  const body = new URLSearchParams(params).toString();
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': twilioSignature(authToken, url, params),
    'user-agent': 'TwilioProxy/1.1 (Switchboard)',
  };
  let last: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0)
      await new Promise((r) => setTimeout(r, (options.firstDelayMs ?? 500) * 2 ** (i - 1)));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      const result = {
        status: res.status,
        body: text,
        contentType: res.headers.get('content-type') ?? '',
      };
      if (res.status < 500 && res.status !== 429) return result;
      last = new Error(`webhook answered ${res.status}`);
      if (i === attempts - 1) return result;
    } catch (e) {
      last = e as Error;
    }
  }
  throw last ?? new Error('webhook failed');
}
