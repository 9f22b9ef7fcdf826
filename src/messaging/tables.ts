import { sql } from 'kysely';
import type { Migration } from '../store/index.js';

export type MessageStatus =
  | 'accepted'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'receiving'
  | 'received'
  | 'scheduled'
  | 'canceled';

export type Direction = 'inbound' | 'outbound-api' | 'outbound-reply';

export interface MessageRow {
  sid: string;
  account_sid: string;
  messaging_service_sid: string | null;
  direction: Direction;
  from_addr: string;
  to_addr: string;
  body: string;
  status: MessageStatus;
  num_segments: number;
  encoding: string;
  price: number | null;
  price_unit: string;
  error_code: number | null;
  error_message: string | null;
  provider_sid: string | null;
  /** JSON: the routing decision and what happened to the message (RouteLog). */
  route: string;
  status_callback: string | null;
  validity_period: number | null;
  date_created: number;
  date_updated: number;
  date_sent: number | null;
  /** MMS: how many Media (ME…) the message has. */
  num_media: number;
}

/** A media file of an MMS (the Media subresource, ME…). */
export interface MediaRow {
  sid: string;
  account_sid: string;
  message_sid: string;
  /** Where the file is (outbound: the MediaUrl given; inbound: the carrier's URL). */
  url: string;
  content_type: string;
  date_created: number;
}

export interface PartRow {
  provider_sid: string;
  carrier_id: string;
  message_sid: string;
  status: string;
}

export interface ProviderRow {
  sid: string;
  name: string;
  kind: 'smpp' | 'http';
  /** JSON connection settings (SmppSettings for smpp). */
  settings: string;
  /** JSON {"<prefix>": price per segment}; "" matches every destination. */
  prices: string;
  price_unit: string;
  /** Segments per second. */
  throughput: number;
  priority: number;
  enabled: number;
  /** Longest a message may wait in this queue before it is moved elsewhere (ms). */
  max_wait_ms: number;
  /** Queue depth beyond which new messages are refused with 30001. */
  max_queue: number;
  /** Segments per second allowed to each sender number through this provider (0: no cap). */
  sender_throughput: number;
  date_created: number;
  date_updated: number;
}

export interface ServiceRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  inbound_request_url: string | null;
  inbound_method: string;
  /** Called when the inbound request URL fails (an error, a timeout, a 4xx/5xx). */
  fallback_url: string | null;
  fallback_method: string;
  /** 1: an inbound message to a sender that has an SmsUrl (its number's) goes there. */
  use_inbound_webhook_on_number: number;
  status_callback: string | null;
  sticky_sender: number;
  validity_period: number;
  /** JSON array of sender numbers / alphanumeric IDs. */
  senders: string;
  /** Segments per second allowed to each of the service's senders (0: no cap). */
  sender_throughput: number;
  date_created: number;
  date_updated: number;
}

export interface OptOutRow {
  account_sid: string;
  sender: string;
  recipient: string;
  date_created: number;
}

export interface SettingRow {
  name: string;
  /** JSON */
  value: string;
  date_updated: number;
}

export interface MessagingTables {
  /** send_at: when a scheduled message is due (ms), until it is handed to its queue. */
  /**
   * in_doubt_since: when the message was found `sending` with no answer from the carrier
   * recorded (a crash, a lost connection): it waits for a receipt, then is sent again or failed.
   */
  messaging_messages: MessageRow & {
    send_at?: number | null;
    in_doubt_since?: number | null;
    /** How many times it was sent again after being in doubt (at most once). */
    in_doubt_resends?: number | null;
  };
  messaging_parts: PartRow;
  messaging_providers: ProviderRow;
  messaging_services: ServiceRow;
  messaging_optouts: OptOutRow;
  messaging_settings: SettingRow;
  messaging_media: MediaRow;
}

