// bench/intelligence: the quality and speed of Conversational Intelligence's models, on the
// data sets in ../shared/data (training and measuring only; nothing here tunes the models).
//   npm run bench:intelligence [-- --skip-asr | --only-asr] [--call-minutes 10] [--spoken 36]
// Prints: banking77 accuracy and training time; SGD Banks sentence -> state macro-F1 and value
// exact match; few-shot macro-F1 (5, 10, 20, all examples per state) on NLU++ and SGD;
// inference p50 per sentence; word error rate of pocketsphinx on espeak-ng speech through
// G.711 at 8 kHz, and the operator's F1 on recognised text against the written text; a
// two-channel call of --call-minutes transcribed, against its duration.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFor } from '../src/intelligence/extract/entities.js';
import { numberOf } from '../src/intelligence/extract/entities.js';
import {
  NONE,
  StateClassifier,
  train,
  type LabelledText,
} from '../src/intelligence/model/classifier.js';
import { featureCounts, vectorize } from '../src/intelligence/model/features.js';
import { spokenWords } from '../src/intelligence/asr/lm.js';
import { PocketSphinx } from '../src/intelligence/asr/pocketsphinx.js';
import { sentencesOfWords } from '../src/intelligence/sentences.js';

const DATA = new URL('../../shared/data/', import.meta.url).pathname;
const flag = (name: string) => process.argv.includes(`--${name}`);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const f3 = (n: number) => n.toFixed(3);

// ---------------------------------------------------------------- measures

function macroF1(
  gold: readonly string[],
  predicted: readonly string[],
  labels: readonly string[],
): number {
  let sum = 0;
  for (const l of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === l && g === l) tp++;
      else if (p === l) fp++;
      else if (g === l) fn++;
    });
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / labels.length;
}

