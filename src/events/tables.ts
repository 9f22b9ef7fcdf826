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
  /** The interaction the event belongs to: its root call (a child leg's parent), its message,
   * or the event itself (an API request tied to nothing). */
  interaction_sid: string | null;
}

/** The tag index: one row per (event, tag), so that a tag selects events by an index. */
export interface EventTagRow {
  event_sid: string;
  tag: string;
  account_sid: string | null;
  occurred_at: number;
}

/**
 * What an interaction is known by before its events arrive: its own tags (given when it was
 * created), the interaction it belongs to (a child call's parent, a message a call sent) and
 * the resource whose tags it also carries (the application handling a call). JSON arrays.
 */
export interface InteractionRow {
  sid: string;
  account_sid: string | null;
  parent_sid: string | null;
  via: string | null;
  tags: string | null;
  date_updated: number;
}

export type EventKind =
  'api-request' | 'call' | 'segment' | 'message' | 'webhook' | 'recording' | 'ledger';

export interface EventTables {
  events: EventRow;
  event_tags: EventTagRow;
  interactions: InteractionRow;
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
  events_0002_tag_index: {
    async up(db) {
      await db.schema.alterTable('events').addColumn('interaction_sid', 'varchar(34)').execute();
      await db.schema
        .createTable('event_tags')
        .addColumn('event_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('tag', 'varchar(64)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)')
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_tags_pk', ['event_sid', 'tag'])
        .execute();
      await db.schema
        .createIndex('event_tags_tag_time')
        .on('event_tags')
        .columns(['account_sid', 'tag', 'occurred_at', 'event_sid'])
        .execute();
      // Retention deletes by time.
      await db.schema
        .createIndex('event_tags_time')
        .on('event_tags')
        .column('occurred_at')
        .execute();
      await db.schema.createIndex('events_time').on('events').column('occurred_at').execute();
      await db.schema
        .createTable('interactions')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)')
        .addColumn('parent_sid', 'varchar(34)')
        .addColumn('via', 'text')
        .addColumn('tags', 'text')
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('interactions_time')
        .on('interactions')
        .column('date_updated')
        .execute();
    },
  },
};
