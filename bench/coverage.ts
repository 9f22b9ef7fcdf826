// bench:coverage — leave-one-trace-out over the UCC dataset's 60 driving traces: for each
// held-out trace, the coverage map and the path history are built from the other 59 only, and
// the held-out trace is driven second by second through the predictor.
// Task: the device has been above the threshold for the last 5 s; will it be at or below it
// within the horizon? Prints `name: value` lines.
//   npm run bench:coverage -- --threshold -105 --horizon 30
import { datasetPresent, drivingTraces, type NamedTrace } from './coverage-data.js';
import { PathHistory } from '../src/coverage/history.js';
import { CoverageMap } from '../src/coverage/map.js';
import { counts, evaluateTrace, f1, mean } from '../src/coverage/evaluate.js';
import { Predictor } from '../src/coverage/predictor.js';

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

const t0 = Date.now();
const plain = counts();
const routed = counts();
for (const tr of traces) {
  const { map, history } = build(tr);
  const predictor = new Predictor(map, history);
  evaluateTrace(tr, predictor, { threshold, horizon, route: false, network: NET }, plain);
  evaluateTrace(tr, predictor, { threshold, horizon, route: true, network: NET }, routed);
}
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
