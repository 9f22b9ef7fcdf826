// The tables of Conversational Intelligence. Every row carries its account, and every query
// filters on it: one account never sees another's services, operators or transcripts.
import { sql, SqliteAdapter, type Kysely } from 'kysely';
import type { Migration } from '../store/index.js';

export interface ServiceRow {
  sid: string;
  account_sid: string;
  unique_name: string;
  friendly_name: string | null;
  language_code: string;
  auto_transcribe: number;
  data_logging: number;
  auto_redaction: number;
  media_redaction: number;
  webhook_url: string | null;
  webhook_http_method: string | null;
  version: number;
  date_created: number;
  date_updated: number;
}

/** A custom operator: its config (JSON) and, for trained types, its trained model (JSON). */
export interface OperatorRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  description: string | null;
  operator_type: string;
  config: string;
  version: number;
  /** The model trained from `config` at `model_version` (null until trained). */
  model: string | null;
  model_version: number | null;
  date_created: number;
  date_updated: number;
}

export interface AttachmentRow {
  service_sid: string;
  operator_sid: string;
  account_sid: string;
  date_created: number;
}

export type TranscriptStatus = 'queued' | 'in-progress' | 'completed' | 'failed';

export interface TranscriptRow {
  sid: string;
  account_sid: string;
  service_sid: string;
  status: TranscriptStatus;
  /** The Channel object as given (JSON). */
  channel: string;
  language_code: string;
  customer_key: string | null;
  media_start_time: number | null;
  /** Seconds of media (text transcripts: the last sentence's end). */
  duration: number | null;
  source_sid: string | null;
  media_url: string | null;
  /** Why it failed (status failed). */
  error: string | null;
  redaction: number;
  data_logging: number;
  /** All sentences' text, for full-text search. */
  text: string | null;
  date_created: number;
  date_updated: number;
}

export interface SentenceRow {
  sid: string;
  transcript_sid: string;
  account_sid: string;
  sentence_index: number;
  media_channel: number;
  start_ms: number;
  end_ms: number;
  confidence: number;
  text: string;
  /** The text with PII replaced by its type, when the service redacts. */
  redacted_text: string | null;
  /** JSON [{word, start_ms, end_ms, confidence}] from speech recognition, or null. */
  words: string | null;
}

export interface ResultRow {
  transcript_sid: string;
  operator_sid: string;
  account_sid: string;
  /** The OperatorResult body without transcript_sid and url (JSON). */
  result: string;
  date_created: number;
}

/** One labelled sentence of a custom operator's result, for search by state and value. */
export interface LabelRow {
  account_sid: string;
  transcript_sid: string;
  operator_sid: string;
  utterance_index: number;
  label: string;
  value: number | null;
  value_text: string | null;
}

export interface IntelligenceTables {
  intelligence_services: ServiceRow;
  intelligence_operators: OperatorRow;
  intelligence_attachments: AttachmentRow;
  intelligence_transcripts: TranscriptRow;
  intelligence_sentences: SentenceRow;
  intelligence_results: ResultRow;
  intelligence_labels: LabelRow;
}

const isSqlite = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof SqliteAdapter;

export const migrations: Record<string, Migration> = {
  intelligence_0001_tables: {
    async up(db) {
      await db.schema
        .createTable('intelligence_services')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('unique_name', 'text', (c) => c.notNull())
        .addColumn('friendly_name', 'text')
        .addColumn('language_code', 'varchar(16)', (c) => c.notNull())
        .addColumn('auto_transcribe', 'integer', (c) => c.notNull())
        .addColumn('data_logging', 'integer', (c) => c.notNull())
        .addColumn('auto_redaction', 'integer', (c) => c.notNull())
        .addColumn('media_redaction', 'integer', (c) => c.notNull())
        .addColumn('webhook_url', 'text')
        .addColumn('webhook_http_method', 'varchar(8)')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('intelligence_services_unique_name', ['account_sid', 'unique_name'])
        .execute();
      await db.schema
        .createTable('intelligence_operators')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('operator_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('model_version', 'integer')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('intelligence_operators_account')
        .on('intelligence_operators')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('intelligence_attachments')
        .addColumn('service_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('operator_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('intelligence_attachments_pk', ['service_sid', 'operator_sid'])
        .execute();
      await db.schema
        .createTable('intelligence_transcripts')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('service_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('language_code', 'varchar(16)', (c) => c.notNull())
        .addColumn('customer_key', 'text')
        .addColumn('media_start_time', 'bigint')
        .addColumn('duration', 'integer')
        .addColumn('source_sid', 'varchar(34)')
        .addColumn('media_url', 'text')
        .addColumn('error', 'text')
        .addColumn('redaction', 'integer', (c) => c.notNull())
        .addColumn('data_logging', 'integer', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('intelligence_transcripts_account')
        .on('intelligence_transcripts')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      // Transcripts left queued or in progress by a stopped process are taken up again.
      await db.schema
        .createIndex('intelligence_transcripts_status')
        .on('intelligence_transcripts')
        .columns(['status', 'date_updated'])
        .execute();
      await db.schema
        .createTable('intelligence_sentences')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('transcript_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('sentence_index', 'integer', (c) => c.notNull())
        .addColumn('media_channel', 'integer', (c) => c.notNull())
        .addColumn('start_ms', 'integer', (c) => c.notNull())
        .addColumn('end_ms', 'integer', (c) => c.notNull())
        .addColumn('confidence', 'double precision', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('redacted_text', 'text')
        .addColumn('words', 'text')
        .execute();
      await db.schema
        .createIndex('intelligence_sentences_transcript')
        .on('intelligence_sentences')
        .columns(['transcript_sid', 'sentence_index'])
        .unique()
        .execute();
      await db.schema
        .createTable('intelligence_results')
        .addColumn('transcript_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('operator_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('intelligence_results_pk', ['transcript_sid', 'operator_sid'])
        .execute();
      await db.schema
        .createTable('intelligence_labels')
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('transcript_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('operator_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('utterance_index', 'integer', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addColumn('value_text', 'text')
        .execute();
      await db.schema
        .createIndex('intelligence_labels_state')
        .on('intelligence_labels')
        .columns(['account_sid', 'operator_sid', 'label', 'transcript_sid'])
        .execute();
      await db.schema
        .createIndex('intelligence_labels_transcript')
        .on('intelligence_labels')
        .columns(['transcript_sid', 'utterance_index'])
        .execute();
      // Full-text search over the transcripts' text: FTS5 on SQLite (an external-content
      // table kept by the store), a GIN expression index on PostgreSQL.
      if (isSqlite(db)) {
        await sql`CREATE VIRTUAL TABLE intelligence_fts USING fts5(transcript_sid UNINDEXED, text, tokenize = 'porter unicode61')`.execute(
          db,
        );
      } else {
        await sql`CREATE INDEX intelligence_transcripts_fts ON intelligence_transcripts USING GIN (to_tsvector('english', coalesce(text, '')))`.execute(
          db,
        );
      }
    },
  },
};
