import type { Kysely, Store } from '../../store/index.js';
import type {
  ConferenceRecordingRow,
  ConferenceRow,
  ConferenceTables,
  ParticipantRow,
} from './tables.js';

/** Durable records of conferences and their participants. */
export class ConferenceStore {
  readonly db: Kysely<ConferenceTables>;

  constructor(store: Store) {
    this.db = store.kysely<ConferenceTables>();
  }

  async insert(row: ConferenceRow): Promise<void> {
    await this.db.insertInto('conferences').values(row).execute();
  }

  async update(
    sid: string,
    changes: Partial<Omit<ConferenceRow, 'sid' | 'account_sid'>>,
  ): Promise<void> {
    await this.db
      .updateTable('conferences')
      .set({ ...changes, date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
  }

  async get(accountSid: string, sid: string): Promise<ConferenceRow | undefined> {
    return this.db
      .selectFrom('conferences')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  /** The account's room of that name that has not ended, if any. */
  async live(accountSid: string, friendlyName: string): Promise<ConferenceRow | undefined> {
    return this.db
      .selectFrom('conferences')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('friendly_name', '=', friendlyName)
      .where('status', '!=', 'completed')
      .executeTakeFirst();
  }

  async insertParticipant(row: ParticipantRow): Promise<void> {
    await this.db.insertInto('conference_participants').values(row).execute();
  }

  async updateParticipant(
    conferenceSid: string,
    callSid: string,
    changes: Partial<Pick<ParticipantRow, 'status' | 'muted' | 'hold' | 'end_conference_on_exit'>>,
  ): Promise<void> {
    await this.db
      .updateTable('conference_participants')
      .set({ ...changes, date_updated: Date.now() })
      .where('conference_sid', '=', conferenceSid)
      .where('call_sid', '=', callSid)
      .execute();
  }

  async participant(
    accountSid: string,
    conferenceSid: string,
    callSidOrLabel: string,
  ): Promise<ParticipantRow | undefined> {
    return this.db
      .selectFrom('conference_participants')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('conference_sid', '=', conferenceSid)
      .where((eb) => eb.or([eb('call_sid', '=', callSidOrLabel), eb('label', '=', callSidOrLabel)]))
      .executeTakeFirst();
  }

  async callStatus(callSid: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('calls')
      .select('status')
      .where('sid', '=', callSid)
      .executeTakeFirst();
    return row?.status;
  }

  async insertRecording(row: ConferenceRecordingRow): Promise<void> {
    await this.db.insertInto('recordings').values(row).execute();
  }

  /** Rooms not ended and created before `before` (candidates for the orphan sweep). */
  async openBefore(before: number): Promise<ConferenceRow[]> {
    return this.db
      .selectFrom('conferences')
      .selectAll()
      .where('status', '!=', 'completed')
      .where('date_created', '<', before)
      .limit(500)
      .execute();
  }

  /** A room whose node is gone: it ended, and so did its participants' time in it. */
  async endOrphan(sid: string, now: number): Promise<void> {
    await this.db
      .updateTable('conferences')
      .set({
        status: 'completed',
        reason_conference_ended: 'last-participant-left',
        date_updated: now,
      })
      .where('sid', '=', sid)
      .where('status', '!=', 'completed')
      .execute();
    await this.db
      .updateTable('conference_participants')
      .set({ status: 'complete', date_updated: now })
      .where('conference_sid', '=', sid)
      .where('status', 'in', ['queued', 'connecting', 'ringing', 'connected'])
      .execute();
  }

  /** Rooms this (single) node left open when it stopped: they ended then. */
  async closeOrphans(nodeId: string | undefined, now: number): Promise<number> {
    let q = this.db
      .updateTable('conferences')
      .set({
        status: 'completed',
        reason_conference_ended: 'last-participant-left',
        date_updated: now,
      })
      .where('status', '!=', 'completed');
    if (nodeId) q = q.where('node_id', '=', nodeId);
    const res = await q.executeTakeFirst();
    await this.db
      .updateTable('conference_participants')
      .set({ status: 'complete', date_updated: now })
      .where('status', 'in', ['queued', 'connecting', 'ringing', 'connected'])
      .where('conference_sid', 'in', (eb) =>
        eb.selectFrom('conferences').select('sid').where('status', '=', 'completed'),
      )
      .execute();
    return Number(res.numUpdatedRows);
  }
}
