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
import { Predictor, TREND_S } from '../src/coverage/predictor.js';

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

// ---- Prioritisation: each held-out trace's downlink bitrate is the link's capacity (nothing
// passes while the device is at or below the threshold, as the delivery pump sends nothing in
// poor coverage). Every second a priority flow queues 4 kB and a bulk flow 32 kB. FIFO serves
// them in arrival order; with prediction, while an alert stands the priority bytes go first
// and bulk waits (deliveryOrder in src/coverage/delivery.ts). Figure: of the priority bytes
// queued in the horizon before each poor spell, the share delivered before the spell.
const PRIORITY_B = 4_000;
const BULK_B = 32_000;
interface Chunk {
  readonly at: number;
  readonly priority: boolean;
  left: number;
  doneAt?: number;
}
function deliveredShare(tr: NamedTrace, alerts: readonly boolean[], usePrediction: boolean) {
  const s = tr.samples;
  const isPoor = (i: number) => s[i]!.rsrp !== null && s[i]!.rsrp! <= threshold;
  const chunks: Chunk[] = [];
  let queue: Chunk[] = [];
  const spellStarts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (isPoor(i) && i > 0 && !isPoor(i - 1)) spellStarts.push(i);
    const p: Chunk = { at: i, priority: true, left: PRIORITY_B };
    chunks.push(p);
    queue.push(p, { at: i, priority: false, left: BULK_B });
    let capacity = isPoor(i) ? 0 : ((s[i]!.dlKbps ?? 0) * 1000) / 8;
    const order = usePrediction && alerts[i] ? queue.filter((c) => c.priority) : queue;
    for (const c of order) {
      if (capacity <= 0) break;
      const n = Math.min(c.left, capacity);
      c.left -= n;
      capacity -= n;
      if (c.left === 0) c.doneAt = i;
    }
    queue = queue.filter((c) => c.left > 0);
  }
  let arrived = 0;
  let delivered = 0;
  for (const start of spellStarts)
    for (const c of chunks) {
      if (c.at >= start || c.at < start - horizon) continue;
      arrived += PRIORITY_B;
      if (c.doneAt !== undefined && c.doneAt < start) delivered += PRIORITY_B;
    }
  return { arrived, delivered };
}

const t1 = Date.now();
let fifo = { arrived: 0, delivered: 0 };
let steered = { arrived: 0, delivered: 0 };
for (const tr of traces) {
  const { map, history } = build(tr);
  const predictor = new Predictor(map, history);
  const alerts = tr.samples.map((x, i) => {
    if (x.rsrp === null || x.rsrp <= threshold) return false;
    const prev = tr.samples[i - TREND_S];
    return predictor.predict(
      {
        device: tr.name,
        network: NET,
        t: x.t,
        lat: x.lat,
        lng: x.lng,
        speed: x.speed,
        heading: x.heading,
        rsrp: x.rsrp,
        rsrpChange: prev?.rsrp != null ? x.rsrp - prev.rsrp : null,
      },
      { threshold, horizonS: horizon },
    ).poorAhead;
  });
  const a = deliveredShare(tr, alerts, false);
  const b = deliveredShare(tr, alerts, true);
  fifo = { arrived: fifo.arrived + a.arrived, delivered: fifo.delivered + a.delivered };
  steered = { arrived: steered.arrived + b.arrived, delivered: steered.delivered + b.delivered };
}
const share = (x: { arrived: number; delivered: number }) => (100 * x.delivered) / x.arrived;
console.log(`priority delivered before poor FIFO %: ${share(fifo).toFixed(1)}`);
console.log(`priority delivered before poor with prediction %: ${share(steered).toFixed(1)}`);
console.log(
  `priority delivered gain points: ${(share(steered) - share(fifo)).toFixed(1)} (target 30)`,
);
console.log(`prioritisation run s: ${((Date.now() - t1) / 1000).toFixed(1)}`);

// ---- Speed, in process on one core (no HTTP, no JSON): the map and crowd built from all 60
// traces; ingest = map + crowd history per report; prediction = one moving device evaluated.
{
  const all = traces.flatMap((tr) => tr.samples.map((x) => ({ tr, x })));
  const map = new CoverageMap();
  const history = new PathHistory();
  const ti = process.hrtime.bigint();
  for (const { tr, x } of all) {
    if (x.rsrp === null) continue;
    const c = map.cellOf(x.lat, x.lng);
    map.add(NET, 'device', c, x.rsrp, x.t);
    history.add(tr.name, NET, x.t, c, x.heading, x.speed, x.rsrp);
  }
  const ingestS = Number(process.hrtime.bigint() - ti) / 1e9;
  console.log(
    `ingest reports/s (in process, one core): ${Math.round(all.length / ingestS)} (target 20000)`,
  );
  const predictor = new Predictor(map, history);
  const times: number[] = [];
  const n = 10_000;
  const tp = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const { tr, x } = all[(k * 7919) % all.length]!;
    const a = process.hrtime.bigint();
    predictor.predict(
      {
        device: `${tr.name}#probe`,
        network: NET,
        t: x.t,
        lat: x.lat,
        lng: x.lng,
        speed: x.speed,
        heading: x.heading,
        rsrp: x.rsrp,
        rsrpChange: null,
      },
      { threshold, horizonS: horizon },
    );
    times.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  const total = Number(process.hrtime.bigint() - tp) / 1e9;
  times.sort((a, b) => a - b);
  console.log(`prediction p50 ms: ${times[Math.floor(n * 0.5)]!.toFixed(3)}`);
  console.log(
    `prediction p99 ms: ${times[Math.floor(n * 0.99)]!.toFixed(3)} (path-risk target p99 < 5)`,
  );
  console.log(
    `10000 devices evaluated s (one core): ${total.toFixed(2)} (target < 1 on two cores)`,
  );
}
