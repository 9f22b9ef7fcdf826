// bench:coverage — leave-one-trace-out over the UCC dataset's 60 driving traces: for each
// held-out trace, the coverage map and the path history are built from the other 59 only, and
// the held-out trace is driven second by second through the predictor.
// Task: the device has been above the threshold for the last 5 s; will it be at or below it
// within the horizon? Prints `name: value` lines.
//   npm run bench:coverage -- --threshold -105 --horizon 30
import { datasetPresent, drivingTraces, type NamedTrace } from './coverage-data.js';
import { PathHistory } from '../src/coverage/history.js';
import { CoverageMap } from '../src/coverage/map.js';
import type { TraceSample } from '../src/coverage/trace.js';
import {
  Predictor,
  TREND_S,
  type MotionInput,
  type Prediction,
} from '../src/coverage/predictor.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const threshold = arg('threshold', -105);
const horizon = arg('horizon', 30);
const only = process.argv.includes('--quality-only');
const NET = 'HW' + '0'.repeat(32);

if (!datasetPresent()) {
  console.error('bench:coverage needs ../shared/data/ucc-5g-production (not found)');
  process.exit(1);
}

const traces = drivingTraces();
const cells = new Map<NamedTrace, string[]>();
const probe = new CoverageMap();
for (const tr of traces)
  cells.set(
    tr,
    tr.samples.map((s) => probe.cellOf(s.lat, s.lng)),
  );

function build(except: NamedTrace | undefined): { map: CoverageMap; history: PathHistory } {
  const map = new CoverageMap();
  const history = new PathHistory();
  for (const tr of traces) {
    if (tr === except) continue;
    const cs = cells.get(tr)!;
    tr.samples.forEach((s, i) => {
      if (s.rsrp === null) return;
      map.add(
        NET,
        'device',
        cs[i]!,
        s.rsrp,
        s.t,
        /^(HSPA|HSDPA|HSUPA|UMTS|EDGE|GPRS)/.test(s.mode),
      );
      history.add(tr.name, NET, s.t, cs[i]!, s.heading, s.speed, s.rsrp);
    });
  }
  return { map, history };
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  leads: number[];
}
const counts = (): Counts => ({ tp: 0, fp: 0, fn: 0, tn: 0, leads: [] });
const f1 = (c: Counts) => (2 * c.tp) / (2 * c.tp + c.fp + c.fn);

/** The device's RSRP change over the last TREND_S seconds, as it would know it. */
function trend(s: readonly TraceSample[], i: number): number | null {
  const a = s[i - TREND_S];
  const b = s[i]!;
  if (!a || a.rsrp === null || b.rsrp === null || b.t - a.t > (TREND_S + 2) * 1000) return null;
  return b.rsrp - a.rsrp;
}

/** Evaluates one held-out trace; `route` gives the true future path as the planned route. */
function evaluate(tr: NamedTrace, predictor: Predictor, route: boolean, c: Counts): void {
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
      network: NET,
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

const t0 = Date.now();
const plain = counts();
const routed = counts();
for (const tr of traces) {
  const { map, history } = build(tr);
  const predictor = new Predictor(map, history);
  evaluate(tr, predictor, false, plain);
  evaluate(tr, predictor, true, routed);
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
console.log(`threshold dBm: ${threshold}`);
console.log(`horizon s: ${horizon}`);
console.log(`driving traces: ${traces.length}`);
console.log(`evaluated seconds: ${plain.tp + plain.fp + plain.fn + plain.tn}`);
console.log(`positives: ${plain.tp + plain.fn}`);
console.log(`precision without route: ${(plain.tp / (plain.tp + plain.fp)).toFixed(3)}`);
console.log(`recall without route: ${(plain.tp / (plain.tp + plain.fn)).toFixed(3)}`);
console.log(`F1 without route: ${f1(plain).toFixed(3)}`);
console.log(`mean lead s: ${mean(plain.leads).toFixed(1)}`);
console.log(`true alerts: ${plain.leads.length}`);
console.log(`F1 with planned route: ${f1(routed).toFixed(3)}`);
console.log(`mean lead s with route: ${mean(routed.leads).toFixed(1)}`);
console.log(`quality run s: ${((Date.now() - t0) / 1000).toFixed(1)}`);
if (only) process.exit(0);
