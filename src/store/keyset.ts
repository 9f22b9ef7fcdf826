// The one paging helper of every list. Keyset paging: a page is "the rows after the last row
// of the previous page" by the list's sort key, so a row inserted meanwhile never shifts a
// later page (as OFFSET would), and each page costs one index range scan. The sort key of a
// page's last row is what the next page's PageToken carries (src/core/rest.ts encodes it, and
// renders Twilio's paging fields around the items).
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { Errors, TwilioError } from '../core/errors.js';

export type KeyValue = string | number;

/** The page asked for: what the REST edge decoded from PageSize, Page and PageToken. */
export interface PageCursor {
  readonly pageSize: number;
  /** Page number; a list held in memory starts there when no PageToken is given. */
  readonly page?: number;
  /** The sort key of the previous page's last row (from PageToken). */
  readonly after: readonly KeyValue[] | undefined;
}

/** One column of a sort key, with the type its value has in a PageToken. */
export interface SortKey {
  /** Column reference (may be qualified, `t.date_created`; the row field is the last part). */
  readonly column: string;
  readonly type: 'number' | 'string';
}

export interface PageSort {
  readonly keys: readonly SortKey[];
  readonly order: 'asc' | 'desc';
}

export interface KeysetPage<O> {
  readonly items: O[];
  /** The sort key of the last item when another page follows (the next PageToken carries it). */
  readonly next: readonly KeyValue[] | undefined;
}

/** A sort order over the given columns, each `[column, type]`, most significant first. */
export function sortBy(
  order: 'asc' | 'desc',
  ...keys: readonly (readonly [string, SortKey['type']])[]
): PageSort {
  return { order, keys: keys.map(([column, type]) => ({ column, type })) };
}

/** Most lists: by creation time, the SID breaking ties. */
export const OLDEST_FIRST = sortBy('asc', ['date_created', 'number'], ['sid', 'string']);
/** Twilio's 2010 lists of calls, messages, recordings…: newest first. */
export const NEWEST_FIRST = sortBy('desc', ['date_created', 'number'], ['sid', 'string']);

/**
 * The PageToken's key checked against the sort: as many values as columns, each of its
 * column's type. A token forged or carried over from another list is refused as Twilio does.
 */
function checkedAfter(sort: PageSort, after: readonly KeyValue[] | undefined) {
  if (!after) return undefined;
  const fits =
    after.length === sort.keys.length &&
    sort.keys.every((k, i) =>
      k.type === 'number' ? typeof after[i] === 'number' : typeof after[i] === 'string',
    );
  if (!fits) throw new TwilioError(Errors.invalidPageToken);
  return after;
}

function keyOf(sort: PageSort, row: unknown): KeyValue[] {
  const fields = row as Record<string, unknown>;
  return sort.keys.map((k) => {
    const v = fields[k.column.slice(k.column.lastIndexOf('.') + 1)];
    // PostgreSQL may hand bigint columns back as strings: the token carries the declared type.
    return k.type === 'number' ? Number(v) : String(v);
  });
}

/**
 * One page of `query` in `sort` order, after the cursor's key. Fetches one row more than the
 * page size to know whether another page follows. The query must select the sort columns.
 */
export async function selectPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  cursor: PageCursor,
  sort: PageSort = OLDEST_FIRST,
): Promise<KeysetPage<O>> {
  const after = checkedAfter(sort, cursor.after);
  const cmp = sql.raw(sort.order === 'desc' ? '<' : '>');
  const refs = sort.keys.map((k) => sql.ref(k.column));
  let q = query;
  if (after) {
    // A row value: (a, b) > (x, y), which both SQLite and PostgreSQL run as an index range.
    const left = refs.length === 1 ? refs[0]! : sql`(${sql.join(refs)})`;
    const right = after.length === 1 ? sql`${after[0]}` : sql`(${sql.join([...after])})`;
    q = q.where(sql<SqlBool>`${left} ${cmp} ${right}`);
  }
  for (const ref of refs) q = q.orderBy(ref, sort.order);
  const rows = await q.limit(cursor.pageSize + 1).execute();
  if (rows.length <= cursor.pageSize) return { items: rows, next: undefined };
  const items = rows.slice(0, cursor.pageSize);
  return { items, next: keyOf(sort, items.at(-1)) };
}

/**
 * One page of a list computed in memory. With `key` (the list need not be sorted), the page
 * holds the items after the cursor's key in ascending key order, as `selectPage` would. Without
 * it (aggregates with no natural key), the list's order stands and the token carries the
 * position of the next page's first item.
 */
export function slicePage<T>(
  list: readonly T[],
  cursor: PageCursor,
  key?: { readonly sort: PageSort; readonly of: (item: T) => KeyValue[] },
): KeysetPage<T> {
  if (!key) {
    const position = checkedAfter(sortBy('asc', ['position', 'number']), cursor.after);
    const start = position ? Number(position[0]) : (cursor.page ?? 0) * cursor.pageSize;
    if (!Number.isInteger(start) || start < 0) throw new TwilioError(Errors.invalidPageToken);
    const end = start + cursor.pageSize;
    return { items: list.slice(start, end), next: end < list.length ? [end] : undefined };
  }
  const after = checkedAfter(key.sort, cursor.after);
  const sign = key.sort.order === 'desc' ? -1 : 1;
  const keyed = list.map((item) => ({ item, k: key.of(item) }));
  const sorted = keyed
    .filter((e) => !after || sign * compareKeys(e.k, after) > 0)
    .sort((a, b) => sign * compareKeys(a.k, b.k));
  const more = sorted.length > cursor.pageSize;
  const items = sorted.slice(0, cursor.pageSize);
  return { items: items.map((e) => e.item), next: more ? items.at(-1)!.k : undefined };
}

function compareKeys(a: readonly KeyValue[], b: readonly KeyValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * @deprecated Voice's lists, until the voice split moves them onto `selectPage`:
 * `keysetPage(q, order, size, after)` is `selectPage(q, {pageSize: size, after}, sort)`.
 */
export function keysetPage<
  DB,
  TB extends keyof DB,
  O extends { date_created: number; sid: string },
>(
  query: SelectQueryBuilder<DB, TB, O>,
  order: 'oldest-first' | 'newest-first',
  size: number,
  after: readonly [number, string] | undefined,
): Promise<{ items: O[]; next: readonly [number, string] | undefined }> {
  const sort = order === 'newest-first' ? NEWEST_FIRST : OLDEST_FIRST;
  return selectPage(query, { pageSize: size, after }, sort).then((p) => ({
    items: p.items,
    next: p.next as [number, string] | undefined,
  }));
}
