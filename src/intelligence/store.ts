// Every query of Conversational Intelligence, on both dialects. Routes and the transcript
// processor ask this store; none of them writes SQL.
import { sql, type Kysely } from 'kysely';
import {
  NEWEST_FIRST,
  OLDEST_FIRST,
  selectPage,
  sortBy,
  type PageCursor,
  type KeysetPage,
  type Store,
} from '../store/index.js';
import type {
  AttachmentRow,
  IntelligenceTables,
  LabelRow,
  OperatorRow,
  ResultRow,
  SentenceRow,
  ServiceRow,
  TranscriptRow,
  TranscriptStatus,
} from './tables.js';

const SPEAKING_ORDER = sortBy('asc', ['sentence_index', 'number']);

export interface TranscriptFilters {
  readonly serviceSid?: string | undefined;
  readonly status?: string | undefined;
  readonly sourceSid?: string | undefined;
  readonly languageCode?: string | undefined;
  readonly createdBefore?: number | undefined;
  readonly createdAfter?: number | undefined;
  readonly startBefore?: number | undefined;
  readonly startAfter?: number | undefined;
  /** Only these transcripts (a search's matches). */
  readonly sids?: readonly string[] | undefined;
}

export class IntelligenceStore {
  readonly db: Kysely<IntelligenceTables>;

  constructor(readonly store: Store) {
    this.db = store.kysely<IntelligenceTables>();
  }

  // ---------------------------------------------------------------- services

  async insertService(row: ServiceRow): Promise<void> {
    await this.db.insertInto('intelligence_services').values(row).execute();
  }

  service(accountSid: string, sidOrName: string): Promise<ServiceRow | undefined> {
    return this.db
      .selectFrom('intelligence_services')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where((eb) => eb.or([eb('sid', '=', sidOrName), eb('unique_name', '=', sidOrName)]))
      .executeTakeFirst();
  }

