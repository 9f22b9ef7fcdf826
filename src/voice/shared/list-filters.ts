// Filters of the voice lists (Calls, Recordings, Notifications, Conferences) as Twilio spells
// them, and their echo in the paging URIs: a next_page_uri must carry every filter of the
// first request, or page two lists something else.
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Input, ParamSpec } from '../../core/rest.js';

const DAY = 86_400_000;

/** `Name`, `Name<` and `Name>`: Twilio's date filter and its range variants. */
export function dateParams(name: string): ParamSpec[] {
  return [
    { name, type: 'date' },
    { name: `${name}<`, type: 'date' },
    { name: `${name}>`, type: 'date' },
  ];
}

/**
 * Applies `Name` (that UTC day), `Name<` (on or before) and `Name>` (on or after) to `column`.
 * A value at midnight UTC stands for its whole day, as a date without a time does: the SDK
 * sends `StartTime<=2026-11-25` as `2026-11-25T00:00:00Z`.
 */
export function whereDates<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  column: string,
  input: Input,
  name: string,
): SelectQueryBuilder<DB, TB, O> {
  const col = sql.ref(column);
  const wholeDay = (ms: number) => ms % DAY === 0;
  let q = query;
  const on = input.date(name);
  if (on !== undefined) {
    const day = Math.floor(on / DAY) * DAY;
    q = q.where(sql<SqlBool>`${col} >= ${day} AND ${col} < ${day + DAY}`);
  }
  const before = input.date(`${name}<`);
  if (before !== undefined)
    q = wholeDay(before)
      ? q.where(sql<SqlBool>`${col} < ${before + DAY}`)
      : q.where(sql<SqlBool>`${col} <= ${before}`);
  const after = input.date(`${name}>`);
  if (after !== undefined) q = q.where(sql<SqlBool>`${col} >= ${after}`);
  return q;
}

/** The filters given, as strings for the paging URIs (dates in ISO 8601, as accepted). */
export function echoFilters(
  input: Input,
  specs: readonly ParamSpec[],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const spec of specs) {
    if (!input.has(spec.name) || /^Page(Size|Token)?$/.test(spec.name)) continue;
    const date = spec.type === 'date' ? input.date(spec.name) : undefined;
    out[spec.name] =
      date !== undefined ? new Date(date).toISOString() : input.list(spec.name)?.join(',');
  }
  return out;
}
