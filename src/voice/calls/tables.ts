import type { Migration } from '../../store/index.js';

export type CallStatus =
  'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

export type CallDirection = 'inbound' | 'outbound-api' | 'outbound-dial';

export const FINAL_STATUSES: ReadonlySet<CallStatus> = new Set([
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
]);

export interface CallRow {
  sid: string;
  account_sid: string;
  parent_call_sid: string | null;
  direction: CallDirection;
  from: string;
  to: string;
  caller_name: string | null;
  forwarded_from: string | null;
  status: CallStatus;
  start_time: number | null;
  end_time: number | null;
  answered_time: number | null;
  /** The voice URL (or module) that controls the call now. */
  url: string | null;
  method: string;
  fallback_url: string | null;
  status_callback: string | null;
  status_callback_method: string;
  /** JSON array of initiated|ringing|answered|completed. */
  status_callback_events: string;
  module_sid: string | null;
  sip_call_id: string | null;
  sip_response_code: number | null;
  /** JSON object of X- headers of the INVITE. */
  sip_headers: string;
  /**
   * The IncomingPhoneNumber (PN…) an inbound call came to, or the account's number an API
   * call was placed from (its From); null otherwise.
   */
  phone_number_sid: string | null;
  /** The node that runs the call (set by CallStore.insert), so that others see when it died. */
  node_id?: string | null;
  date_created: number;
  date_updated: number;
}

export interface NotificationRow {
  sid: string;
  account_sid: string;
  call_sid: string;
  error_code: number;
  /** 0 error, 1 warning (Twilio's `log`). */
  log: number;
  message_text: string;
  request_url: string | null;
  date_created: number;
}

export interface CallTables {
  calls: CallRow;
  call_notifications: NotificationRow;
}

// These migrations also create the `recordings` table and add its `track` column: applied
// history, kept as written; the rows and their queries belong to src/voice/recordings.
export const migrations: Record<string, Migration> = {
  voice_0004_call_node: {
    async up(db) {
      await db.schema.alterTable('calls').addColumn('node_id', 'varchar(64)').execute();
    },
  },
  voice_0003_recording_track: {
    async up(db) {
      await db.schema.alterTable('recordings').addColumn('track', 'varchar(16)').execute();
    },
  },
  voice_0002_call_phone_number: {
    async up(db) {
      await db.schema.alterTable('calls').addColumn('phone_number_sid', 'varchar(34)').execute();
    },
  },
  voice_0001_calls: {
    async up(db) {
      await db.schema
        .createTable('calls')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('parent_call_sid', 'varchar(34)')
        .addColumn('direction', 'varchar(16)', (c) => c.notNull())
        .addColumn('from', 'text', (c) => c.notNull())
        .addColumn('to', 'text', (c) => c.notNull())
        .addColumn('caller_name', 'text')
        .addColumn('forwarded_from', 'text')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('start_time', 'bigint')
        .addColumn('end_time', 'bigint')
        .addColumn('answered_time', 'bigint')
        .addColumn('url', 'text')
        .addColumn('method', 'varchar(8)', (c) => c.notNull())
        .addColumn('fallback_url', 'text')
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('status_callback_events', 'text', (c) => c.notNull())
        .addColumn('module_sid', 'varchar(34)')
        .addColumn('sip_call_id', 'text')
        .addColumn('sip_response_code', 'integer')
        .addColumn('sip_headers', 'text', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('calls_account_created')
        .on('calls')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('call_notifications')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('call_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('error_code', 'integer', (c) => c.notNull())
        .addColumn('log', 'integer', (c) => c.notNull())
        .addColumn('message_text', 'text', (c) => c.notNull())
        .addColumn('request_url', 'text')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('call_notifications_call')
        .on('call_notifications')
        .columns(['call_sid', 'date_created'])
        .execute();
      await db.schema
        .createTable('recordings')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('call_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint', (c) => c.notNull())
        .addColumn('channels', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('source', 'varchar(32)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('recordings_account_created')
        .on('recordings')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
    },
  },
};
