import { sql } from 'kysely';
import type { Migration } from '../store/index.js';
import { outboxMigrations } from '../webhook/index.js';

export type SegmentStatus = 'open' | 'closed';

/**
 * One period during which one module controlled one call. The plan is copied in when the
 * segment opens, so a plan changed mid-call does not change the price of a live call.
 * Money columns are integer micro-units (see money.ts).
 */
export interface SegmentRow {
  sid: string;
  call_sid: string;
  /** 1, 2, 3… within the call. */
  seq: number;
  module_sid: string | null;
  module_code: string | null;
  publisher_account_sid: string;
  user_account_sid: string;
  /** Direction of the call: inbound, outbound-api, outbound-dial. */
  direction: string;
  status: SegmentStatus;
  started_ms: number;
  /** Last time the engine saw the segment alive (heartbeat); a crash closes it here. */
  last_seen_ms: number;
  ended_ms: number | null;
  duration_ms: number;
  /** Why control came to this module (start, redirect, dial…). */
  start_reason: string;
  /** Why control left it (redirect, hangup, spend-limit, recovered…); null while open. */
  transition_reason: string | null;
  billable_units: number;
  invocations: number;
  rate_micros: number;
  increment_s: number;
  fee_micros: number;
  currency: string;
  price_micros: number;
  /** Node that runs the call (restart recovery closes this node's open segments). */
  node_id: string | null;
  /** Set once the ledger entries are posted (exactly once). */
  accounted_ms: number | null;
  date_created: number;
  date_updated: number;
}

export type EntryKind = 'debit' | 'credit';

export interface LedgerEntryRow {
  sid: string;
  /** Unique: `<segment sid>:debit` / `<segment sid>:credit`; makes posting idempotent. */
  entry_key: string;
  account_sid: string;
  counterparty_account_sid: string;
  kind: EntryKind;
  /** Signed: debits negative, credits positive. */
  amount_micros: number;
  currency: string;
  segment_sid: string;
  call_sid: string;
  module_sid: string | null;
  module_code: string | null;
  description: string;
  date_created: number;
}

export interface BalanceRow {
  account_sid: string;
  currency: string;
  balance_micros: number;
  /** Sum of the debits, as a positive amount (what the account has spent). */
  spent_micros: number;
  date_updated: number;
}

export interface SpendLimitRow {
  account_sid: string;
  currency: string;
  limit_micros: number;
  /** Module code a call is handed to when it reaches this limit (null: the call ends). */
  handoff_module: string | null;
  date_updated: number;
}

/** A Usage Trigger (2010 API): a threshold on one usage category of an account. */
export interface UsageTriggerRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  usage_category: string;
  /** count, usage or price: the usage record field compared. */
  trigger_by: string;
  /** As given: an absolute value, or `+N` (N above the value when the trigger was made). */
  trigger_value: string;
  /** The absolute threshold the field is compared with. */
  threshold: number;
  /** daily, monthly, yearly, alltime, or '' (fires once). */
  recurring: string;
  callback_url: string;
  callback_method: string;
  /** The period it last fired in (e.g. 2026-12-07 for a daily trigger), null before. */
  fired_period: string | null;
  date_fired: number | null;
  date_created: number;
  date_updated: number;
}

export interface BillingTables {
  billing_segments: SegmentRow;
  ledger_entries: LedgerEntryRow;
  ledger_balances: BalanceRow;
  spend_limits: SpendLimitRow;
  usage_triggers: UsageTriggerRow;
}

