// The Events resource's reads: an account's events, newest first, filtered by kind, subject,
// tag (through the event_tags index) or interaction.
import {
  selectPage,
  sortBy,
  type KeysetPage,
  type Kysely,
  type PageCursor,
} from '../store/index.js';
import type { EventKind, EventRow, EventTables } from './tables.js';

export interface EventFilter {
  readonly kind?: EventKind | undefined;
  readonly subjectSid?: string | undefined;
  readonly tag?: string | undefined;
  readonly interactionSid?: string | undefined;
}

const NEWEST_FIRST = sortBy('desc', ['occurred_at', 'number'], ['sid', 'string']);

export function listEvents(
  db: Kysely<EventTables>,
  accountSid: string,
  filter: EventFilter,
  cursor: PageCursor,
): Promise<KeysetPage<EventRow>> {
  let q = db.selectFrom('events').selectAll().where('account_sid', '=', accountSid);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.subjectSid) q = q.where('subject_sid', '=', filter.subjectSid);
  const tag = filter.tag;
  if (tag)
    q = q.where('sid', 'in', (eb) =>
      eb
        .selectFrom('event_tags')
        .select('event_sid')
        .where('account_sid', '=', accountSid)
        .where('tag', '=', tag),
    );
  if (filter.interactionSid) q = q.where('interaction_sid', '=', filter.interactionSid);
  return selectPage(q, cursor, NEWEST_FIRST);
}
