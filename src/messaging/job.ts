// What a queued message carries, so that sending needs no database read. Its own module: the
// worker, the per-sender caps and the facade all speak of it, and none should own it.
import type { MessageRow } from './tables.js';

export interface SmsJob {
  readonly sid: string;
  readonly acct: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly seg: number;
  /** Validity deadline (ms). */
  readonly exp: number;
  readonly created: number;
  /** Providers this message was already moved away from. */
  readonly tried: readonly string[];
  /** MMS media URLs (routed only to providers that carry MMS). */
  readonly media?: readonly string[];
  /** Segments/s allowed to this sender by its messaging service (sender-cap.ts). */
  readonly cap?: number;
}

/** The job that sends a stored message (a scheduled one, when it is due). */
export function jobOf(row: MessageRow, expires: number): SmsJob {
  return {
    sid: row.sid,
    acct: row.account_sid,
    from: row.from_addr,
    to: row.to_addr,
    body: row.body,
    seg: row.num_segments,
    exp: expires,
    created: row.date_created,
    tried: [],
  };
}
