// The crowd history shared by every node. A node writes the samples it takes to the store
// (every flush), and builds its in-memory history (history.ts, the predictor's) only from what
// the store holds, every node's samples alike, so that every node predicts from the same
// crowd. A device's reports may reach different nodes, whose writes land in any order: a
// sample goes into the history only once it has settled (written SETTLE_MS ago), by which time
// every node has written the samples it took with it, and then in time order. At start, a
// node (a restart, a new one) reads the recent samples of all.
import type { Logger } from '../core/index.js';
import type { Kysely, Store } from '../store/index.js';
import type { PathHistory } from './history.js';
import type { CoverageTables, TrackPointRow } from './tables.js';

export type TrackPoint = Omit<TrackPointRow, 'node_id' | 'written_at'>;

const COLUMNS = [
  'device',
  'network',
  't',
  'cell',
  'sector',
  'speed',
  'rsrp',
  'node_id',
  'written_at',
] as const satisfies readonly (keyof TrackPointRow)[];

/** Points read per query. */
const PAGE = 20_000;
/** Rows another node wrote this long before our last look may commit after it (clock skew, slow commits). */
const SLACK_MS = 10_000;
/**
 * A sample goes into the history once it was written this long ago: every node flushes every
 * 2 s, so the samples other nodes took at the same time are written by then.
 */
const SETTLE_MS = 6_000;

export interface SharedHistoryOptions {
  /** Samples older than this are not loaded at start, and are deleted (ms; default 30 days). */
  readonly keepMs?: number;
  /** Most samples loaded at start (the newest). */
  readonly maxLoad?: number;
}

export class SharedHistory {
  private readonly db: Kysely<CoverageTables>;
  private pending: TrackPoint[] = [];
  /** The newest written_at read so far. */
  private seenUpTo = 0;
  /** The last written_at this node used: each chunk gets a later one. */
  private lastWritten = 0;
  /** Samples read, by `device|t`, with when they were written: a second read is skipped. */
  private readonly seen = new Map<string, number>();
  /** Samples read but not yet settled. */
  private unsettled: TrackPointRow[] = [];
  private readonly keepMs: number;
  private readonly maxLoad: number;

  constructor(
    private readonly store: Store,
    private readonly nodeId: string,
    private readonly history: PathHistory,
    private readonly logger: Logger,
    options: SharedHistoryOptions = {},
  ) {
    this.db = store.kysely<CoverageTables>();
    this.keepMs = options.keepMs ?? 30 * 86_400_000;
    this.maxLoad = options.maxLoad ?? 500_000;
  }

  /** A sample this node took: written at the next flush, in the history once read back. */
  record(p: TrackPoint): void {
    this.pending.push(p);
  }

  /** Writes the samples taken since the last flush (a sample already written is left as is). */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const points = this.pending;
    this.pending = [];
    try {
      for (let i = 0; i < points.length; i += 2000) {
        // Each chunk a written_at of its own, so a reader's page never ends inside a long run.
        const now = (this.lastWritten = Math.max(Date.now(), this.lastWritten + 1));
        const rows = points
          .slice(i, i + 2000)
          .map((p): TrackPointRow => ({ ...p, node_id: this.nodeId, written_at: now }));
        await this.store.commit([
          this.store.insertRows('coverage_track_points', COLUMNS, rows, ['device', 't']),
        ]);
      }
    } catch (err) {
      this.pending = points.concat(this.pending);
      throw err;
    }
  }

  /**
   * At start: the samples of every node within the kept span (the newest, at most maxLoad),
   * and old ones deleted. Returns how many went into the history.
   */
  async loadRecent(now = Date.now()): Promise<number> {
    await this.db
      .deleteFrom('coverage_track_points')
      .where('t', '<', now - this.keepMs)
      .execute();
    const rows = await this.db
      .selectFrom('coverage_track_points')
      .selectAll()
      .where('t', '>=', now - this.keepMs)
      .orderBy('t', 'desc')
      .limit(this.maxLoad)
      .execute();
    this.take(rows);
    return this.settle(now);
  }

  /** The samples written since the last look, by any node. Returns how many went in. */
  async loadNew(now = Date.now()): Promise<number> {
    let since = this.seenUpTo - SLACK_MS;
    for (let pages = 0; pages < 100; pages++) {
      const rows = await this.db
        .selectFrom('coverage_track_points')
        .selectAll()
        .where('written_at', '>', since)
        .orderBy('written_at')
        .limit(PAGE)
        .execute();
      this.take(rows);
      if (rows.length < PAGE) break;
      // Chunks carry distinct written_at values (flush), so the next page moves on.
      const newest = Number(rows.at(-1)!.written_at);
      if (newest - 1 <= since) break;
      since = newest - 1;
    }
    return this.settle(now);
  }

  /** Keeps the rows not seen before as unsettled; returns how many. */
  private take(rows: readonly TrackPointRow[]): number {
    let fresh = 0;
    for (const r of rows) {
      const written = Number(r.written_at);
      this.seenUpTo = Math.max(this.seenUpTo, written);
      const key = `${r.device}|${Number(r.t)}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, written);
      this.unsettled.push(r);
      fresh++;
    }
    // What was written before the slack ends is not read again: forget it.
    const floor = this.seenUpTo - 2 * SLACK_MS;
    if (this.seen.size > 10_000) for (const [k, w] of this.seen) if (w < floor) this.seen.delete(k);
    return fresh;
  }

  /**
   * Puts the settled samples into the history in time order; returns how many went in. A
   * device's settled sample waits while one of its earlier samples has not settled (another
   * node wrote it later).
   */
  private settle(now: number): number {
    const cut = now - SETTLE_MS;
    const waitFrom = new Map<string, number>();
    for (const r of this.unsettled)
      if (Number(r.written_at) > cut)
        waitFrom.set(r.device, Math.min(waitFrom.get(r.device) ?? Infinity, Number(r.t)));
    const ready: TrackPointRow[] = [];
    const rest: TrackPointRow[] = [];
    for (const r of this.unsettled)
      (Number(r.t) < (waitFrom.get(r.device) ?? Infinity) ? ready : rest).push(r);
    if (!ready.length) return 0;
    this.unsettled = rest;
    ready.sort((a, b) => Number(a.t) - Number(b.t));
    const added = this.apply(ready);
    if (added < ready.length)
      this.logger.debug({ late: ready.length - added }, 'crowd history: late samples left out');
    return added;
  }

  private apply(rows: readonly TrackPointRow[]): number {
    let added = 0;
    for (const r of rows)
      if (
        this.history.addShared(
          r.device,
          r.network,
          Number(r.t),
          r.cell,
          Number(r.sector),
          Number(r.speed),
          Number(r.rsrp),
        )
      )
        added++;
    return added;
  }
}
