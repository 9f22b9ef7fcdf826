// What the account-owned resources of the voice capability (Applications, IncomingPhoneNumbers)
// share: a table keyed by SID with the owning account beside it, read one row at a time for
// its owner only, and listed oldest first (Twilio's order for these two lists).
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { fail, isSid, type SidPrefix } from '../../core/index.js';
import { selectPage, type Kysely, type KeysetPage } from '../../store/index.js';

export interface OwnedRow {
  readonly sid: string;
  readonly account_sid: string;
  readonly date_created: number;
}

type Query<T extends string, Row> = SelectQueryBuilder<Record<T, Row>, T, Row>;
/** A page request: its size, and the sort key of the last row of the previous page. */
export type Page = { size: number; after?: readonly (string | number)[] | undefined };

export class AccountTable<T extends string, Row extends OwnedRow> {
  constructor(
    private readonly db: Kysely<Record<T, Row>>,
    private readonly table: T,
    private readonly prefix: SidPrefix,
    /** The resource's name in a 404 (`Application`, `IncomingPhoneNumber`). */
    private readonly noun: string,
  ) {}

  private owned(accountSid: string): Query<T, Row> {
    // Kysely cannot follow a table name that is a type parameter; the rows are `Row`.
    const all = this.db.selectFrom(this.table).selectAll() as unknown as Query<T, Row>;
    return all.where(sql<SqlBool>`account_sid = ${accountSid}`);
  }

  /** A row of this account (404 otherwise, as for any other account's resource). */
  async get(accountSid: string, sid: string): Promise<Row> {
    const row = isSid(sid, this.prefix)
      ? ((await this.owned(accountSid)
          .where(sql<SqlBool>`sid = ${sid}`)
          .executeTakeFirst()) as Row | undefined)
      : undefined;
    if (!row) fail('notFound', `${this.noun} ${sid.slice(0, 40)}`);
    return row;
  }

  /** A page of the account's rows, oldest first, narrowed by `filter`. */
  async list(
    accountSid: string,
    page: Page,
    filter: (q: Query<T, Row>) => Query<T, Row> = (q) => q,
  ): Promise<KeysetPage<Row>> {
    return selectPage(filter(this.owned(accountSid)), { pageSize: page.size, after: page.after });
  }
}
