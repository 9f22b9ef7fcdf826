// Counting exactly once: the statements that add a batch of events to the trackers following
// them go into the very unit that writes the events (EventLog.listen). The events and their
// counts commit together or not at all, on one node or many (each upsert adds to the row in
// the database, never writes a total computed elsewhere); a crash loses neither nor doubles.
import { sql } from 'kysely';
import type { LogListener, WrittenLogEvent } from '../plugin/index.js';
import type { Dialect, Kysely, Statement, Store } from '../store/index.js';
import type { TrackerRegistry } from './registry.js';
import type { BinRow, BucketRow, FollowedRow, TrackingTables } from './tables.js';
import { BUCKET_MS, binOf, follows, valueOf, type Measure } from './trackers.js';

const MINUTE = BUCKET_MS.minute;
/** Rows per statement: well under SQLite's 32 766 parameters for the widest row. */
const ROWS_PER_STATEMENT = 500;

type Figures = { n: number; sum: number; min: number | null; max: number | null };

function emptyBucket(trackerSid: string, start: number): BucketRow {
  return {
    tracker_sid: trackerSid,
    bucket_start: start,
    events: 0,
    singles: 0,
    duration_n: 0,
    duration_sum: 0,
    duration_min: null,
    duration_max: null,
    price_n: 0,
    price_sum: 0,
    price_min: null,
    price_max: null,
    segments_n: 0,
    segments_sum: 0,
    segments_min: null,
    segments_max: null,
    message_segments_n: 0,
    message_segments_sum: 0,
    message_segments_min: null,
    message_segments_max: null,
  };
}

function add(b: BucketRow, m: Measure, v: number): void {
  const row = b as unknown as Record<string, number | null>;
  const f: Figures = {
    n: row[`${m}_n`] as number,
    sum: row[`${m}_sum`] as number,
    min: row[`${m}_min`] ?? null,
    max: row[`${m}_max`] ?? null,
  };
  row[`${m}_n`] = f.n + 1;
  row[`${m}_sum`] = f.sum + v;
  row[`${m}_min`] = f.min === null || v < f.min ? v : f.min;
  row[`${m}_max`] = f.max === null || v > f.max ? v : f.max;
}

export class TrackerCounter implements LogListener {
  private readonly db: Kysely<TrackingTables>;
  /** (tracker, interaction) pairs known to be stored: their inserts would change nothing. */
  private readonly followed = new Set<string>();
  /** Events counted by this node (a metric). */
  counted = 0;

  constructor(
    private readonly store: Store,
    private readonly registry: TrackerRegistry,
  ) {
    this.db = store.kysely<TrackingTables>();
  }

  statements(batch: readonly WrittenLogEvent[]): readonly Statement[] {
    const buckets = new Map<string, BucketRow>();
    const bins = new Map<string, BinRow>();
    const followed = new Map<string, FollowedRow>();
    for (const e of batch) {
      if (!e.accountSid || e.tags.length === 0) continue;
      const trackers = this.registry.of(e.accountSid);
      if (trackers.length === 0) continue;
      const start = e.occurredAt - (e.occurredAt % MINUTE);
      for (const t of trackers) {
        if (!follows(t, e)) continue;
        const key = t.sid + start;
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = emptyBucket(t.sid, start)));
        b.events++;
        if (e.interactionSid === e.sid) b.singles++;
        else {
          const pair = t.sid + e.interactionSid;
          if (!this.followed.has(pair) && !followed.has(pair))
            followed.set(pair, {
              tracker_sid: t.sid,
              interaction_sid: e.interactionSid,
              bucket_start: start,
            });
        }
        for (const m of t.measures) {
          const v = valueOf(m, e);
          if (v === undefined) continue;
          add(b, m, v);
          const bin = binOf(v);
          const binKey = `${key}|${m}|${bin}`;
          const r = bins.get(binKey);
          if (r) r.n++;
          else bins.set(binKey, { tracker_sid: t.sid, bucket_start: start, measure: m, bin, n: 1 });
        }
        this.counted++;
      }
    }
    if (buckets.size === 0) return [];
    const out: Statement[] = [];
    for (const part of chunks([...buckets.values()])) out.push(this.upsertBuckets(part));
    for (const part of chunks([...bins.values()])) out.push(this.upsertBins(part));
    for (const part of chunks([...followed.values()]))
      out.push(
        this.store.insertRows<FollowedRow>(
          'tracker_interactions',
          ['tracker_sid', 'interaction_sid', 'bucket_start'],
          part,
          ['tracker_sid', 'interaction_sid'],
        ),
      );
    return out;
  }

  /** Once the batch committed, its pairs are stored: later batches need not insert them. */
  committed(batch: readonly WrittenLogEvent[]): void {
    if (this.followed.size > 200_000) this.followed.clear();
    for (const e of batch) {
      if (!e.accountSid || e.interactionSid === e.sid) continue;
      for (const t of this.registry.of(e.accountSid))
        if (follows(t, e)) this.followed.add(t.sid + e.interactionSid);
    }
  }

  private upsertBuckets(rows: BucketRow[]): Statement {
    const least = leastOf(this.store.dialect);
    const greatest = greatestOf(this.store.dialect);
    return this.db
      .insertInto('tracker_buckets')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['tracker_sid', 'bucket_start']).doUpdateSet(() => {
          const set: Record<string, unknown> = {
            events: sql`tracker_buckets.events + excluded.events`,
            singles: sql`tracker_buckets.singles + excluded.singles`,
          };
          for (const m of ['duration', 'price', 'segments', 'message_segments']) {
            const mine = (s: string) => sql.ref(`tracker_buckets.${m}_${s}`);
            const theirs = (s: string) => sql.ref(`excluded.${m}_${s}`);
            set[`${m}_n`] = sql`${mine('n')} + ${theirs('n')}`;
            set[`${m}_sum`] = sql`${mine('sum')} + ${theirs('sum')}`;
            set[`${m}_min`] =
              sql`${least}(coalesce(${mine('min')}, ${theirs('min')}), coalesce(${theirs('min')}, ${mine('min')}))`;
            set[`${m}_max`] =
              sql`${greatest}(coalesce(${mine('max')}, ${theirs('max')}), coalesce(${theirs('max')}, ${mine('max')}))`;
          }
          return set as never;
        }),
      )
      .compile();
  }

  private upsertBins(rows: BinRow[]): Statement {
    return this.db
      .insertInto('tracker_bins')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['tracker_sid', 'bucket_start', 'measure', 'bin'])
          .doUpdateSet({ n: sql`tracker_bins.n + excluded.n` }),
      )
      .compile();
  }
}

function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    out.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

// SQLite's two-argument min()/max() are PostgreSQL's least()/greatest().
const leastOf = (d: Dialect) => sql.raw(d === 'sqlite' ? 'min' : 'least');
const greatestOf = (d: Dialect) => sql.raw(d === 'sqlite' ? 'max' : 'greatest');
