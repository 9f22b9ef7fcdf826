import type { Migration } from '../../store/index.js';

export type Visibility = 'private' | 'shared' | 'public';
export type HttpMethod = 'GET' | 'POST';

/**
 * An Application (AP…) is a module: Twilio's fields plus the extension fields ModuleCode,
 * Visibility (with the share list in module_shares) and a usage plan (money in micro-units).
 */
export interface ApplicationRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  api_version: string;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  voice_caller_id_lookup: number;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  sms_url: string | null;
  sms_method: HttpMethod;
  sms_fallback_url: string | null;
  sms_fallback_method: HttpMethod;
  sms_status_callback: string | null;
  message_status_callback: string | null;
  public_application_connect_enabled: number;
  /** Platform-wide unique identity code (e.g. `voicemail`, `acme.ivr`); null if none. */
  module_code: string | null;
  visibility: Visibility;
  per_minute_rate_micros: number;
  billing_increment: number;
  per_invocation_fee_micros: number;
  currency: string;
  date_created: number;
  date_updated: number;
}

export interface ModuleShareRow {
  module_sid: string;
  account_sid: string;
}

export interface ModuleTables {
  applications: ApplicationRow;
  module_shares: ModuleShareRow;
}

export const migrations: Record<string, Migration> = {
  voice_modules_0001_applications: {
    async up(db) {
      await db.schema
        .createTable('applications')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('api_version', 'varchar(16)', (c) => c.notNull())
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_caller_id_lookup', 'integer', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sms_url', 'text')
        .addColumn('sms_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sms_fallback_url', 'text')
        .addColumn('sms_fallback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sms_status_callback', 'text')
        .addColumn('message_status_callback', 'text')
        .addColumn('public_application_connect_enabled', 'integer', (c) => c.notNull())
        .addColumn('module_code', 'varchar(128)', (c) => c.unique())
        .addColumn('visibility', 'varchar(8)', (c) => c.notNull())
        .addColumn('per_minute_rate_micros', 'bigint', (c) => c.notNull())
        .addColumn('billing_increment', 'integer', (c) => c.notNull())
        .addColumn('per_invocation_fee_micros', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('applications_account_created')
        .on('applications')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('module_shares')
        .addColumn('module_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addPrimaryKeyConstraint('module_shares_pk', ['module_sid', 'account_sid'])
        .execute();
      await db.schema
        .createIndex('module_shares_account')
        .on('module_shares')
        .columns(['account_sid'])
        .execute();
    },
  },
};
