import type { Migration } from '../store/index.js';
import { outboxMigrations } from '../webhook/index.js';

/** A tracker: which events it follows (tags, match, kinds) and what it measures. JSON lists. */
export interface TrackerRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  tags: string;
  match: 'all' | 'any';
  /** null: every kind. */
  event_kinds: string | null;
  measures: string;
  bucket: 'minute' | 'hour' | 'day';
  date_created: number;
  date_updated: number;
}

/**
 * A tracker's figures for one minute, added to in the unit that writes the events they count
 * (so each event is counted once, whatever crashes). Per measure: n, sum, min, max.
 */
export interface BucketRow {
  tracker_sid: string;
  bucket_start: number;
  events: number;
  /** Events that are an interaction of their own (an API request tied to nothing). */
  singles: number;
  duration_n: number;
  duration_sum: number;
  duration_min: number | null;
  duration_max: number | null;
  price_n: number;
  price_sum: number;
  price_min: number | null;
  price_max: number | null;
  segments_n: number;
  segments_sum: number;
  segments_min: number | null;
  segments_max: number | null;
  message_segments_n: number;
  message_segments_sum: number;
  message_segments_min: number | null;
  message_segments_max: number | null;
}

/** A measure's values per minute in log-spaced bins, for its p95 over any range. */
export interface BinRow {
  tracker_sid: string;
  bucket_start: number;
  measure: string;
  bin: number;
  n: number;
}

/** The interactions (calls, messages) a tracker follows, each once, in the minute first seen. */
export interface FollowedRow {
  tracker_sid: string;
  interaction_sid: string;
  bucket_start: number;
}

/** A threshold on one of a tracker's figures over a period: crossing it calls back, once. */
export interface TrackerTriggerRow {
  sid: string;
  tracker_sid: string;
  account_sid: string;
  /** count, events, or a measure (its sum). */
  field: string;
  threshold: number;
  /** minute, hour, day (UTC) or alltime. */
  period: string;
  callback_url: string;
  callback_method: string;
  fired_period: string | null;
  date_fired: number | null;
  date_created: number;
}

export interface TrackingTables {
  trackers: TrackerRow;
  tracker_triggers: TrackerTriggerRow;
  tracker_buckets: BucketRow;
  tracker_bins: BinRow;
  tracker_interactions: FollowedRow;
}

const MEASURE_COLUMNS = ['duration', 'price', 'segments', 'message_segments'] as const;

export const migrations: Record<string, Migration> = {
  ...outboxMigrations,
  tracking_0002_tracker_triggers: {
    async up(db) {
      await db.schema
        .createTable('tracker_triggers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('tracker_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('field', 'varchar(32)', (c) => c.notNull())
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('period', 'varchar(8)', (c) => c.notNull())
        .addColumn('callback_url', 'text', (c) => c.notNull())
        .addColumn('callback_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('fired_period', 'varchar(24)')
        .addColumn('date_fired', 'bigint')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('tracker_triggers_tracker')
        .on('tracker_triggers')
        .columns(['tracker_sid', 'date_created', 'sid'])
        .execute();
    },
  },
  tracking_0001_trackers: {
    async up(db) {
      await db.schema
        .createTable('trackers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'varchar(64)', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('match', 'varchar(8)', (c) => c.notNull())
        .addColumn('event_kinds', 'text')
        .addColumn('measures', 'text', (c) => c.notNull())
        .addColumn('bucket', 'varchar(8)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('trackers_account')
        .on('trackers')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      let buckets = db.schema
        .createTable('tracker_buckets')
        .addColumn('tracker_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('bucket_start', 'bigint', (c) => c.notNull())
        .addColumn('events', 'bigint', (c) => c.notNull())
        .addColumn('singles', 'bigint', (c) => c.notNull());
      for (const m of MEASURE_COLUMNS) {
        buckets = buckets
          .addColumn(`${m}_n`, 'bigint', (c) => c.notNull())
          .addColumn(`${m}_sum`, 'double precision', (c) => c.notNull())
          .addColumn(`${m}_min`, 'double precision')
          .addColumn(`${m}_max`, 'double precision');
      }
      await buckets
        .addPrimaryKeyConstraint('tracker_buckets_pk', ['tracker_sid', 'bucket_start'])
        .execute();
      await db.schema
        .createTable('tracker_bins')
        .addColumn('tracker_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('bucket_start', 'bigint', (c) => c.notNull())
        .addColumn('measure', 'varchar(24)', (c) => c.notNull())
        .addColumn('bin', 'integer', (c) => c.notNull())
        .addColumn('n', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracker_bins_pk', [
          'tracker_sid',
          'bucket_start',
          'measure',
          'bin',
        ])
        .execute();
      await db.schema
        .createTable('tracker_interactions')
        .addColumn('tracker_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('interaction_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('bucket_start', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracker_interactions_pk', ['tracker_sid', 'interaction_sid'])
        .execute();
      await db.schema
        .createIndex('tracker_interactions_time')
        .on('tracker_interactions')
        .columns(['tracker_sid', 'bucket_start'])
        .execute();
    },
  },
};
