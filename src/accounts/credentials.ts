import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new AuthToken: 32 lowercase hex digits, as Twilio's. */
export function newAuthToken(): string {
  return randomBytes(16).toString('hex');
}

/** A new API key secret (shown once): 32 URL-safe characters from 24 random bytes. */
export function newKeySecret(): string {
  return randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two strings of any length (both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Constant-time comparison of a secret with a stored sha256 hex hash. */
export function matchesHash(given: string, storedHex: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = Buffer.from(storedHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Basic base64(user:password)` → [user, password], else undefined (oversized headers too). */
export function parseBasic(header: string): [string, string] | undefined {
  if (header.length > 1024 || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
