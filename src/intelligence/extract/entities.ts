// The second model of an utterance-state operator, and the prebuilt entity recognition:
// finds money, percentages, numbers, dates, times, phone numbers, e-mail addresses and
// identifiers in a sentence and normalises them. wink-nlp's English model finds the spans
// (MONEY, PERCENT, DATE, TIME, CARDINAL, EMAIL), compromise reads spoken numbers ("five
// thousand", "three point five"), chrono reads dates and times; phone numbers and identifiers
// are digit patterns no model here knows.
import * as chrono from 'chrono-node';
import nlp from 'compromise';
import { english } from '../english.js';
import type { EntityType } from './entity-types.js';

export type { EntityType } from './entity-types.js';

export interface Entity {
  readonly text: string;
  /** Character offsets in the sentence, end exclusive. */
  readonly start: number;
  readonly end: number;
  readonly type: EntityType;
  /** A number (money, percent, number), an ISO date or time, or a canonical string. */
  readonly normalized_value: number | string;
  /** USD, EUR, GBP for money; percent; null for the others. */
  readonly unit: string | null;
}

const CURRENCIES: readonly [RegExp, string][] = [
  [/£|\bpounds?\b|\bgbp\b|\bquid\b/i, 'GBP'],
  [/€|\beuros?\b|\beur\b/i, 'EUR'],
  [/\byen\b|¥|\bjpy\b/i, 'JPY'],
  [/\$|\bdollars?\b|\busd\b|\bbucks?\b|\bcents?\b/i, 'USD'],
];

function currencyOf(text: string): string {
  for (const [re, code] of CURRENCIES) if (re.test(text)) return code;
  return 'USD';
}

/** The number a phrase says ("$1,250.50", "five thousand", "three point five"), if any. */
export function numberOf(text: string): number | undefined {
  const direct = text.replace(/[$€£¥,%\s]/g, '').match(/^-?\d+(\.\d+)?/);
  if (direct && /^[$€£¥]?\s*-?[\d,]+(\.\d+)?\s*[%a-z]*$/i.test(text.trim()))
    return Number(direct[0]);
  const found = nlp(text).numbers().json() as { number?: { num?: number } }[];
  const n = found[0]?.number?.num;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  // "250 thousand" and "1.2 million" as compromise reads them; "k" as people write it.
  return /\b\d+(\.\d+)?k\b/i.test(text) && n < 1000 ? n * 1000 : n;
}

const pad = (n: number) => String(n).padStart(2, '0');

function isoDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Normalises one span of a given type; undefined when it does not read as that type. */
function normalise(
  type: EntityType,
  text: string,
  reference: Date,
): { value: number | string; unit: string | null } | undefined {
  switch (type) {
    case 'money': {
      const n = numberOf(text);
      if (n === undefined) return undefined;
      const cents = /\bcents?\b/i.test(text) && !/dollar|\$/i.test(text);
      return { value: cents ? Math.round(n) / 100 : n, unit: currencyOf(text) };
    }
    case 'percent': {
      const n = numberOf(text);
      return n === undefined ? undefined : { value: Math.round(n * 1e6) / 1e8, unit: 'percent' };
    }
    case 'number': {
      const n = numberOf(text);
      return n === undefined ? undefined : { value: n, unit: null };
    }
    case 'date': {
      const r = chrono.parse(text, reference)[0];
      return r ? { value: isoDate(r.start.date()), unit: null } : undefined;
    }
    case 'time': {
      const r = chrono.parse(text, reference)[0];
      if (!r || !r.start.isCertain('hour')) return undefined;
      const d = r.start.date();
      return { value: `${pad(d.getHours())}:${pad(d.getMinutes())}`, unit: null };
    }
    case 'email':
      return { value: text.toLowerCase(), unit: null };
    case 'phone': {
      const digits = text.replace(/\D/g, '');
      if (digits.length < 7 || digits.length > 15) return undefined;
      const e164 = text.trim().startsWith('+')
        ? `+${digits}`
        : digits.length === 10
          ? `+1${digits}`
          : digits.length === 11 && digits.startsWith('1')
            ? `+${digits}`
            : digits;
      return { value: e164, unit: null };
    }
    case 'identifier':
      return { value: text.replace(/[\s-]/g, '').toUpperCase(), unit: null };
  }
}

const WINK_TYPES: Readonly<Record<string, EntityType>> = {
  MONEY: 'money',
  PERCENT: 'percent',
  DATE: 'date',
  TIME: 'time',
  CARDINAL: 'number',
  EMAIL: 'email',
};

const PHONE = /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b/g;
/** Account, order or customer numbers: a run of 5+ digits, or letters and digits mixed. */
const IDENTIFIER = /\b(?:[A-Z]{1,4}-?\d{4,}[A-Z0-9-]*|\d{5,}(?:[\s-]\d{3,})*)\b/gi;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** Spoken amounts wink's model misses ("two hundred and fifty bucks"). */
const SPOKEN_MONEY =
  /\b(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|and|a|point|\d[\d,.]*)[\s-]+)+(?:dollars?|bucks|pounds?|euros?|cents?)\b/gi;
const SPOKEN_PERCENT =
  /\b(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|and|point|\d[\d,.]*)[\s-]+)+(?:percent|per cent)\b/gi;

/** Every entity in a sentence, spans not overlapping (the first found wins). */
export function extractEntities(sentence: string, reference = new Date()): Entity[] {
  const out: Entity[] = [];
  const taken: [number, number][] = [];
  const free = (s: number, e: number) => taken.every(([a, b]) => e <= a || s >= b);
  const add = (type: EntityType, start: number, end: number) => {
    if (start < 0 || end <= start || !free(start, end)) return;
    const text = sentence.slice(start, end);
    const n = normalise(type, text, reference);
    if (!n) return;
    taken.push([start, end]);
    out.push({ text, start, end, type, normalized_value: n.value, unit: n.unit });
  };
  const each = (re: RegExp, type: EntityType) => {
    for (const m of sentence.matchAll(re)) add(type, m.index, m.index + m[0].length);
  };
  each(EMAIL, 'email');
  each(PHONE, 'phone');
  each(SPOKEN_MONEY, 'money');
  each(SPOKEN_PERCENT, 'percent');
  const nlp = english();
  const doc = nlp.readDoc(sentence);
  const lower = sentence.toLowerCase();
  let cursor = 0;
  doc.entities().each((e: { out(f?: unknown): string }) => {
    const value = e.out();
    const type = WINK_TYPES[e.out(nlp.its.type)];
    const at = lower.indexOf(value.toLowerCase(), cursor);
    if (at < 0) return;
    cursor = at + value.length;
    if (type) add(type, at, at + value.length);
  });
  each(IDENTIFIER, 'identifier');
  return out.sort((a, b) => a.start - b.start);
}

/**
 * The value of a state's type in a sentence: an entity of that type, or a bare number read
 * as one ("transfer 250 to savings" in a state of amounts, "it is 12345678" in a state of
 * account numbers).
 */
export function extractFor(sentence: string, type: EntityType, reference = new Date()): Entity[] {
  const all = extractEntities(sentence, reference);
  const exact = all.filter((e) => e.type === type);
  if (exact.length > 0 || !['money', 'percent', 'identifier'].includes(type)) return exact;
  const out: Entity[] = [];
  for (const e of all) {
    if (e.type !== 'number') continue;
    const n = normalise(type, e.text, reference);
    if (n) out.push({ ...e, type, normalized_value: n.value, unit: n.unit });
  }
  return out;
}
