// Parameter helpers shared by Applications and IncomingPhoneNumbers: Twilio lets a client
// clear a URL or a SID by sending an empty value, which the generic validators refuse.
import { Errors, TwilioError, isSid } from '../../core/index.js';
import type { Input } from '../../core/rest.js';

/** undefined: not given; null: given empty (clear); otherwise a valid http(s) URL. */
export function optionalUrl(input: Input, name: string): string | null | undefined {
  const raw = input.string(name);
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return null;
  let ok: boolean;
  try {
    const u = new URL(raw);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok)
    throw new TwilioError(Errors.invalidParameter, `${name} must be an absolute http(s) URL`);
  return raw;
}

/** undefined: not given; null: given empty (clear); otherwise an AP SID. */
export function optionalApplicationSid(input: Input, name: string): string | null | undefined {
  const raw = input.string(name);
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return null;
  if (!isSid(raw, 'AP'))
    throw new TwilioError(Errors.applicationNotAccessible, `${name} ${raw.slice(0, 40)}`);
  return raw;
}

export const METHODS = ['GET', 'POST'] as const;