  services(accountSid: string, cursor: PageCursor) {
    const q = this.db
      .selectFrom('intelligence_services')
      .selectAll()
      .where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async updateService(sid: string, changes: Partial<ServiceRow>): Promise<void> {
    await this.db
      .updateTable('intelligence_services')
      .set(changes)
      .where('sid', '=', sid)
      .execute();
  }

  async deleteService(sid: string): Promise<void> {
    await this.db.deleteFrom('intelligence_attachments').where('service_sid', '=', sid).execute();
    await this.db.deleteFrom('intelligence_services').where('sid', '=', sid).execute();
  }

  // ---------------------------------------------------------------- operators

  async insertOperator(row: OperatorRow): Promise<void> {
    await this.db.insertInto('intelligence_operators').values(row).execute();
  }

  operator(accountSid: string, sid: string): Promise<OperatorRow | undefined> {
    return this.db
      .selectFrom('intelligence_operators')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  operators(accountSid: string, cursor: PageCursor) {
    const q = this.db
      .selectFrom('intelligence_operators')
      .selectAll()
      .where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  /** Stores an update when the version is still `version`; false when another won. */
  async updateOperator(
    sid: string,
    version: number,
    changes: Partial<OperatorRow>,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('intelligence_operators')
      .set(changes)
      .where('sid', '=', sid)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteOperator(sid: string): Promise<void> {
    await this.db.deleteFrom('intelligence_operators').where('sid', '=', sid).execute();
  }

  // ---------------------------------------------------------------- attachments

  async attach(row: AttachmentRow): Promise<void> {
    await this.db
      .insertInto('intelligence_attachments')
      .values(row)
      .onConflict((oc) => oc.columns(['service_sid', 'operator_sid']).doNothing())
      .execute();
  }

  async detach(serviceSid: string, operatorSid: string): Promise<void> {
    await this.db
      .deleteFrom('intelligence_attachments')
      .where('service_sid', '=', serviceSid)
      .where('operator_sid', '=', operatorSid)
      .execute();
  }

  async attached(serviceSid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('intelligence_attachments')
      .select('operator_sid')
      .where('service_sid', '=', serviceSid)
      .orderBy('date_created')
      .orderBy('operator_sid')
      .execute();
    return rows.map((r) => r.operator_sid);
  }

  async attachedAnywhere(operatorSid: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('intelligence_attachments')
      .select('service_sid')
      .where('operator_sid', '=', operatorSid)
      .executeTakeFirst();
    return row !== undefined;
  }

  // ---------------------------------------------------------------- transcripts

  async insertTranscript(row: TranscriptRow): Promise<void> {
    await this.db.insertInto('intelligence_transcripts').values(row).execute();
  }

  transcript(accountSid: string, sid: string): Promise<TranscriptRow | undefined> {
    return this.db
      .selectFrom('intelligence_transcripts')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  /** The account's Services that transcribe every recording of its calls. */
  autoTranscribeServices(accountSid: string): Promise<ServiceRow[]> {
    return this.db
      .selectFrom('intelligence_services')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('auto_transcribe', '=', 1)
      .execute();
  }

  /** A transcript the Service already made from the recording, if any. */
  transcriptOfSource(serviceSid: string, sourceSid: string): Promise<{ sid: string } | undefined> {
    return this.db
      .selectFrom('intelligence_transcripts')
      .select('sid')
      .where('service_sid', '=', serviceSid)
      .where('source_sid', '=', sourceSid)
      .executeTakeFirst();
  }

  transcriptBySid(sid: string): Promise<TranscriptRow | undefined> {
    return this.db
      .selectFrom('intelligence_transcripts')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  transcripts(
    accountSid: string,
    f: TranscriptFilters,
    cursor: PageCursor,
  ): Promise<KeysetPage<TranscriptRow>> {
    let q = this.db
      .selectFrom('intelligence_transcripts')
      .selectAll()
      .where('account_sid', '=', accountSid);
    if (f.serviceSid) q = q.where('service_sid', '=', f.serviceSid);
    if (f.status) q = q.where('status', '=', f.status as TranscriptStatus);
    if (f.sourceSid) q = q.where('source_sid', '=', f.sourceSid);
    if (f.languageCode) q = q.where('language_code', '=', f.languageCode);
    if (f.createdBefore !== undefined) q = q.where('date_created', '<', f.createdBefore);
    if (f.createdAfter !== undefined) q = q.where('date_created', '>', f.createdAfter);
    if (f.startBefore !== undefined) q = q.where('media_start_time', '<', f.startBefore);
    if (f.startAfter !== undefined) q = q.where('media_start_time', '>', f.startAfter);
    if (f.sids) {
      if (f.sids.length === 0) return Promise.resolve({ items: [], next: undefined });
      q = q.where('sid', 'in', f.sids);
    }
    return selectPage(q, cursor, NEWEST_FIRST);
  }

  /** Moves a transcript from one status to another; false when it was not in `from`. */
  async moveStatus(
    sid: string,
    from: readonly TranscriptStatus[],
    to: TranscriptStatus,
    changes: Partial<TranscriptRow> = {},
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('intelligence_transcripts')
      .set({ ...changes, status: to, date_updated: Date.now() })
      .where('sid', '=', sid)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Transcripts waiting (queued) or left in progress since before `before`. */
  async unfinished(before: number, limit: number): Promise<TranscriptRow[]> {
    return this.db
      .selectFrom('intelligence_transcripts')
      .selectAll()
      .where('status', 'in', ['queued', 'in-progress'])
      .where('date_updated', '<', before)
      .orderBy('date_updated')
      .limit(limit)
      .execute();
  }

  async deleteTranscript(sid: string): Promise<void> {
    await this.clearAnalysis(sid);
    await this.db.deleteFrom('intelligence_sentences').where('transcript_sid', '=', sid).execute();
    if (this.store.dialect === 'sqlite')
      await sql`DELETE FROM intelligence_fts WHERE transcript_sid = ${sid}`.execute(this.db);
    await this.db.deleteFrom('intelligence_transcripts').where('sid', '=', sid).execute();
  }

  // ---------------------------------------------------------------- sentences and results

  /** Replaces a transcript's sentences and its searchable text. */
  async storeSentences(
    t: TranscriptRow,
    rows: readonly SentenceRow[],
    duration: number,
  ): Promise<void> {
    const text = rows.map((r) => r.text).join('\n');
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('intelligence_sentences').where('transcript_sid', '=', t.sid).execute();
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('intelligence_sentences')
          .values(rows.slice(i, i + 200))
          .execute();
      await tx
        .updateTable('intelligence_transcripts')
        .set({ text, duration, date_updated: Date.now() })
        .where('sid', '=', t.sid)
        .execute();
      if (this.store.dialect === 'sqlite') {
        await sql`DELETE FROM intelligence_fts WHERE transcript_sid = ${t.sid}`.execute(tx);
        await sql`INSERT INTO intelligence_fts (transcript_sid, text) VALUES (${t.sid}, ${text})`.execute(
          tx,
        );
      }
    });
  }

  async redactSentences(
    transcriptSid: string,
    redacted: ReadonlyMap<number, string>,
  ): Promise<void> {
    for (const [index, text] of redacted) {
      await this.db
        .updateTable('intelligence_sentences')
        .set({ redacted_text: text })
        .where('transcript_sid', '=', transcriptSid)
        .where('sentence_index', '=', index)
        .execute();
    }
  }

  /** A transcript's sentences in speaking order. */
  /** Every sentence of a transcript, in speaking order (audio redaction reads them all). */
  allSentences(transcriptSid: string): Promise<SentenceRow[]> {
    return this.db
      .selectFrom('intelligence_sentences')
      .selectAll()
      .where('transcript_sid', '=', transcriptSid)
      .orderBy('sentence_index')
      .execute();
  }

  sentences(transcriptSid: string, cursor: PageCursor): Promise<KeysetPage<SentenceRow>> {
    const q = this.db
      .selectFrom('intelligence_sentences')
      .selectAll()
      .where('transcript_sid', '=', transcriptSid);
    return selectPage(q, cursor, SPEAKING_ORDER);
  }

  async clearAnalysis(transcriptSid: string): Promise<void> {
    await this.db
      .deleteFrom('intelligence_results')
      .where('transcript_sid', '=', transcriptSid)
      .execute();
    await this.db
      .deleteFrom('intelligence_labels')
      .where('transcript_sid', '=', transcriptSid)
      .execute();
  }

  async storeResult(row: ResultRow, labels: readonly LabelRow[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('intelligence_results')
        .where('transcript_sid', '=', row.transcript_sid)
        .where('operator_sid', '=', row.operator_sid)
        .execute();
      await tx
        .deleteFrom('intelligence_labels')
        .where('transcript_sid', '=', row.transcript_sid)
        .where('operator_sid', '=', row.operator_sid)
        .execute();
      await tx.insertInto('intelligence_results').values(row).execute();
      for (let i = 0; i < labels.length; i += 200)
        await tx
          .insertInto('intelligence_labels')
          .values(labels.slice(i, i + 200))
          .execute();
    });
  }

  results(transcriptSid: string): Promise<ResultRow[]> {
    return this.db
      .selectFrom('intelligence_results')
      .selectAll()
      .where('transcript_sid', '=', transcriptSid)
      .orderBy('operator_sid')
      .execute();
  }

  result(transcriptSid: string, operatorSid: string): Promise<ResultRow | undefined> {
    return this.db
      .selectFrom('intelligence_results')
      .selectAll()
      .where('transcript_sid', '=', transcriptSid)
      .where('operator_sid', '=', operatorSid)
      .executeTakeFirst();
  }
}
