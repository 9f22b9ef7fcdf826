import type { InteractionEvent } from '../events/index.js';
import { formatMicros } from './money.js';
import type { LedgerEntryRow, SegmentRow } from './tables.js';

/**
 * A closed segment as an interaction event (kind `segment`) of the account that used the
 * module, tagged `module:<code>` so that tracking can select and measure it (count, duration,
 * cost).
 */
export function segmentEvent(s: SegmentRow): InteractionEvent {
  return {
    accountSid: s.user_account_sid,
    kind: 'segment',
    subjectSid: s.sid,
    // A segment is part of its call's interaction: it carries the call's tags.
    interactionSid: s.call_sid,
    durationMs: s.duration_ms,
    occurredAt: s.ended_ms ?? s.date_updated,
    tags: s.module_code ? [`module:${s.module_code}`] : [],
    data: {
      call_sid: s.call_sid,
      sequence: s.seq,
      module_sid: s.module_sid,
      module_code: s.module_code,
      publisher_account_sid: s.publisher_account_sid,
      direction: s.direction,
      transition_reason: s.transition_reason,
      billable_units: s.billable_units,
      price: formatMicros(s.price_micros),
      price_unit: s.currency,
    },
  };
}

/**
 * A posted ledger entry as an interaction event (kind `ledger`). The debit is the user's: it
 * is part of the call's interaction and carries the call's tags (and `module:<code>`). The
 * credit is the publisher's own event, outside the user's interaction, so that a publisher
 * never sees its users' tags.
 */
export function ledgerEvent(e: LedgerEntryRow): InteractionEvent {
  const debit = e.kind === 'debit';
  return {
    accountSid: e.account_sid,
    kind: 'ledger',
    subjectSid: e.sid,
    ...(debit ? { interactionSid: e.call_sid } : {}),
    occurredAt: e.date_created,
    tags: e.module_code ? [`module:${e.module_code}`] : [],
    data: {
      entry_kind: e.kind,
      // Not `price`: the segment event already carries it, and a tracker measuring price over
      // every kind would count the charge twice.
      amount: formatMicros(e.amount_micros),
      currency: e.currency,
      segment_sid: e.segment_sid,
      module_code: e.module_code,
      ...(debit ? { call_sid: e.call_sid } : {}),
    },
  };
}
