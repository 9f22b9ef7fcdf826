// A domain language model for the recogniser, built from text the account already gave the
// platform (its operators' examples and phrases): a trigram model with interpolated absolute
// discounting, written as ARPA text. pocketsphinx interpolates it with its general English
// model (an -lmctl set without -lmname), so words the domain text never saw stay possible,
// while the account's own phrasing ("transfer to my savings account") becomes likely.

const ORDER = 3;
/** Absolute discount: the usual value for small counts (Ney, Essen, Kneser 1994). */
const D = 0.7;
/** Share of the unigram mass kept by the domain text when general words are mixed in. */
const DOMAIN_WEIGHT = 0.5;

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen',
  'nineteen',
]; // prettier-ignore
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** A whole number as it is spoken ("1500" → "one thousand five hundred"). */
export function spokenNumber(n: number): string {
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? ` ${ONES[n % 10]!}` : '');
  if (n < 1000)
    return `${ONES[Math.floor(n / 100)]!} hundred${n % 100 ? ` ${spokenNumber(n % 100)}` : ''}`;
  for (const [size, name] of [
    [1e9, 'billion'],
    [1e6, 'million'],
    [1e3, 'thousand'],
  ] as const) {
    if (n >= size)
      return `${spokenNumber(Math.floor(n / size))} ${name}${n % size ? ` ${spokenNumber(n % size)}` : ''}`;
  }
  return String(n);
}

