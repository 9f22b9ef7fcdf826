import type { CallRow } from '../calls/index.js';

/**
 * The status-callback parameters of a call at this moment (Twilio's set: CallSid,
 * AccountSid, From, To, Direction, ApiVersion, CallStatus, and ParentCallSid for a leg).
 */
export function callParams(row: CallRow): Record<string, string> {
  return {
    CallSid: row.sid,
    AccountSid: row.account_sid,
    From: row.from,
    To: row.to,
    Direction: row.direction,
    ApiVersion: '2010-04-01',
    CallStatus: row.status,
    ...(row.parent_call_sid ? { ParentCallSid: row.parent_call_sid } : {}),
  };
}
