// Search (a Switchboard extension): an account's transcripts by their text and by what an
// operator found in them — states present or absent, a state's value equal, in a range, in or
// out of a set, and states in order ("rate quoted, then an objection"; "consent asked and
// never confirmed after").
import { sql, type Kysely } from 'kysely';
import { TwilioError, Errors } from '../core/index.js';
import type { IntelligenceTables, LabelRow } from './tables.js';

export interface ValueCondition {
  readonly state: string;
  readonly equals?: string | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly in?: readonly string[] | undefined;
  readonly notIn?: readonly string[] | undefined;
}

/** One step of a sequence: the state occurs (after the previous step), or never does. */
export interface SequenceStep {
  readonly state: string;
  readonly never: boolean;
}

export interface SearchQuery {
  readonly accountSid: string;
  readonly text?: string | undefined;
  readonly operatorSid?: string | undefined;
  readonly present: readonly string[];
  readonly absent: readonly string[];
  readonly value?: ValueCondition | undefined;
  readonly sequence: readonly SequenceStep[];
}

/** Most transcripts one search considers (the newest first). */
export const SEARCH_LIMIT = 10_000;

const bad = (why: string): never => {
  throw new TwilioError(Errors.invalidParameter, why);
};

/** "a>b>!c": a, then b, then never c. */
export function parseSequence(raw: string | undefined): SequenceStep[] {
  if (!raw) return [];
  const steps = raw.split('>').map((s) => s.trim());
  if (steps.some((s) => s === '' || s === '!')) bad('Sequence must be states separated by >');
  return steps.map((s) =>
    s.startsWith('!') ? { state: s.slice(1).trim(), never: true } : { state: s, never: false },
  );
}

export function parseStates(raw: string | undefined): string[] {
  return raw
    ? raw
        .split('|')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** Whether one transcript's labels (in sentence order) satisfy the sequence. */
export function followsSequence(
  labels: readonly LabelRow[],
  steps: readonly SequenceStep[],
): boolean {
  let at = -1;
  for (const step of steps) {
    const next = labels.find((l) => l.label === step.state && l.utterance_index > at);
    if (step.never) {
      if (next) return false;
      continue;
    }
    if (!next) return false;
    at = next.utterance_index;
  }
  return true;
}

function valueMatches(l: LabelRow, c: ValueCondition): boolean {
  if (l.label !== c.state) return false;
  const text = l.value_text;
  const n = l.value;
  if (c.equals !== undefined) {
    const wanted = Number(c.equals);
    if (!(n !== null && Number.isFinite(wanted) ? n === wanted : text === c.equals)) return false;
  }
  if (c.min !== undefined && (n === null || n < c.min)) return false;
  if (c.max !== undefined && (n === null || n > c.max)) return false;
  const member = (set: readonly string[]) =>
    set.some((v) => (n !== null && Number.isFinite(Number(v)) ? n === Number(v) : text === v));
  if (c.in && !member(c.in)) return false;
  if (c.notIn && member(c.notIn)) return false;
  return true;
}

/** The SIDs of the transcripts matching every condition (at most SEARCH_LIMIT considered). */
export async function searchTranscripts(
  db: Kysely<IntelligenceTables>,
  dialect: 'sqlite' | 'postgres',
  q: SearchQuery,
): Promise<string[]> {
  let candidates: Set<string> | undefined;
  if (q.text !== undefined) {
    const words = q.text.match(/[\p{L}\p{N}']+/gu) ?? [];
    if (words.length === 0) bad('Text must contain a word');
    if (dialect === 'sqlite') {
      // Each word quoted: a phrase of one token, so FTS5's query syntax never applies.
      const match = words.map((w) => `"${w.replace(/"/g, '')}"`).join(' ');
      const rows = await sql<{ transcript_sid: string }>`
        SELECT f.transcript_sid FROM intelligence_fts f
        JOIN intelligence_transcripts t ON t.sid = f.transcript_sid
        WHERE intelligence_fts MATCH ${match} AND t.account_sid = ${q.accountSid}
        LIMIT ${SEARCH_LIMIT}`.execute(db);
      candidates = new Set(rows.rows.map((r) => r.transcript_sid));
    } else {
      const rows = await sql<{ sid: string }>`
        SELECT sid FROM intelligence_transcripts
        WHERE account_sid = ${q.accountSid}
          AND to_tsvector('english', coalesce(text, '')) @@ plainto_tsquery('english', ${words.join(' ')})
        LIMIT ${SEARCH_LIMIT}`.execute(db);
      candidates = new Set(rows.rows.map((r) => r.sid));
    }
  }
  const byState = q.present.length + q.absent.length + q.sequence.length > 0 || q.value;
  if (byState) {
    if (!q.operatorSid) bad('OperatorSid is required to search by states or values');
    // The transcripts this operator analysed: "absent" is only meaningful among them.
    const analysed = await db
      .selectFrom('intelligence_results')
      .select('transcript_sid')
      .where('account_sid', '=', q.accountSid)
      .where('operator_sid', '=', q.operatorSid!)
      .orderBy('date_created', 'desc')
      .limit(SEARCH_LIMIT)
      .execute();
    const states = new Set([
      ...q.present,
      ...q.absent,
      ...q.sequence.map((s) => s.state),
      ...(q.value ? [q.value.state] : []),
    ]);
    const labels = await db
      .selectFrom('intelligence_labels')
      .selectAll()
      .where('account_sid', '=', q.accountSid)
      .where('operator_sid', '=', q.operatorSid!)
      .where('label', 'in', [...states])
      .orderBy('transcript_sid')
      .orderBy('utterance_index')
      .execute();
    const of = new Map<string, LabelRow[]>();
    for (const l of labels) {
      let list = of.get(l.transcript_sid);
      if (!list) of.set(l.transcript_sid, (list = []));
      list.push(l);
    }
    const matching = new Set<string>();
    for (const { transcript_sid: sid } of analysed) {
      if (candidates && !candidates.has(sid)) continue;
      const mine = of.get(sid) ?? [];
      const has = (s: string) => mine.some((l) => l.label === s);
      if (!q.present.every(has)) continue;
      if (q.absent.some(has)) continue;
      if (q.value && !mine.some((l) => valueMatches(l, q.value!))) continue;
      if (q.sequence.length > 0 && !followsSequence(mine, q.sequence)) continue;
      matching.add(sid);
    }
    candidates = matching;
  }
  if (!candidates)
    bad('Give Text, or OperatorSid with States, AbsentStates, Sequence or ValueState');
  return [...candidates!];
}