/** Deterministic sample of k items (a seeded shuffle). */
function sample<T>(items: readonly T[], k: number, seed: number): T[] {
  const a = [...items];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

function perState(examples: readonly LabelledText[], k: number): LabelledText[] {
  if (!Number.isFinite(k)) return [...examples];
  const by = new Map<string, LabelledText[]>();
  for (const e of examples) by.set(e.label, [...(by.get(e.label) ?? []), e]);
  return [...by.values()].flatMap((list) => sample(list, k, 7));
}

// ---------------------------------------------------------------- banking77

function csv(path: string): LabelledText[] {
  const rows: LabelledText[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
    if (!line) continue;
    const comma = line.lastIndexOf(',');
    let text = line.slice(0, comma);
    if (text.startsWith('"')) text = text.slice(1, -1).replace(/""/g, '"');
    rows.push({ text, label: line.slice(comma + 1).trim() });
  }
  return rows;
}

function banking77(): void {
  const trainSet = csv(join(DATA, 'banking77/train.csv'));
  const test = csv(join(DATA, 'banking77/test.csv'));
  const model = train(trainSet);
  const c = new StateClassifier(model);
  const lookup = new Map(model.features.map((f, i) => [f, i]));
  let ok = 0;
  let okClosed = 0;
  for (const e of test) {
    if (c.predict(e.text).label === e.label) ok++;
    const s = c.scores(vectorize(featureCounts(e.text), lookup, model.idf));
    let best = 0;
    for (let i = 1; i < s.length; i++) if (s[i]! > s[best]!) best = i;
    if (model.labels[best] === e.label) okClosed++;
  }
  console.log(
    `banking77 (${trainSet.length} train, ${test.length} test, 77 states, no none examples)`,
  );
  console.log(
    `  accuracy as the operator labels (a sentence may fall to none): ${f3(ok / test.length)}`,
  );
  console.log(
    `  accuracy, closed set (best state always):                     ${f3(okClosed / test.length)}   target >= 0.90; anchors NB 0.835, BERT 0.93`,
  );
  console.log(
    `  training: ${(model.trainMs / 1000).toFixed(1)} s on one core, ${model.features.length} features   target < 60 s`,
  );
}

// ---------------------------------------------------------------- SGD Banks

interface SgdTurn {
  speaker: 'USER' | 'SYSTEM';
  utterance: string;
  frames: { actions: { act: string; slot: string; values: string[] }[] }[];
}

interface SgdSentence extends LabelledText {
  /** The gold value of the state (balance or amount), when it has one. */
  readonly value?: number;
}

/** The states of the issue, from each turn's dialogue acts. */
function sgdState(t: SgdTurn): { label: string; value?: number } {
  const acts = t.frames.flatMap((f) => f.actions);
  const has = (act: string, slot?: string) =>
    acts.find((a) => a.act === act && (slot === undefined || a.slot === slot));
  const money = (a: { values: string[] } | undefined) =>
    a?.values[0] ? numberOf(a.values[0]) : undefined;
  if (t.speaker === 'SYSTEM') {
    const balance = has('OFFER', 'balance');
    if (balance) return { label: 'balance provided', value: money(balance)! };
    const confirm = has('CONFIRM', 'amount');
    if (confirm) return { label: 'transfer confirmation requested', value: money(confirm)! };
    if (has('NOTIFY_SUCCESS')) return { label: 'transfer completed' };
    if (has('REQUEST', 'account_type')) return { label: 'account type asked' };
    return { label: NONE };
  }
  const intent = acts.find((a) => a.act === 'INFORM_INTENT' && a.values.includes('TransferMoney'));
  return intent ? { label: 'transfer requested' } : { label: NONE };
}

function sgd(shard: string): SgdSentence[] {
  const dialogues = JSON.parse(readFileSync(join(DATA, 'sgd-banks/train', shard), 'utf8')) as {
    services: string[];
    turns: SgdTurn[];
  }[];
  return dialogues
    .filter((d) => d.services.some((s) => s.startsWith('Banks')))
    .flatMap((d) =>
      d.turns.map((t) => {
        const s = sgdState(t);
        return {
          text: t.utterance,
          label: s.label,
          ...(s.value !== undefined ? { value: s.value } : {}),
        };
      }),
    );
}

const SGD_STATES = [
  'balance provided',
  'transfer confirmation requested',
  'transfer completed',
  'transfer requested',
  'account type asked',
];

function sgdBench(trainSet: SgdSentence[], test: SgdSentence[]): StateClassifier {
  const model = new StateClassifier(train(trainSet));
  const predicted = test.map((e) => model.predict(e.text).label);
  const f1 = macroF1(
    test.map((e) => e.label),
    predicted,
    [...SGD_STATES, NONE],
  );
  const f1States = macroF1(
    test.map((e) => e.label),
    predicted,
    SGD_STATES,
  );
  let valued = 0;
  let exact = 0;
  for (const e of test) {
    if (e.value === undefined) continue;
    valued++;
    const v = extractFor(e.text, 'money')[0];
    if (v && v.normalized_value === e.value) exact++;
  }
  console.log(
    `SGD Banks (train shard 032: ${trainSet.length} turns; test shard 040: ${test.length} turns)`,
  );
  console.log(
    `  sentence -> state macro-F1 (5 states + none): ${f3(f1)}; over the 5 states: ${f3(f1States)}   target >= 0.90`,
  );
  console.log(
    `  value exact match given the state (balance, amount; ${valued} turns): ${f3(exact / valued)}   target >= 0.95`,
  );
  return model;
}

function fewShot(
  name: string,
  trainSet: LabelledText[],
  test: LabelledText[],
  labels: string[],
  gold?: (e: LabelledText, label: string) => boolean,
) {
  const line: string[] = [];
  for (const k of [5, 10, 20, Infinity]) {
    const model = new StateClassifier(train(perState(trainSet, k)));
    const predicted = test.map((e) => model.predict(e.text).label);
    let f1: number;
    if (gold) {
      let sum = 0;
      for (const l of labels) {
        let tp = 0;
        let fp = 0;
        let fn = 0;
        test.forEach((e, i) => {
          const g = gold(e, l);
          const p = predicted[i] === l;
          if (g && p) tp++;
          else if (p) fp++;
          else if (g) fn++;
        });
        sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
      }
      f1 = sum / labels.length;
    } else
      f1 = macroF1(
        test.map((e) => e.label),
        predicted,
        labels,
      );
    line.push(`${Number.isFinite(k) ? k : 'all'}: ${f3(f1)}`);
  }
  console.log(`  ${name}: ${line.join('  ')}`);
}

interface NluExample {
  text: string;
  intents?: string[];
}

function nluPlusPlus() {
  const fold = (i: number) =>
    JSON.parse(
      readFileSync(join(DATA, `nluplusplus-banking/fold${i}.json`), 'utf8'),
    ) as NluExample[];
  const trainFold = fold(0);
  const test = Array.from({ length: 19 }, (_, i) => fold(i + 1)).flat();
  // Multi-label gold; the operator gives one state per sentence: a training sentence teaches
  // each of its intents, and the F1 of an intent counts a sentence predicted as it against
  // the sentences that have it among theirs.
  const trainSet: LabelledText[] = trainFold.flatMap((e) =>
    (e.intents ?? []).length === 0
      ? [{ text: e.text, label: NONE }]
      : e.intents!.map((label) => ({ text: e.text, label })),
  );
  const labels = [...new Set(trainSet.map((e) => e.label))].filter((l) => l !== NONE);
  const testSet = test.map((e) => ({ text: e.text, label: (e.intents ?? []).join('|') }));
  fewShot(
    `NLU++ banking (fold 0 train, ${trainFold.length}; folds 1-19 test, ${test.length}; ${labels.length} intents, multi-label gold)`,
    trainSet,
    testSet,
    labels,
    (e, l) => e.label.split('|').includes(l),
  );
}

// ---------------------------------------------------------------- speed

function inferenceSpeed(model: StateClassifier, sentences: readonly LabelledText[]) {
  const times: number[] = [];
  for (const e of sentences) {
    const t0 = performance.now();
    const p = model.predict(e.text);
    if (p.label !== NONE) extractFor(e.text, 'money');
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.floor(p * (times.length - 1))]!;
  console.log(
    `inference per sentence (state + value), ${times.length} sentences: p50 ${q(0.5).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms   target p50 <= 5 ms`,
  );
}

// ---------------------------------------------------------------- speech

/** Words as said: "$1,500" is "one thousand five hundred dollars" in speech and in the reference. */
function wordsOf(s: string): string[] {
  return spokenWords(s);
}

function editDistance(a: readonly string[], b: readonly string[]): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length]![b.length]!;
}