export const migrations: Record<string, Migration> = {
  billing_0001_segments_ledger: {
    async up(db) {
      await db.schema
        .createTable('billing_segments')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('call_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('module_sid', 'varchar(34)')
        .addColumn('module_code', 'varchar(128)')
        .addColumn('publisher_account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('user_account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('direction', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(8)', (c) => c.notNull())
        .addColumn('started_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
        .addColumn('ended_ms', 'bigint')
        .addColumn('duration_ms', 'bigint', (c) => c.notNull())
        .addColumn('start_reason', 'varchar(160)', (c) => c.notNull())
        .addColumn('transition_reason', 'varchar(160)')
        .addColumn('billable_units', 'bigint', (c) => c.notNull())
        .addColumn('invocations', 'integer', (c) => c.notNull())
        .addColumn('rate_micros', 'bigint', (c) => c.notNull())
        .addColumn('increment_s', 'integer', (c) => c.notNull())
        .addColumn('fee_micros', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('price_micros', 'bigint', (c) => c.notNull())
        .addColumn('node_id', 'varchar(64)')
        .addColumn('accounted_ms', 'bigint')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('billing_segments_call_seq')
        .on('billing_segments')
        .columns(['call_sid', 'seq'])
        .unique()
        .execute();
      await db.schema
        .createIndex('billing_segments_user_started')
        .on('billing_segments')
        .columns(['user_account_sid', 'started_ms'])
        .execute();
      // Partial indexes: the open and the not-yet-accounted segments are few at any time.
      await db.schema
        .createIndex('billing_segments_open')
        .on('billing_segments')
        .columns(['last_seen_ms'])
        .where(sql.ref('status'), '=', 'open')
        .execute();
      await db.schema
        .createIndex('billing_segments_unaccounted')
        .on('billing_segments')
        .columns(['date_updated'])
        .where(sql<boolean>`status = 'closed' AND accounted_ms IS NULL`)
        .execute();

      await db.schema
        .createTable('ledger_entries')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('entry_key', 'varchar(48)', (c) => c.notNull().unique())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('counterparty_account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('kind', 'varchar(8)', (c) => c.notNull())
        .addColumn('amount_micros', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('segment_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('call_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('module_sid', 'varchar(34)')
        .addColumn('module_code', 'varchar(128)')
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('ledger_entries_account_created')
        .on('ledger_entries')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();

      await db.schema
        .createTable('ledger_balances')
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('balance_micros', 'bigint', (c) => c.notNull())
        .addColumn('spent_micros', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_balances_pk', ['account_sid', 'currency'])
        .execute();

      await db.schema
        .createTable('spend_limits')
        .addColumn('account_sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('limit_micros', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  billing_0002_pending_by_account: {
    async up(db) {
      // Spend checks read an account's segments not yet posted (live or just closed).
      await db.schema
        .createIndex('billing_segments_pending_user')
        .on('billing_segments')
        .columns(['user_account_sid'])
        .where(sql.ref('accounted_ms'), 'is', null)
        .execute();
    },
  },
  billing_0003_spend_limit_handoff: {
    async up(db) {
      await db.schema.alterTable('spend_limits').addColumn('handoff_module', 'text').execute();
    },
  },
  billing_0004_usage_triggers: {
    async up(db) {
      await db.schema
        .createTable('usage_triggers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('usage_category', 'text', (c) => c.notNull())
        .addColumn('trigger_by', 'varchar(8)', (c) => c.notNull())
        .addColumn('trigger_value', 'text', (c) => c.notNull())
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('recurring', 'varchar(8)', (c) => c.notNull())
        .addColumn('callback_url', 'text', (c) => c.notNull())
        .addColumn('callback_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('fired_period', 'varchar(16)')
        .addColumn('date_fired', 'bigint')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('usage_triggers_account')
        .on('usage_triggers')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('usage_trigger_firings')
        .addColumn('trigger_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('period', 'varchar(16)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('current_value', 'double precision', (c) => c.notNull())
        .addColumn('fired_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_trigger_firings_pk', ['trigger_sid', 'period'])
        .execute();
      await db.schema
        .createIndex('usage_trigger_firings_due')
        .on('usage_trigger_firings')
        .columns(['delivered_at', 'next_attempt_at'])
        .execute();
    },
  },
  // Firings moved to the webhook outbox (src/webhook/outbox.ts), shared with tracker triggers.
  billing_0005_usage_trigger_firings_to_outbox: {
    async up(db) {
      await db.schema.dropTable('usage_trigger_firings').ifExists().execute();
    },
  },
  ...outboxMigrations,
};
