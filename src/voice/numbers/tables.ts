import type { Migration } from '../../store/index.js';
import type { HttpMethod } from '../modules/index.js';

/**
 * An IncomingPhoneNumber (PN…): an E.164 number, a SIP address (`sip:support@example.com`)
 * or a bare SIP user part (`support`), routed to a module (voice_application_sid) or a URL.
 * `address_key` is the normalised address, unique platform-wide (one owner per address).
 */
export interface NumberRow {
  sid: string;
  account_sid: string;
  phone_number: string;
  address_key: string;
  /** e164 | sip | user */
  address_type: string;
  friendly_name: string;
  api_version: string;
  voice_application_sid: string | null;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  voice_caller_id_lookup: number;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  sms_application_sid: string | null;
  sms_url: string | null;
  sms_method: HttpMethod;
  sms_fallback_url: string | null;
  sms_fallback_method: HttpMethod;
  date_created: number;
  date_updated: number;
}

export interface NumberTables {
  incoming_phone_numbers: NumberRow;
}

export const migrations: Record<string, Migration> = {
  voice_numbers_0001_incoming_phone_numbers: {
    async up(db) {
      await db.schema
        .createTable('incoming_phone_numbers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('phone_number', 'varchar(320)', (c) => c.notNull())
        .addColumn('address_key', 'varchar(330)', (c) => c.notNull().unique())
        .addColumn('address_type', 'varchar(8)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('api_version', 'varchar(16)', (c) => c.notNull())
        .addColumn('voice_application_sid', 'varchar(34)')
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_caller_id_lookup', 'integer', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sms_application_sid', 'varchar(34)')
        .addColumn('sms_url', 'text')
        .addColumn('sms_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sms_fallback_url', 'text')
        .addColumn('sms_fallback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('incoming_phone_numbers_account_created')
        .on('incoming_phone_numbers')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createIndex('incoming_phone_numbers_voice_app')
        .on('incoming_phone_numbers')
        .columns(['voice_application_sid'])
        .execute();
    },
  },
};
