// Phrase matching: does a sentence say one of the phrases? "fuzzy" allows for what speech
// recognition does to words: a phrase matches when most of its words appear in order within
// a short window, each word equal or one edit away.
import { tokens } from '../model/features.js';

export interface PhraseMatch {
  readonly phrase: string;
  /** Share of the phrase's words found (1 for an exact match). */
  readonly score: number;
}

function oneEditAway(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1 || Math.min(a.length, b.length) < 4) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

function matchAt(words: readonly string[], phrase: readonly string[], fuzzy: boolean): number {
  if (!fuzzy) {
    for (let s = 0; s + phrase.length <= words.length; s++) {
      if (phrase.every((p, k) => words[s + k] === p)) return 1;
    }
    return 0;
  }
  let best = 0;
  const window = phrase.length + 2;
  for (let s = 0; s < words.length; s++) {
    let k = 0;
    let found = 0;
    for (let w = s; w < Math.min(words.length, s + window) && k < phrase.length; w++) {
      if (oneEditAway(words[w]!, phrase[k]!)) {
        found++;
        k++;
      } else if (k + 1 < phrase.length && oneEditAway(words[w]!, phrase[k + 1]!)) {
        found++;
        k += 2;
      }
    }
    best = Math.max(best, found / phrase.length);
  }
  return best;
}

/** The best-matching phrase of a sentence, when one matches. */
export function matchPhrases(
  sentence: string,
  phrases: readonly string[],
  fuzzy: boolean,
): PhraseMatch | undefined {
  const words = tokens(sentence);
  let best: PhraseMatch | undefined;
  for (const phrase of phrases) {
    const p = tokens(phrase);
    if (p.length === 0) continue;
    const score = matchAt(words, p, fuzzy);
    // Fuzzy: every word of a short phrase, all but one of a longer one.
    const needed = fuzzy && p.length >= 4 ? (p.length - 1) / p.length : 1;
    if (score >= needed && (!best || score > best.score)) best = { phrase, score };
  }
  return best;
}
