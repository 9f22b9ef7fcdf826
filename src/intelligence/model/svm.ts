// One-vs-rest linear support vector machines (L2-regularised, squared hinge loss) trained by
// dual coordinate descent, the method of LIBLINEAR (Hsieh et al., ICML 2008): each pass over
// the examples updates one dual variable at a time in closed form, so a few passes over
// sparse tf-idf vectors train thousands of sentences in well under a second per class.
import type { SparseVector } from './features.js';

export interface SvmOptions {
  /** Inverse regularisation strength. */
  readonly c: number;
  readonly maxEpochs: number;
  /** Stops when the projected gradient's spread falls below this. */
  readonly tolerance: number;
}

export const DEFAULT_SVM: SvmOptions = { c: 1, maxEpochs: 50, tolerance: 0.05 };

/** A deterministic shuffle (the same examples give the same model). */
function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Weights of one binary SVM over `dims` features plus a bias (last slot): `positive[i]` says
 * whether example i is of the class.
 */
export function trainBinary(
  xs: readonly SparseVector[],
  positive: readonly boolean[],
  dims: number,
  options: SvmOptions = DEFAULT_SVM,
): Float64Array {
  const w = new Float64Array(dims + 1);
  const n = xs.length;
  const alpha = new Float64Array(n);
  const diag = 1 / (2 * options.c);
  const qii = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 1; // the bias feature
    const v = xs[i]!.value;
    for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
    qii[i] = s + diag;
  }
  for (let epoch = 0; epoch < options.maxEpochs; epoch++) {
    let maxPg = -Infinity;
    let minPg = Infinity;
    const order = permutation(n, epoch + 1);
    for (let o = 0; o < n; o++) {
      const i = order[o]!;
      const x = xs[i]!;
      const y = positive[i] ? 1 : -1;
      let dot = w[dims]!;
      for (let k = 0; k < x.index.length; k++) dot += w[x.index[k]!]! * x.value[k]!;
      const g = y * dot - 1 + diag * alpha[i]!;
      const pg = alpha[i] === 0 ? Math.min(g, 0) : g;
      if (pg > maxPg) maxPg = pg;
      if (pg < minPg) minPg = pg;
      if (Math.abs(pg) > 1e-12) {
        const old = alpha[i]!;
        const next = Math.max(old - g / qii[i]!, 0);
        alpha[i] = next;
        const step = (next - old) * y;
        for (let k = 0; k < x.index.length; k++) w[x.index[k]!]! += step * x.value[k]!;
        w[dims]! += step;
      }
    }
    if (maxPg - minPg < options.tolerance) break;
  }
  return w;
}
