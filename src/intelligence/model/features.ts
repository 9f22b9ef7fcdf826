// Sentence features for the state classifier: word unigrams and bigrams and character
// n-grams (3 to 5, within words), weighted tf-idf and L2-normalised. Character n-grams carry
// what few examples cannot: inflections, misspellings and recognition errors ("transfered",
// "trans fer") still share most of their n-grams with the examples' words. Numbers become one
// token per shape, so an example's "$250" also teaches "$1,900".

/** A sparse vector: feature indices (ascending) and their weights. */
export interface SparseVector {
  readonly index: Int32Array;
  readonly value: Float32Array;
}

const TOKEN = /[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*|[$€£%]/g;

/** Lower-cased word tokens, numbers replaced by their shape. */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(TOKEN)) {
    const t = m[0];
    out.push(/^\d/.test(t) ? (t.includes('.') ? '<dec>' : '<num>') : t);
  }
  return out;
}

/** Every feature name of a sentence with its raw count. */
export function featureCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  const words = tokens(text);
  let previous = '<s>';
  for (const w of words) {
    add('w:' + w);
    add('b:' + previous + ' ' + w);
    previous = w;
    if (w.length > 1 && !w.startsWith('<')) {
      const padded = ` ${w} `;
      for (let n = 3; n <= 5; n++) {
        for (let i = 0; i + n <= padded.length; i++) add('c:' + padded.slice(i, i + n));
      }
    }
  }
  if (words.length > 0) add('b:' + previous + ' </s>');
  return counts;
}

/** The features seen in training, with their inverse document frequencies. */
export interface Vocabulary {
  readonly names: readonly string[];
  readonly idf: Float32Array;
}

export function buildVocabulary(docs: readonly Map<string, number>[], minCount = 1): Vocabulary {
  const df = new Map<string, number>();
  for (const d of docs) for (const f of d.keys()) df.set(f, (df.get(f) ?? 0) + 1);
  const names = [...df.entries()].filter(([, n]) => n >= minCount).map(([f]) => f);
  names.sort();
  const idf = new Float32Array(names.length);
  const total = docs.length;
  names.forEach((f, i) => {
    idf[i] = Math.log((1 + total) / (1 + (df.get(f) ?? 0))) + 1;
  });
  return { names, idf };
}

/** tf-idf (sublinear tf), L2-normalised; features outside the vocabulary are dropped. */
export function vectorize(
  counts: Map<string, number>,
  lookup: ReadonlyMap<string, number>,
  idf: Float32Array,
): SparseVector {
  const pairs: [number, number][] = [];
  for (const [f, n] of counts) {
    const j = lookup.get(f);
    if (j !== undefined) pairs.push([j, (1 + Math.log(n)) * idf[j]!]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  let norm = 0;
  for (const [, v] of pairs) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  const index = new Int32Array(pairs.length);
  const value = new Float32Array(pairs.length);
  pairs.forEach(([j, v], i) => {
    index[i] = j;
    value[i] = v / norm;
  });
  return { index, value };
}
