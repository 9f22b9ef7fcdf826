// Domain language models for pocketsphinx, one per set of phrases, written once to a
// temporary folder and reused (a Service's operators change rarely; both channels of a call
// and every call of the Service share one). The general words mixed in come from the
// unigrams of pocketsphinx's own English model, read with sphinx_lm_convert (Debian's
// sphinxbase-utils); without it the general model is used alone.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arpaModel } from './lm.js';
import { installed, run } from './process.js';

/** How many of the general model's most frequent words back the domain text up. */
const GENERAL_WORDS = 10_000;
/** Fewer phrases than this say too little about a domain to lean on. */
const MIN_PHRASES = 10;
const KEEP = 16;

export class DomainModels {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sb-lm-'));
  private readonly built = new Map<string, Promise<string | undefined>>();
  private dictionary: Promise<Set<string>> | undefined;
  private general: Promise<Map<string, number> | undefined> | undefined;

  constructor(
    private readonly lmBin: string,
    private readonly dictPath: string,
  ) {}

  /** The path of an ARPA model for `phrases`, or undefined to use the general model. */
  model(phrases: readonly string[]): Promise<string | undefined> {
    if (phrases.length < MIN_PHRASES) return Promise.resolve(undefined);
    const key = createHash('sha256').update(phrases.join('\n')).digest('hex').slice(0, 24);
    let p = this.built.get(key);
    if (!p) {
      p = this.build(key, phrases).catch(() => undefined);
      this.built.set(key, p);
      if (this.built.size > KEEP) this.built.delete(this.built.keys().next().value!);
    } else {
      // Most recently used last.
      this.built.delete(key);
      this.built.set(key, p);
    }
    return p;
  }

  private async build(key: string, phrases: readonly string[]): Promise<string | undefined> {
    const general = await (this.general ??= this.readGeneral());
    if (!general) return undefined;
    const words = await (this.dictionary ??= this.readDictionary());
    const arpa = arpaModel(phrases, (w) => words.has(w), general);
    if (!arpa) return undefined;
    const path = join(this.dir, `${key}.lm`);
    await writeFile(path, arpa);
    return path;
  }

  private async readDictionary(): Promise<Set<string>> {
    const text = await readFile(this.dictPath, 'utf8');
    const words = new Set<string>();
    for (const line of text.split('\n')) {
      const w = line.slice(0, line.indexOf(' '));
      if (w && !w.includes('(')) words.add(w);
    }
    return words;
  }

  /**
   * The general model's unigram probabilities, its most frequent words. sphinx_lm_convert
   * writes the unigram section first; only that section is read (Debian's build stops with an
   * assertion later in the file on this model, after the unigrams are out).
   */
  private async readGeneral(): Promise<Map<string, number> | undefined> {
    if (!(await installed('sphinx_lm_convert'))) return undefined;
    const out = join(this.dir, 'general.arpa');
    await run('sphinx_lm_convert', ['-i', this.lmBin, '-o', out, '-ofmt', 'arpa'], 120_000);
    let text: string;
    try {
      text = await readFile(out, 'utf8');
    } catch {
      return undefined;
    } finally {
      await rm(out, { force: true });
    }
    const section = text.split('\\1-grams:\n')[1]?.split('\n\n')[0];
    if (!section) return undefined;
    const entries: [string, number][] = [];
    for (const line of section.split('\n')) {
      const [logp, word] = line.split('\t');
      if (!word || word === '<s>' || word === '<unk>') continue;
      entries.push([word, 10 ** Number(logp)]);
    }
    entries.sort((a, b) => b[1] - a[1]);
    return entries.length > 1000 ? new Map(entries.slice(0, GENERAL_WORDS)) : undefined;
  }
}
