// SMSC message ids as they come back in a delivery receipt. SMSCs differ: the id in
// submit_sm_resp may be hexadecimal and the receipt's decimal (or the reverse), padded with
// leading zeros, in another letter case, or given only in the receipted_message_id TLV. A
// provider may declare its SMSC's formats (as Kannel's msg-id-type); otherwise the common cases
// match by themselves: ids are compared without case and leading zeros, and a receipt's id is
// also tried as the other base.

/** How an SMSC writes its message ids in one place (submit_sm_resp or the receipt). */
export type IdBase = 'hex' | 'decimal';

export interface MessageIdFormat {
  /** The id in submit_sm_resp. */
  readonly submit: IdBase;
  /** The id in a delivery receipt (text or receipted_message_id TLV). */
  readonly receipt: IdBase;
}

const HEX = /^[0-9a-f]+$/i;
const DIGITS = /^[0-9]+$/;

/** Lower case without leading zeros (one zero stays). */
function normal(id: string): string {
  const s = id
    .trim()
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
  return s;
}

/** The number an id writes in `base`, as decimal digits (undefined: not such a number). */
function valueOf(id: string, base: IdBase): string | undefined {
  const s = id.trim();
  if (base === 'hex' ? !HEX.test(s) : !DIGITS.test(s)) return undefined;
  return BigInt(base === 'hex' ? `0x${s}` : s).toString(10);
}

/** The key a submitted part is tracked by (and stored as its carrier id). */
export function submittedKey(id: string, format: MessageIdFormat | undefined): string {
  return (format && valueOf(id, format.submit)) ?? normal(id);
}

/**
 * The keys a receipt's id may match, most likely first: with declared formats, its number;
 * otherwise the id itself (case and zeros aside), then read as hexadecimal (a decimal id in
 * submit_sm_resp, a hexadecimal one in the receipt), then as decimal written in hexadecimal
 * (the reverse).
 */
export function receiptKeys(id: string, format: MessageIdFormat | undefined): string[] {
  if (format) {
    const v = valueOf(id, format.receipt);
    if (v !== undefined) return [v];
  }
  const keys = [normal(id)];
  const s = id.trim();
  if (HEX.test(s)) keys.push(BigInt(`0x${s}`).toString(10));
  if (DIGITS.test(s)) keys.push(BigInt(s).toString(16));
  return [...new Set(keys)];
}

/** Why a MessageIds setting is not one, if it is not. */
export function checkIdFormat(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const f = v as Partial<Record<string, unknown>>;
  const ok = (b: unknown) => b === 'hex' || b === 'decimal';
  if (typeof v !== 'object' || v === null || !ok(f.submit) || !ok(f.receipt)) {
    return 'Settings.messageIds must be {"submit": "hex"|"decimal", "receipt": "hex"|"decimal"}';
  }
  return undefined;
}
