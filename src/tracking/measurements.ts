// A tracker's measurements over a time range: totals and a series of buckets (minute, hour or
// day, aligned to UTC), read from the per-minute figures the counter keeps. `count` is the
// interactions followed (each in the minute it was first seen), `events` the events counted.
import { iso8601 } from '../core/index.js';
import type { Kysely } from '../store/index.js';
import type { TrackingTables } from './tables.js';
import { BUCKET_MS, valueOfBin, type BucketSize, type Measure, type Tracker } from './trackers.js';

export interface MeasureFigures {
  sum: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  p95: number | null;
}

export interface Figures {
  count: number;
  events: number;
  measures: Map<Measure, { n: number; sum: number; min: number | null; max: number | null }>;
  bins: Map<Measure, Map<number, number>>;
}

function emptyFigures(): Figures {
  return { count: 0, events: 0, measures: new Map(), bins: new Map() };
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function p95(bins: Map<number, number> | undefined, n: number): number | null {
  if (!bins || n === 0) return null;
  const rank = Math.ceil(0.95 * n);
  let seen = 0;
  for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
    seen += bins.get(bin)!;
    if (seen >= rank) return valueOfBin(bin);
  }
  return null;
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1e6) / 1e6;
}

export function figuresJson(f: Figures, measures: readonly Measure[]): Record<string, unknown> {
  const out: Record<string, unknown> = { count: f.count, events: f.events };
  for (const m of measures) {
    const x = f.measures.get(m) ?? { n: 0, sum: 0, min: null, max: null };
    out[m] = {
      sum: round(x.sum) ?? 0,
      avg: x.n ? round(x.sum / x.n) : null,
      min: round(x.min),
      max: round(x.max),
      p95: round(p95(f.bins.get(m), x.n)),
    } satisfies MeasureFigures;
  }
  return out;
}

export interface Measurement {
  readonly totals: Figures;
  readonly series: { start: number; figures: Figures }[];
}

export async function measure(
  db: Kysely<TrackingTables>,
  t: Tracker,
  from: number,
  to: number,
  size: BucketSize,
): Promise<Measurement> {
  const ms = BUCKET_MS[size];
  const [buckets, followed, bins] = await Promise.all([
    db
      .selectFrom('tracker_buckets')
      .selectAll()
      .where('tracker_sid', '=', t.sid)
      .where('bucket_start', '>=', from)
      .where('bucket_start', '<', to)
      .execute(),
    db
      .selectFrom('tracker_interactions')
      .select(['bucket_start', (eb) => eb.fn.countAll().as('n')])
      .where('tracker_sid', '=', t.sid)
      .where('bucket_start', '>=', from)
      .where('bucket_start', '<', to)
      .groupBy('bucket_start')
      .execute(),
    db
      .selectFrom('tracker_bins')
      .select(['bucket_start', 'measure', 'bin', (eb) => eb.fn.sum('n').as('n')])
      .where('tracker_sid', '=', t.sid)
      .where('bucket_start', '>=', from)
      .where('bucket_start', '<', to)
      .groupBy(['bucket_start', 'measure', 'bin'])
      .execute(),
  ]);
  const totals = emptyFigures();
  const series = new Map<number, Figures>();
  const at = (minute: number): Figures[] => {
    const start = minute - (minute % ms);
    let f = series.get(start);
    if (!f) series.set(start, (f = emptyFigures()));
    return [totals, f];
  };
  for (const b of buckets) {
    const row = b as unknown as Record<string, unknown>;
    for (const f of at(num(b.bucket_start))) {
      f.events += num(b.events);
      f.count += num(b.singles);
      for (const m of t.measures) {
        const n = num(row[`${m}_n`]);
        if (n === 0) continue;
        const x = f.measures.get(m) ?? { n: 0, sum: 0, min: null, max: null };
        const min = numOrNull(row[`${m}_min`]);
        const max = numOrNull(row[`${m}_max`]);
        x.n += n;
        x.sum += num(row[`${m}_sum`]);
        if (min !== null && (x.min === null || min < x.min)) x.min = min;
        if (max !== null && (x.max === null || max > x.max)) x.max = max;
        f.measures.set(m, x);
      }
    }
  }
  for (const r of followed) for (const f of at(num(r.bucket_start))) f.count += num(r.n);
  for (const r of bins) {
    const m = r.measure as Measure;
    for (const f of at(num(r.bucket_start))) {
      let byBin = f.bins.get(m);
      if (!byBin) f.bins.set(m, (byBin = new Map()));
      byBin.set(r.bin, (byBin.get(r.bin) ?? 0) + num(r.n));
    }
  }
  return {
    totals,
    series: [...series.entries()]
      .sort(([a], [b]) => a - b)
      .map(([start, figures]) => ({ start, figures })),
  };
}

export function measurementJson(
  t: Tracker,
  m: Measurement,
  from: number,
  to: number,
  size: BucketSize,
  url: string,
): Record<string, unknown> {
  return {
    tracker_sid: t.sid,
    account_sid: t.accountSid,
    start_time: iso8601(from),
    end_time: iso8601(to),
    bucket: size,
    totals: figuresJson(m.totals, t.measures),
    series: m.series.map((s) => ({
      start_time: iso8601(s.start),
      end_time: iso8601(s.start + BUCKET_MS[size]),
      ...figuresJson(s.figures, t.measures),
    })),
    url,
  };
}
