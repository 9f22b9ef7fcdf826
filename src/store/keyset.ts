// Keyset paging over (date_created, sid), the sort key of most of the API's lists: a page is
// "the rows after the last row of the previous page", so a row inserted meanwhile never
// shifts a later page (as OFFSET would), and each page costs one index range scan.
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';

/** A row listed by creation time, its SID breaking ties. */
export interface Keyed {
  readonly date_created: number;
  readonly sid: string;
}

export type KeysetOrder = 'oldest-first' | 'newest-first';

export interface KeysetPage<O> {
  readonly items: O[];
  /** The sort key of the last item when another page follows (the next PageToken carries it). */
  readonly next: readonly [number, string] | undefined;
}

/**
 * One page of `query` in `order`, after the sort key `after`. Fetches one row more than
 * `size` to know whether another page follows.
 */
export async function keysetPage<DB, TB extends keyof DB, O extends Keyed>(
  query: SelectQueryBuilder<DB, TB, O>,
  order: KeysetOrder,
  size: number,
  after: readonly [number, string] | undefined,
): Promise<KeysetPage<O>> {
  const direction = order === 'newest-first' ? 'desc' : 'asc';
  let q = query;
  if (after) {
    const cmp = order === 'newest-first' ? sql.raw('<') : sql.raw('>');
    q = q.where(sql<SqlBool>`(date_created, sid) ${cmp} (${after[0]}, ${after[1]})`);
  }
  const rows = await q
    .orderBy(sql.ref('date_created'), direction)
    .orderBy(sql.ref('sid'), direction)
    .limit(size + 1)
    .execute();
  if (rows.length <= size) return { items: rows, next: undefined };
  const items = rows.slice(0, size);
  const last = items[items.length - 1]!;
  return { items, next: [last.date_created, last.sid] };
}
