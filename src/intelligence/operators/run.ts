// Runs one operator over a transcript's sentences and gives its OperatorResult (Twilio's
// fields) and, for search, the labelled sentences with their values.
import nlpCompromise from 'compromise';
import { english } from '../english.js';
import { extractEntities, extractFor, type Entity, type EntityType } from '../extract/entities.js';
import { NONE, type StateClassifier } from '../model/classifier.js';
import type { OperatorType, ResultType } from './catalogue.js';
import { matchPhrases } from './phrases.js';

export interface SentenceText {
  readonly index: number;
  readonly channel: number;
  readonly text: string;
}

export interface UtteranceStateConfig {
  readonly states: readonly { name: string; examples: string[]; extract?: EntityType }[];
  readonly none_examples?: readonly string[];
}

export interface PhraseConfig {
  readonly phrases: readonly string[];
  readonly match_type?: 'exact' | 'fuzzy';
}

export interface RunnableOperator {
  readonly sid: string;
  readonly name: string;
  readonly type: OperatorType;
  readonly config: unknown;
  /** The trained classifier, for utterance-state operators. */
  readonly classifier?: StateClassifier;
}

/** A labelled sentence (search reads these). */
export interface Label {
  readonly utteranceIndex: number;
  readonly label: string;
  readonly value: number | null;
  readonly valueText: string | null;
}

export interface OperatorOutcome {
  readonly result: Record<string, unknown>;
  readonly labels: readonly Label[];
  /** Redacted text by sentence index (pii-redaction). */
  readonly redacted?: ReadonlyMap<number, string>;
}

function base(op: RunnableOperator, type: ResultType): Record<string, unknown> {
  return {
    operator_type: type,
    name: op.name,
    operator_sid: op.sid,
    extract_match: null,
    match_probability: null,
    normalized_result: null,
    utterance_results: [],
    utterance_match: null,
    predicted_label: null,
    predicted_probability: null,
    label_probabilities: null,
    extract_results: null,
    text_generation_results: null,
    json_results: null,
  };
}

const round = (n: number) => Math.round(n * 10000) / 10000;

function utteranceState(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  const config = op.config as UtteranceStateConfig;
  const classifier = op.classifier;
  if (!classifier) throw new Error(`operator ${op.sid} has no trained model`);
  const extractOf = new Map(config.states.map((s) => [s.name, s.extract]));
  const results: Record<string, unknown>[] = [];
  const labels: Label[] = [];
  const byState: Record<string, unknown[]> = {};
  for (const s of sentences) {
    const p = classifier.predict(s.text);
    if (p.label === NONE) continue;
    const type = extractOf.get(p.label);
    const extracted: Entity[] = type ? extractFor(s.text, type) : [];
    results.push({
      utterance_index: s.index,
      label: p.label,
      probability: round(p.probability),
      ...(type ? { extract_results: extracted } : {}),
    });
    const first = extracted[0];
    labels.push({
      utteranceIndex: s.index,
      label: p.label,
      value: typeof first?.normalized_value === 'number' ? first.normalized_value : null,
      valueText: first ? String(first.normalized_value) : null,
    });
    if (first) (byState[p.label] ??= []).push(first.normalized_value);
  }
  return {
    result: {
      ...base(op, 'utterance-classify'),
      utterance_match: results.length > 0,
      utterance_results: results,
      extract_results: byState,
    },
    labels,
  };
}

function phraseMatching(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  const config = op.config as PhraseConfig;
  const fuzzy = config.match_type !== 'exact';
  const results: Record<string, unknown>[] = [];
  const labels: Label[] = [];
  for (const s of sentences) {
    const m = matchPhrases(s.text, config.phrases, fuzzy);
    if (!m) continue;
    results.push({
      utterance_index: s.index,
      label: 'match',
      probability: round(m.score),
      phrase: m.phrase,
    });
    labels.push({ utteranceIndex: s.index, label: 'match', value: null, valueText: m.phrase });
  }
  return {
    result: {
      ...base(op, 'extract'),
      extract_match: results.length > 0,
      match_probability: results.length > 0 ? 1 : 0,
      utterance_results: results,
      extract_results: { matches: results.map((r) => r.phrase) },
    },
    labels,
  };
}

type Sentiment = 'positive' | 'neutral' | 'negative';
const sentimentOf = (score: number): Sentiment =>
  score > 0.1 ? 'positive' : score < -0.1 ? 'negative' : 'neutral';

function sentiment(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  const results: Record<string, unknown>[] = [];
  const labels: Label[] = [];
  const counts: Record<Sentiment, number> = { positive: 0, neutral: 0, negative: 0 };
  let sum = 0;
  const nlp = english();
  for (const s of sentences) {
    // wink-nlp's lexicon score (-1 .. 1), negation and intensifiers included.
    const score = nlp.readDoc(s.text).out(nlp.its.sentiment) as unknown as number;
    const label = sentimentOf(score);
    counts[label]++;
    sum += score;
    results.push({
      utterance_index: s.index,
      label,
      probability: round(Math.min(1, 0.5 + Math.abs(score))),
    });
    labels.push({ utteranceIndex: s.index, label, value: round(score), valueText: null });
  }
  const n = Math.max(1, sentences.length);
  const overall = sentimentOf(sum / n);
  const probabilities = {
    positive: round(counts.positive / n),
    neutral: round(counts.neutral / n),
    negative: round(counts.negative / n),
  };
  labels.push({
    utteranceIndex: -1,
    label: overall,
    value: round(sum / n),
    valueText: 'conversation',
  });
  return {
    result: {
      ...base(op, 'conversation-classify'),
      predicted_label: overall,
      predicted_probability: probabilities[overall],
      label_probabilities: probabilities,
      utterance_results: results,
    },
    labels,
  };
}

