import type { Migration } from '../../store/index.js';
import {
  addSmsWebhookColumns,
  addVoiceWebhookColumns,
  type SmsWebhookFields,
  type VoiceWebhookFields,
} from '../shared/index.js';

/**
 * An IncomingPhoneNumber (PN…): an E.164 number, a SIP address (`sip:support@example.com`)
 * or a bare SIP user part (`support`), routed to a module (voice_application_sid) or a URL.
 * `address_key` is the normalised address, unique platform-wide (one owner per address).
 */
export interface NumberRow extends VoiceWebhookFields, SmsWebhookFields {
  sid: string;
  account_sid: string;
  phone_number: string;
  address_key: string;
  /** e164 | sip | user */
  address_type: string;
  friendly_name: string;
  api_version: string;
  voice_application_sid: string | null;
  sms_application_sid: string | null;
  date_created: number;
  date_updated: number;
}

export interface NumberTables {
  incoming_phone_numbers: NumberRow;
}

export const migrations: Record<string, Migration> = {
  voice_numbers_0001_incoming_phone_numbers: {
    async up(db) {
      const head = db.schema
        .createTable('incoming_phone_numbers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('phone_number', 'varchar(320)', (c) => c.notNull())
        .addColumn('address_key', 'varchar(330)', (c) => c.notNull().unique())
        .addColumn('address_type', 'varchar(8)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('api_version', 'varchar(16)', (c) => c.notNull())
        .addColumn('voice_application_sid', 'varchar(34)');
      const voice = addVoiceWebhookColumns(head).addColumn('sms_application_sid', 'varchar(34)');
      await addSmsWebhookColumns(voice)
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
