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
  | 'MG'
  | 'QU'
  | 'RE'
  | 'CF'
  | 'SG'
  | 'LE'
  | 'PV'
  | 'UT'
  | 'NO';

const SID_BODY = /^[0-9a-f]{32}$/;

/** A new SID: prefix + 32 lowercase hex digits from the system CSPRNG. */
export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString('hex');
}

export function isSid(value: unknown, prefix: SidPrefix): boolean {
  return (
    typeof value === 'string' &&
    value.length === 34 &&
    value.startsWith(prefix) &&
    SID_BODY.test(value.slice(2))
  );
}