function entities(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  const results: Record<string, unknown>[] = [];
  const labels: Label[] = [];
  for (const s of sentences) {
    const found = extractEntities(s.text);
    if (found.length === 0) continue;
    results.push({ utterance_index: s.index, extract_results: found });
    for (const e of found)
      labels.push({
        utteranceIndex: s.index,
        label: e.type,
        value: typeof e.normalized_value === 'number' ? e.normalized_value : null,
        valueText: String(e.normalized_value),
      });
  }
  return {
    result: {
      ...base(op, 'extract-normalize'),
      extract_match: results.length > 0,
      utterance_results: results,
      extract_results: {
        entities: results.flatMap((r) =>
          (r.extract_results as Entity[]).map((e) => ({
            utterance_index: r.utterance_index,
            ...e,
          })),
        ),
      },
    },
    labels,
  };
}

const PII_TYPES: ReadonlySet<string> = new Set(['phone', 'email', 'identifier']);

/** Personal data in a sentence: phone numbers, e-mail addresses, identifiers, people's names. */
export function piiSpans(
  text: string,
): { start: number; end: number; type: string; text: string }[] {
  const spans: { start: number; end: number; type: string; text: string }[] = extractEntities(text)
    .filter((e) => PII_TYPES.has(e.type))
    .map((e) => ({ start: e.start, end: e.end, type: e.type, text: e.text }));
  const people = nlpCompromise(text).people().json({ offset: true }) as {
    text: string;
    offset?: { start: number; length: number };
  }[];
  for (const p of people) {
    if (!p.offset) continue;
    const start = p.offset.start;
    const end = start + p.offset.length;
    if (spans.every((s) => end <= s.start || start >= s.end))
      spans.push({ start, end, type: 'person', text: text.slice(start, end) });
  }
  return spans.sort((a, b) => a.start - b.start);
}

export function redact(text: string): string {
  let out = '';
  let at = 0;
  for (const s of piiSpans(text)) {
    out += text.slice(at, s.start) + `[${s.type.toUpperCase()}]`;
    at = s.end;
  }
  return out + text.slice(at);
}

function pii(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  const results: Record<string, unknown>[] = [];
  const redacted = new Map<number, string>();
  const labels: Label[] = [];
  for (const s of sentences) {
    const spans = piiSpans(s.text);
    if (spans.length === 0) continue;
    results.push({ utterance_index: s.index, extract_results: spans });
    redacted.set(s.index, redact(s.text));
    for (const sp of spans)
      labels.push({ utteranceIndex: s.index, label: sp.type, value: null, valueText: null });
  }
  return {
    result: {
      ...base(op, 'pii-extract'),
      extract_match: results.length > 0,
      utterance_results: results,
      extract_results: { pii: results.flatMap((r) => r.extract_results as unknown[]) },
    },
    labels,
    redacted,
  };
}

const DISPOSITIONS: readonly [string, readonly string[]][] = [
  [
    'escalated',
    [
      'speak to a manager',
      'talk to a supervisor',
      'transfer you to',
      'escalate',
      'speak to someone else',
      'file a complaint',
    ],
  ],
  [
    'follow-up',
    [
      'call you back',
      'get back to you',
      'follow up',
      'send you an email',
      'within 24 hours',
      'next week',
    ],
  ],
  [
    'resolved',
    [
      "that's all",
      'that is all',
      'all set',
      'that solves',
      'that fixes',
      'problem solved',
      'it worked',
      'thanks for your help',
      'thank you for your help',
      'you have been very helpful',
    ],
  ],
];

function disposition(op: RunnableOperator, sentences: readonly SentenceText[]): OperatorOutcome {
  // The last mention wins: a call escalated then resolved ended resolved.
  let label = 'unresolved';
  let at = -1;
  const results: Record<string, unknown>[] = [];
  for (const s of sentences) {
    for (const [d, phrases] of DISPOSITIONS) {
      const m = matchPhrases(s.text, phrases, true);
      if (m) {
        results.push({
          utterance_index: s.index,
          label: d,
          probability: round(m.score),
          phrase: m.phrase,
        });
        if (s.index >= at) {
          label = d;
          at = s.index;
        }
      }
    }
  }
  return {
    result: {
      ...base(op, 'conversation-classify'),
      predicted_label: label,
      predicted_probability: at >= 0 ? 1 : 0.5,
      label_probabilities: { [label]: at >= 0 ? 1 : 0.5 },
      utterance_results: results,
    },
    labels: [{ utteranceIndex: -1, label, value: null, valueText: 'conversation' }],
  };
}

/** Runs an operator over the sentences (in order). */
export function runOperator(
  op: RunnableOperator,
  sentences: readonly SentenceText[],
): OperatorOutcome {
  switch (op.type.name) {
    case 'utterance-state':
      return utteranceState(op, sentences);
    case 'phrase-matching':
      return phraseMatching(op, sentences);
    case 'sentiment':
      return sentiment(op, sentences);
    case 'entity-recognition':
      return entities(op, sentences);
    case 'pii-redaction':
      return pii(op, sentences);
    case 'call-disposition':
      return disposition(op, sentences);
    default:
      throw new Error(`operator type ${op.type.name} cannot run here`);
  }
}
