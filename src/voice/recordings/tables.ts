// A recording's row. The `recordings` table itself was created with the calls' tables
// (voice_0001_calls and voice_0003_recording_track in src/voice/calls/tables.ts, kept there
// as applied history); its rows and queries belong here.

export interface RecordingRow {
  sid: string;
  account_sid: string;
  call_sid: string;
  /** Twilio's: in-progress, paused (through the API), completed, or absent (no sound). */
  status: 'in-progress' | 'paused' | 'completed' | 'absent' | 'failed';
  duration_ms: number;
  channels: number;
  /** Which audio of its call it holds (inbound, outbound, both); null: not a call recording. */
  track?: string | null;
  path: string;
  source: string;
  /** Set on a conference's recording (the column comes with the conferences' tables). */
  conference_sid?: string | null;
  date_created: number;
  date_updated: number;
}

export interface RecordingTables {
  recordings: RecordingRow;
}
