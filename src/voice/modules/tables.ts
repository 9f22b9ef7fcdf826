import type { Migration } from '../../store/index.js';
import {
  addSmsWebhookColumns,
  addVoiceWebhookColumns,
  type SmsWebhookFields,
  type VoiceWebhookFields,
} from '../shared/index.js';

export type Visibility = 'private' | 'shared' | 'public';
export type { HttpMethod } from '../shared/index.js';

/**
 * An Application (AP…) is a module: Twilio's fields plus the extension fields ModuleCode,
 * Visibility (with the share list in module_shares) and a usage plan (money in micro-units).
 */
export interface ApplicationRow extends VoiceWebhookFields, SmsWebhookFields {
  sid: string;
  account_sid: string;
  friendly_name: string;
  api_version: string;
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
      const head = db.schema
        .createTable('applications')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('api_version', 'varchar(16)', (c) => c.notNull());
      await addSmsWebhookColumns(addVoiceWebhookColumns(head))
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