/** Written text as words a speaker says: numbers, money and percentages spelled out. */
export function spokenWords(text: string): string[] {
  const s = text
    .toLowerCase()
    .replace(/\$\s?([\d,]+)(?:\.(\d\d))?/g, (_, d: string, c?: string) => {
      const whole = spoken(d);
      return c && c !== '00' ? `${whole} dollars and ${spoken(c)} cents` : `${whole} dollars`;
    })
    .replace(/([\d,]+)(?:\.(\d+))?\s?%/g, (_, d: string, f?: string) =>
      f
        ? `${spoken(d)} point ${[...f].map((x) => ONES[Number(x)]).join(' ')} percent`
        : `${spoken(d)} percent`,
    )
    .replace(/\d[\d,]*/g, (d) => spoken(d))
    .replace(/&/g, ' and ');
  return s.match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

function spoken(digits: string): string {
  const n = Number(digits.replace(/,/g, ''));
  return Number.isSafeInteger(n) && n < 1e12 ? spokenNumber(n) : digits.split('').join(' ');
}

/**
 * ARPA text of a trigram model over `sentences`, keeping only words `known` says the
 * pronouncing dictionary has (an unknown word breaks the n-gram chain instead).
 */
export function arpaModel(
  sentences: readonly string[],
  known: (w: string) => boolean,
  background?: ReadonlyMap<string, number>,
): string {
  // counts[k] maps a k+1-gram (words joined by spaces) to its count
  const counts: Map<string, number>[] = Array.from({ length: ORDER }, () => new Map());
  for (const sentence of sentences) {
    const words = spokenWords(sentence);
    // Split at unknown words so no n-gram spans one.
    const runs: string[][] = [[]];
    for (const w of words) {
      if (known(w)) runs[runs.length - 1]!.push(w);
      else runs.push([]);
    }
    runs.forEach((run, i) => {
      if (run.length === 0) return;
      const seq = [...(i === 0 ? ['<s>'] : []), ...run, ...(i === runs.length - 1 ? ['</s>'] : [])];
      for (let k = 0; k < ORDER; k++)
        for (let j = 0; j + k < seq.length; j++) {
          const g = seq.slice(j, j + k + 1).join(' ');
          counts[k]!.set(g, (counts[k]!.get(g) ?? 0) + 1);
        }
    });
  }
  const unigrams = counts[0]!;
  unigrams.delete('<s>');
  if (unigrams.size === 0) return '';
  // Interpolated absolute discounting, p(w|h) = max(c-D,0)/c(h) + D·N1+(h·)/c(h) · p(w|h').
  const prob: Map<string, number>[] = Array.from({ length: ORDER }, () => new Map());
  const total = [...unigrams.values()].reduce((a, b) => a + b, 0);
  const vocab = unigrams.size + 1; // with <unk>
  const uniMass = (D * unigrams.size) / total;
  for (const [w, c] of unigrams) prob[0]!.set(w, Math.max(c - D, 0) / total + uniMass / vocab);
  let unk = uniMass / vocab;
  if (background && background.size > 0) {
    // Unigrams mixed with general English word frequencies: any common word stays
    // reachable after a back-off, however narrow the domain text.
    let bgTotal = 0;
    for (const [w, p] of background) if (known(w) || w === '</s>') bgTotal += p;
    const mixed = new Map<string, number>();
    for (const [w, p] of prob[0]!) mixed.set(w, DOMAIN_WEIGHT * p);
    for (const [w, p] of background)
      if (known(w) || w === '</s>')
        mixed.set(w, (mixed.get(w) ?? 0) + ((1 - DOMAIN_WEIGHT) * p) / bgTotal);
    prob[0] = mixed;
    unk *= DOMAIN_WEIGHT;
  }
  const history = (k: number): Map<string, { count: number; types: number }> => {
    const h = new Map<string, { count: number; types: number }>();
    for (const [g, c] of counts[k]!) {
      const key = g.slice(0, g.lastIndexOf(' '));
      const e = h.get(key) ?? { count: 0, types: 0 };
      e.count += c;
      e.types += 1;
      h.set(key, e);
    }
    return h;
  };
  const backoff: Map<string, number>[] = Array.from({ length: ORDER }, () => new Map());
  /** The model's probability of an n-gram (k+1 words), backing off where it was not seen. */
  const full = (k: number, g: string): number => {
    const p = prob[k]!.get(g);
    if (p !== undefined) return p;
    if (k === 0) return unk;
    const cut = g.indexOf(' ');
    return (
      (backoff[k - 1]!.get(g.slice(0, g.lastIndexOf(' '))) ?? 1) * full(k - 1, g.slice(cut + 1))
    );
  };
  const lower = (k: number, g: string): number => full(k - 1, g.slice(g.indexOf(' ') + 1));
  for (let k = 1; k < ORDER; k++) {
    const hs = history(k);
    for (const [g, c] of counts[k]!) {
      const h = hs.get(g.slice(0, g.lastIndexOf(' ')))!;
      prob[k]!.set(g, Math.max(c - D, 0) / h.count + ((D * h.types) / h.count) * lower(k, g));
    }
    // Back-off weight of a history: the mass left for unseen continuations, renormalised
    // over what the lower order gives them.
    const seen = new Map<string, { p: number; q: number }>();
    for (const [g, p] of prob[k]!) {
      const key = g.slice(0, g.lastIndexOf(' '));
      const e = seen.get(key) ?? { p: 0, q: 0 };
      e.p += p;
      e.q += lower(k, g);
      seen.set(key, e);
    }
    for (const [h, e] of seen)
      backoff[k - 1]!.set(h, Math.max(1e-9, 1 - e.p) / Math.max(1e-9, 1 - e.q));
  }
  const log = (x: number) => Math.log10(Math.max(x, 1e-99)).toFixed(6);
  const lines = ['\\data\\'];
  const n1 = prob[0]!.size + 2; // + <s>, <unk>
  lines.push(`ngram 1=${n1}`);
  for (let k = 1; k < ORDER; k++) lines.push(`ngram ${k + 1}=${prob[k]!.size}`);
  lines.push('', '\\1-grams:');
  lines.push(`-99.000000\t<s>\t${log(backoff[0]!.get('<s>') ?? 1)}`);
  lines.push(`${log(unk)}\t<unk>\t0.000000`);
  for (const [w, p] of prob[0]!) lines.push(`${log(p)}\t${w}\t${log(backoff[0]!.get(w) ?? 1)}`);
  for (let k = 1; k < ORDER; k++) {
    lines.push('', `\\${k + 1}-grams:`);
    for (const [g, p] of prob[k]!) {
      const bo = k < ORDER - 1 ? `\t${log(backoff[k]!.get(g) ?? 1)}` : '';
      lines.push(`${log(p)}\t${g}${bo}`);
    }
  }
  lines.push('', '\\end\\', '');
  return lines.join('\n');
}
