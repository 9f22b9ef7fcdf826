// The first model of an utterance-state operator: which of the account's states a sentence is
// in, or none. One linear SVM per state over tf-idf word and character n-grams (features.ts,
// svm.ts). A sentence is in the state whose machine scores it highest, when that score is
// positive; below zero every machine says "not mine", which is how a sentence unlike all
// examples (and unlike the none examples, when there are some) comes out as none.
import { buildVocabulary, featureCounts, vectorize, type SparseVector } from './features.js';
import { DEFAULT_SVM, trainBinary, type SvmOptions } from './svm.js';

export const NONE = 'none';

export interface LabelledText {
  readonly text: string;
  /** A state's name, or NONE. */
  readonly label: string;
}

/** A trained classifier in plain arrays (transferable from the training thread). */
export interface TrainedModel {
  /** The states, in weight order (NONE included when none examples were given). */
  readonly labels: readonly string[];
  readonly features: readonly string[];
  readonly idf: Float32Array;
  /** Feature-major: weight of feature j for label k at j * labels.length + k; the bias last. */
  readonly weights: Float32Array;
  readonly trainMs: number;
}

export interface Prediction {
  /** A state, or NONE. */
  readonly label: string;
  readonly probability: number;
}

export function train(
  examples: readonly LabelledText[],
  options?: Partial<SvmOptions>,
): TrainedModel {
  const started = performance.now();
  const counts = examples.map((e) => featureCounts(e.text));
  const vocabulary = buildVocabulary(counts);
  const lookup = new Map(vocabulary.names.map((f, i) => [f, i]));
  const xs = counts.map((c) => vectorize(c, lookup, vocabulary.idf));
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  const dims = vocabulary.names.length;
  const k = labels.length;
  const weights = new Float32Array((dims + 1) * k);
  const svm = { ...DEFAULT_SVM, ...options };
  labels.forEach((label, li) => {
    const w = trainBinary(
      xs,
      examples.map((e) => e.label === label),
      dims,
      svm,
    );
    for (let j = 0; j <= dims; j++) weights[j * k + li] = w[j]!;
  });
  return {
    labels,
    features: vocabulary.names,
    idf: vocabulary.idf,
    weights,
    trainMs: performance.now() - started,
  };
}

/** Scales SVM margins into probabilities (a margin of 1 is about 0.9 against a margin of 0). */
const SHARPNESS = 2.5;

/**
 * The margin "none" has when no none examples were given. Measured on banking77's test split
 * (every sentence in some state): at -0.5 about 1% of its sentences fall to none, while
 * sentences of other topics (small talk, weather) score about -0.7 to -0.85.
 */
export const NONE_MARGIN = -0.5;

/** A trained model ready to label sentences. */
export class StateClassifier {
  private readonly lookup: Map<string, number>;

  constructor(readonly model: TrainedModel) {
    this.lookup = new Map(model.features.map((f, i) => [f, i]));
  }

  scores(x: SparseVector): Float64Array {
    const { labels, weights } = this.model;
    const k = labels.length;
    const dims = this.model.features.length;
    const s = new Float64Array(k);
    for (let li = 0; li < k; li++) s[li] = weights[dims * k + li]!;
    for (let n = 0; n < x.index.length; n++) {
      const base = x.index[n]! * k;
      const v = x.value[n]!;
      for (let li = 0; li < k; li++) s[li]! += weights[base + li]! * v;
    }
    return s;
  }

  predict(text: string): Prediction {
    const x = vectorize(featureCounts(text), this.lookup, this.model.idf);
    const s = this.scores(x);
    const { labels } = this.model;
    // Without none examples, "none of them" competes at NONE_MARGIN: one-vs-rest machines
    // all score a sentence below zero more often the more states there are, and a sentence
    // unlike every state's examples scores lower still.
    const hasNone = labels.includes(NONE);
    let best = hasNone ? -Infinity : NONE_MARGIN;
    let label = NONE;
    for (let li = 0; li < labels.length; li++) {
      if (s[li]! > best) {
        best = s[li]!;
        label = labels[li]!;
      }
    }
    let total = hasNone ? 0 : Math.exp((NONE_MARGIN - best) * SHARPNESS);
    for (let li = 0; li < labels.length; li++) total += Math.exp((s[li]! - best) * SHARPNESS);
    return { label, probability: 1 / total };
  }
}
