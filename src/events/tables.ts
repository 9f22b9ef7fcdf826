import { sql } from 'kysely';
import type { Migration } from '../store/index.js';

/**
 * One row per platform interaction. `kind` says what it was; API requests fill method,
 * resource and status; calls, call segments and messages (later capabilities) fill
 * subject_sid and their own figures in `data` (JSON). `tags` is a JSON array of strings.
 */
export interface EventRow {
  sid: string;
  account_sid: string | null;
  kind: EventKind;
  actor_sid: string | null;
  method: string | null;
  resource: string | null;
  status: number | null;
  duration_ms: number | null;
  subject_sid: string | null;
  occurred_at: number;
  tags: string;
  data: string | null;
}

export type EventKind = 'api-request' | 'call' | 'segment' | 'message';

export interface EventTables {
  events: EventRow;
}

export const migrations: Record<string, Migration> = {
  events_0001_events: {
    async up(db) {
      await db.schema
        .createTable('events')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)')
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('actor_sid', 'varchar(34)')
        .addColumn('method', 'varchar(8)')
        .addColumn('resource', 'text')
        .addColumn('status', 'integer')
        .addColumn('duration_ms', 'double precision')
        .addColumn('subject_sid', 'varchar(34)')
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo(sql`'[]'`))
        .addColumn('data', 'text')
        .execute();
      await db.schema
        .createIndex('events_account_time')
        .on('events')
        .columns(['account_sid', 'occurred_at', 'sid'])
        .execute();
      // Partial: API requests (most events) carry no subject and cost this index nothing.
      await db.schema
        .createIndex('events_subject')
        .on('events')
        .column('subject_sid')
        .where(sql.ref('subject_sid'), 'is not', null)
        .execute();
    },
  },
};
