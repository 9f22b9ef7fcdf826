// Quality of the poor-coverage prediction on a drive trace, shared by bench:coverage and
// `switchboard coverage replay`: F1 of "poor within the horizon" on the seconds the device is
// in good coverage, and the lead time of the true alerts.
import { TREND_S, type MotionInput, type Prediction, type Predictor } from './predictor.js';
import type { TraceSample } from './trace.js';

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  leads: number[];
}
export const counts = (): Counts => ({ tp: 0, fp: 0, fn: 0, tn: 0, leads: [] });
export const f1 = (c: Counts): number => (2 * c.tp) / (2 * c.tp + c.fp + c.fn);

/** The device's RSRP change over the last TREND_S seconds, as it would know it. */
function trend(s: readonly TraceSample[], i: number): number | null {
  const a = s[i - TREND_S];
  const b = s[i]!;
  if (!a || a.rsrp === null || b.rsrp === null || b.t - a.t > (TREND_S + 2) * 1000) return null;
  return b.rsrp - a.rsrp;
}

export interface EvaluateOptions {
  readonly threshold: number;
  readonly horizon: number;
  /** The trace's own future path as the planned route. */
  readonly route: boolean;
  /** The network whose map and crowd the predictor asks. */
  readonly network: string;
}

/**
 * Drives one trace second by second through the predictor, adding to `c`. The task: the
 * device has been above the threshold for the last 5 s; will it be at or below it within the
 * horizon? A second whose future the trace does not cover is left out (censored).
 */
export function evaluateTrace(
  tr: { readonly name: string; readonly samples: readonly TraceSample[] },
  predictor: Predictor,
  o: EvaluateOptions,
  c: Counts,
): void {
  const { threshold, horizon, route } = o;
  const s = tr.samples;
  let alertStart: number | null = null;
  for (let i = 4; i < s.length; i++) {
    const now = s[i]!;
    const window = s.slice(i - 4, i + 1);
    const eligible =
      now.t - s[i - 4]!.t <= 5000 && window.every((x) => x.rsrp !== null && x.rsrp > threshold);
    if (!eligible) {
      alertStart = null;
      continue;
    }
    let entry: number | null = null;
    let seenTo = now.t;
    for (let j = i + 1; j < s.length && s[j]!.t <= now.t + horizon * 1000; j++) {
      seenTo = s[j]!.t;
      if (s[j]!.rsrp !== null && s[j]!.rsrp! <= threshold) {
        entry = s[j]!.t;
        break;
      }
    }
    if (entry === null && seenTo < now.t + (horizon - 2) * 1000) continue; // censored at the end
    const m: MotionInput = {
      device: tr.name,
      network: o.network,
      t: now.t,
      lat: now.lat,
      lng: now.lng,
      speed: now.speed,
      heading: now.heading,
      rsrp: now.rsrp,
      rsrpChange: trend(s, i),
      route: route
        ? s
            .slice(i + 1, i + 1 + horizon * 4)
            .filter((_, k) => k % 3 === 2)
            .map((x) => ({ lat: x.lat, lng: x.lng, t: x.t }))
        : undefined,
    };
    const p: Prediction = predictor.predict(m, { threshold, horizonS: horizon });
    if (p.poorAhead) alertStart ??= now.t;
    else alertStart = null;
    if (p.poorAhead && entry !== null) {
      c.tp++;
      // A true alert's lead: from the start of the alert run to the entry it foresaw.
      if (
        s[i + 1] === undefined ||
        s[i + 1]!.rsrp === null ||
        s[i + 1]!.rsrp! <= threshold ||
        i + 1 === s.length - 1
      )
        c.leads.push((entry - alertStart!) / 1000);
      else if (entry - now.t <= 1000) c.leads.push((entry - alertStart!) / 1000);
    } else if (p.poorAhead) c.fp++;
    else if (entry !== null) c.fn++;
    else c.tn++;
  }
}

export const mean = (xs: readonly number[]): number =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