/** espeak-ng speaks `text` into an 8 kHz G.711 mu-law round trip, as a call carries it. */
function speak(text: string, voice: string, out: string, dir: string): void {
  const raw = join(dir, 'raw.wav');
  const ulaw = join(dir, 'call.wav');
  execFileSync('espeak-ng', ['-v', voice, '-s', '160', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-e', 'u-law', ulaw]);
  execFileSync('sox', [ulaw, '-e', 'signed-integer', '-b', '16', out]);
}

const load = () =>
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;

async function speech(model: StateClassifier, test: SgdSentence[], phrases: string[]) {
  const engine = new PocketSphinx();
  const missing = await engine.unavailable();
  if (missing || !existsSync('/usr/bin/espeak-ng')) {
    console.log(`speech: skipped (${missing ?? 'espeak-ng missing'})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-asr-'));
  try {
    // Spoken test set: a sample of SGD test turns (every state), two voices.
    const picked = [...SGD_STATES, NONE].flatMap((s) =>
      sample(
        test.filter((e) => e.label === s),
        Math.ceil(arg('spoken', 36) / 6),
        3,
      ),
    );
    const voices = ['en-us', 'en-gb'];
    const wavs: string[] = [];
    let audioMs = 0;
    for (const [i, e] of picked.entries()) {
      const wav = join(dir, `s${i}.wav`);
      speak(e.text, voices[i % voices.length]!, wav, dir);
      audioMs += Number(execFileSync('soxi', ['-D', wav]).toString()) * 1000;
      wavs.push(wav);
    }
    const gold = picked.map((e) => e.label);
    const written = picked.map((e) => model.predict(e.text).label);
    const labels = [...SGD_STATES, NONE];
    console.log(
      `speech: ${picked.length} SGD test turns spoken by espeak-ng (en-us, en-gb) through G.711 mu-law 8 kHz, recognised by pocketsphinx en-us; operator macro-F1 on the written turns ${f3(macroF1(gold, written, labels))}`,
    );
    // The general English model, then the domain model the platform builds from the
    // Service's operator (here: the SGD operator's training turns, shard 032).
    for (const [name, context] of [
      ['general language model', undefined],
      ['domain language model from the operator examples', { phrases }],
    ] as const) {
      let errors = 0;
      let words = 0;
      let asrMs = 0;
      const heard: string[] = [];
      for (const [i, e] of picked.entries()) {
        const t0 = performance.now();
        const recognised = (await engine.recognize(wavs[i]!, 1, context))
          .map((w) => w.word)
          .join(' ');
        asrMs += performance.now() - t0;
        const ref = wordsOf(e.text);
        errors += editDistance(ref, wordsOf(recognised));
        words += ref.length;
        heard.push(model.predict(recognised).label);
        if (flag('verbose')) console.log(`    ${e.text}\n      -> ${recognised}`);
      }
      console.log(
        `  ${name}: word error rate ${f3(errors / words)} (${errors}/${words}); operator macro-F1 on the recognised text ${f3(macroF1(gold, heard, labels))}; recognition ${f3(asrMs / audioMs)} x real time, one sentence at a time (${load()})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function longCall(test: SgdSentence[], minutes: number, phrases: string[]) {
  const engine = new PocketSphinx();
  if (await engine.unavailable()) return;
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-call-'));
  try {
    // Two sides taking turns: the SYSTEM-like turns on channel 1, the others on channel 2,
    // each side silent while the other speaks; repeated until the call lasts `minutes`.
    const sides = [join(dir, 'a.raw'), join(dir, 'b.raw')];
    const parts: [string[], string[]] = [[], []];
    let seconds = 0;
    let i = 0;
    while (seconds < minutes * 60) {
      const e = test[i % test.length]!;
      const wav = join(dir, `t${i}.wav`);
      speak(e.text, i % 2 ? 'en-gb' : 'en-us', wav, dir);
      const silence = join(dir, `z${i}.wav`);
      const d = Number(execFileSync('soxi', ['-D', wav]).toString());
      execFileSync('sox', [
        '-n',
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        '-e',
        'signed-integer',
        silence,
        'trim',
        '0',
        String(d),
      ]);
      parts[i % 2]!.push(wav);
      parts[(i + 1) % 2]!.push(silence);
      seconds += d;
      i++;
    }
    const mono = sides.map((_, k) => join(dir, `side${k}.wav`));
    parts.forEach((list, k) => execFileSync('sox', [...list, mono[k]!]));
    const call = join(dir, 'call.wav');
    execFileSync('sox', ['-M', mono[0]!, mono[1]!, call]);
    const duration = Number(execFileSync('soxi', ['-D', call]).toString());
    const t0 = performance.now();
    const perChannel = await Promise.all(
      [1, 2].map(async (c) => ({
        channel: c,
        words: await engine.recognize(call, c, { phrases }),
      })),
    );
    const sentences = sentencesOfWords(perChannel);
    const took = (performance.now() - t0) / 1000;
    console.log(
      `two-channel call of ${(duration / 60).toFixed(1)} min (${i} turns): transcribed in ${took.toFixed(1)} s = ${f3(took / duration)} x its duration (channels side by side, domain language model), ${sentences.length} sentences   target <= 0.5 (${load()})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- run

const onlyAsr = flag('only-asr');
if (!onlyAsr) banking77();
const sgdTrain = sgd('dialogues_032.json');
const sgdTest = sgd('dialogues_040.json');
const sgdModel = onlyAsr ? new StateClassifier(train(sgdTrain)) : sgdBench(sgdTrain, sgdTest);
if (!onlyAsr) {
  console.log('few-shot macro-F1 by examples per state (5, 10, 20, all):');
  nluPlusPlus();
  fewShot(`SGD Banks (shard 032 train, 040 test; 5 states + none)`, sgdTrain, sgdTest, [
    ...SGD_STATES,
    NONE,
  ]);
  inferenceSpeed(sgdModel, sgdTest);
}
if (!flag('skip-asr')) {
  const phrases = sgdTrain.map((e) => e.text);
  await speech(sgdModel, sgdTest, phrases);
  await longCall(sgdTest, arg('call-minutes', 10), phrases);
}