export const migrations: Record<string, Migration> = {
  messaging_0001_messages: {
    async up(db) {
      await db.schema
        .createTable('messaging_messages')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('messaging_service_sid', 'varchar(34)')
        .addColumn('direction', 'varchar(16)', (c) => c.notNull())
        .addColumn('from_addr', 'varchar(64)', (c) => c.notNull())
        .addColumn('to_addr', 'varchar(64)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('num_segments', 'integer', (c) => c.notNull())
        .addColumn('encoding', 'varchar(8)', (c) => c.notNull())
        .addColumn('price', 'numeric')
        .addColumn('price_unit', 'varchar(3)', (c) => c.notNull())
        .addColumn('error_code', 'integer')
        .addColumn('error_message', 'text')
        .addColumn('provider_sid', 'varchar(34)')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('validity_period', 'integer')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addColumn('date_sent', 'bigint')
        .execute();
      await db.schema
        .createIndex('messaging_messages_account_created')
        .on('messaging_messages')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('messaging_parts')
        .addColumn('provider_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('carrier_id', 'varchar(72)', (c) => c.notNull())
        .addColumn('message_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addPrimaryKeyConstraint('messaging_parts_pk', ['provider_sid', 'carrier_id'])
        .execute();
      await db.schema
        .createIndex('messaging_parts_message')
        .on('messaging_parts')
        .column('message_sid')
        .execute();
      await db.schema
        .createTable('messaging_providers')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(8)', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('prices', 'text', (c) => c.notNull())
        .addColumn('price_unit', 'varchar(3)', (c) => c.notNull())
        .addColumn('throughput', 'integer', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('max_wait_ms', 'integer', (c) => c.notNull())
        .addColumn('max_queue', 'integer', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('messaging_services')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('inbound_request_url', 'text')
        .addColumn('inbound_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('sticky_sender', 'integer', (c) => c.notNull())
        .addColumn('validity_period', 'integer', (c) => c.notNull())
        .addColumn('senders', 'text', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('messaging_services_account_created')
        .on('messaging_services')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('messaging_optouts')
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('sender', 'varchar(64)', (c) => c.notNull())
        .addColumn('recipient', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('messaging_optouts_pk', ['account_sid', 'sender', 'recipient'])
        .execute();
    },
  },
  messaging_0002_settings: {
    async up(db) {
      await db.schema
        .createTable('messaging_settings')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  messaging_0003_media: {
    async up(db) {
      await db.schema
        .alterTable('messaging_messages')
        .addColumn('num_media', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('messaging_media')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('message_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('content_type', 'varchar(128)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('messaging_media_message')
        .on('messaging_media')
        .columns(['message_sid', 'date_created', 'sid'])
        .execute();
    },
  },
  messaging_0004_sender_caps: {
    async up(db) {
      for (const table of ['messaging_providers', 'messaging_services']) {
        await db.schema
          .alterTable(table)
          .addColumn('sender_throughput', 'double precision', (c) => c.notNull().defaultTo(0))
          .execute();
      }
    },
  },
  messaging_0005_service_webhooks: {
    async up(db) {
      await db.schema.alterTable('messaging_services').addColumn('fallback_url', 'text').execute();
      await db.schema
        .alterTable('messaging_services')
        .addColumn('fallback_method', 'varchar(8)', (c) => c.notNull().defaultTo('POST'))
        .execute();
      await db.schema
        .alterTable('messaging_services')
        .addColumn('use_inbound_webhook_on_number', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  messaging_0006_schedule: {
    async up(db) {
      await db.schema.alterTable('messaging_messages').addColumn('send_at', 'bigint').execute();
      // Partial: the messages sent at once (nearly all) never touch this index.
      await db.schema
        .createIndex('messaging_messages_send_at')
        .on('messaging_messages')
        .column('send_at')
        .where(sql.ref('send_at'), 'is not', null)
        .execute();
    },
  },
  messaging_0007_in_doubt: {
    async up(db) {
      await db.schema
        .alterTable('messaging_messages')
        .addColumn('in_doubt_since', 'bigint')
        .execute();
      await db.schema
        .alterTable('messaging_messages')
        .addColumn('in_doubt_resends', 'integer')
        .execute();
    },
  },
};
