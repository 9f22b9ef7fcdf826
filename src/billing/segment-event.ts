import type { InteractionEvent } from '../events/index.js';
import { formatMicros } from './money.js';
import type { SegmentRow } from './tables.js';

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
