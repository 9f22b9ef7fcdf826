import { randomBytes } from 'node:crypto';

/** Two-letter Twilio SID prefixes used by the platform. */
export type SidPrefix =
  | 'AC'
  | 'SK'
  | 'EV'
  | 'CA'
  | 'AP'
  | 'PN'
  | 'SM'
  | 'MM'
  | 'ME'
  | 'MG'
  | 'QU'
  | 'RE'
  | 'CF'
  | 'SG'
  | 'LE'
  | 'PV'
  | 'UT'
  | 'NO'
  | 'CL'
  | 'CR'
  | 'SD'
  // Super SIM: networks, network access profiles, fleets, SIMs, SMS and IP commands, billing periods.
  | 'HW'
  | 'HA'
  | 'HF'
  | 'HS'
  | 'HC'
  | 'HG'
  | 'HB'
  // Conversational Intelligence: services, transcripts, sentences, operators, operator types.
  | 'GA'
  | 'GT'
  | 'GX'
  | 'LY'
  | 'EY'
  // Trackers and their triggers (tracking, an extension).
  | 'TK'
  | 'TT';

const SID_BODY = /^[0-9a-f]{32}$/;

// SIDs are minted on hot paths (one per logged request); drawing CSPRNG bytes in blocks
// costs one system call per 256 SIDs instead of one per SID.
const POOL_SIDS = 256;
let pool = randomBytes(16 * POOL_SIDS);
let offset = 0;

/** A new SID: prefix + 32 lowercase hex digits from the system CSPRNG. */
export function newSid(prefix: SidPrefix): string {
  if (offset === pool.length) {
    pool = randomBytes(16 * POOL_SIDS);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return prefix + hex;
}

export function isSid(value: unknown, prefix: SidPrefix): boolean {
  return (
    typeof value === 'string' &&
    value.length === 34 &&
    value.startsWith(prefix) &&
    SID_BODY.test(value.slice(2))
  );
}

/**
 * A new SID whose first 12 hex digits are the creation time in ms and whose other 20 are
 * random (80 bits): the same shape as newSid, but rows keyed by such SIDs are appended at the
 * end of their index instead of at random places in it, which keeps a busy table's writes on
 * few pages (the messages hot path). It reveals the creation time, which the resource shows anyway.
 */
export function newTimeOrderedSid(prefix: SidPrefix): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastMsHex = now.toString(16).padStart(12, '0').slice(-12);
  }
  if (offset === pool.length) {
    pool = randomBytes(16 * POOL_SIDS);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + 10);
  offset += 16;
  return prefix + lastMsHex + random;
}
let lastMs = -1;
let lastMsHex = '';
