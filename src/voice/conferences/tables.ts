import type { Migration } from '../../store/index.js';
import type { CallRow } from '../calls/index.js';
import type { RecordingRow } from '../recordings/index.js';

export type ConferenceStatus = 'init' | 'in-progress' | 'completed';

export type ConferenceEndReason =
  | 'conference-ended-via-api'
  | 'participant-with-end-conference-on-exit-left'
  | 'participant-with-end-conference-on-exit-kicked'
  | 'last-participant-kicked'
  | 'last-participant-left';

export interface ConferenceRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  status: ConferenceStatus;
  reason_conference_ended: ConferenceEndReason | null;
  call_sid_ending_conference: string | null;
  /** The node whose mixer holds the room (a conference never spans nodes). */
  node_id: string;
  date_created: number;
  date_updated: number;
}

export type ParticipantStatus =
  'queued' | 'connecting' | 'ringing' | 'connected' | 'complete' | 'failed';

export interface ParticipantRow {
  conference_sid: string;
  call_sid: string;
  account_sid: string;
  label: string | null;
  status: ParticipantStatus;
  /** 0/1: SQLite has no boolean type. */
  muted: number;
  hold: number;
  start_conference_on_enter: number;
  end_conference_on_exit: number;
  date_created: number;
  date_updated: number;
}

/** A recording of a conference's mix: a Recording whose conference_sid is set. */
export type ConferenceRecordingRow = RecordingRow & { conference_sid: string | null };

export interface ConferenceTables {
  conferences: ConferenceRow;
  conference_participants: ParticipantRow;
  recordings: ConferenceRecordingRow;
  /** Read only: a dialled-in participant follows its call's progress. */
  calls: Pick<CallRow, 'sid' | 'status'>;
}

export const migrations: Record<string, Migration> = {
  voice_conferences_0001: {
    async up(db) {
      await db.schema
        .createTable('conferences')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('reason_conference_ended', 'varchar(64)')
        .addColumn('call_sid_ending_conference', 'varchar(34)')
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('conferences_account_created')
        .on('conferences')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createIndex('conferences_account_name')
        .on('conferences')
        .columns(['account_sid', 'friendly_name', 'status'])
        .execute();
      await db.schema
        .createTable('conference_participants')
        .addColumn('conference_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('call_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('muted', 'integer', (c) => c.notNull())
        .addColumn('hold', 'integer', (c) => c.notNull())
        .addColumn('start_conference_on_enter', 'integer', (c) => c.notNull())
        .addColumn('end_conference_on_exit', 'integer', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('conference_participants_pk', ['conference_sid', 'call_sid'])
        .execute();
      // Conference recordings are Recordings (same list, fetch and media routes) tied to the room.
      await db.schema.alterTable('recordings').addColumn('conference_sid', 'varchar(34)').execute();
    },
  },
};
