// The coverage map kept in memory for the predictor's hot path, persisted to the store: cells
// touched by reports or imports are written every few seconds (and at stop), and every node
// loads the table at start and re-reads cells written since its last look (imports made by
// the CLI or by another node).
import { sql } from 'kysely';
import type { Logger } from '../core/index.js';
import type { Kysely, Store } from '../store/index.js';
import { bearingDeg, distanceM } from './geo.js';
import { PathHistory, sectorOf } from './history.js';
import type { ProviderSample } from './import.js';
import { BINS, CoverageMap, type CellStats, type Source } from './map.js';
import { Predictor } from './predictor.js';
import { isDegraded, type QualityReport } from './reports.js';
import { SharedHistory } from './shared-history.js';
import type { CellRow, CoverageTables } from './tables.js';

const FLUSH_MS = 2000;

export class CoverageService {
  readonly map = new CoverageMap();
  readonly history = new PathHistory();
  readonly predictor = new Predictor(this.map, this.history);
  private readonly db: Kysely<CoverageTables>;
  private timer: NodeJS.Timeout | undefined;
  private loadedUpTo = 0;
  private flushing: Promise<void> | undefined;
  private readonly shared: SharedHistory;
  private historyLoaded = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    nodeId: string,
  ) {
    this.db = store.kysely<CoverageTables>();
    this.shared = new SharedHistory(store, nodeId, this.history, logger);
  }

  /**
   * Loads the cells written since the last look (all of them the first time), and the crowd
   * history's samples: the recent ones the first time, then those written since.
   */
  async load(): Promise<number> {
    if (this.historyLoaded) await this.shared.loadNew();
    else {
      const n = await this.shared.loadRecent();
      this.historyLoaded = true;
      if (n) this.logger.info({ samples: n }, 'crowd history loaded');
    }
    return this.loadCells();
  }

  private async loadCells(): Promise<number> {
    const since = this.loadedUpTo;
    const rows = await this.db
      .selectFrom('coverage_cells')
      .selectAll()
      .where('updated_at', '>', since)
      .execute();
    for (const r of rows) {
      const key = `${r.network_sid}|${r.source}|${r.cell}`;
      if (this.map.dirty.has(key)) continue; // ours is newer
      this.map.load(r.network_sid, r.source as Source, r.cell, rowStats(r));
      this.loadedUpTo = Math.max(this.loadedUpTo, Number(r.updated_at));
    }
    return rows.length;
  }

  start(): void {
    this.timer = setInterval(() => {
      void this.flush()
        .then(() => this.load())
        .catch((err: unknown) => this.logger.warn({ err }, 'coverage map flush failed; retried'));
    }, FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private readonly lastBySim = new Map<
    string,
    { t: number; lat: number; lng: number; heading: number }
  >();

  /**
   * Adds validated reports to the map, and to the path history with the heading and speed
   * their SIM's previous report gives.
   */
  ingest(reports: readonly QualityReport[]): void {
    for (const r of reports) {
      const cell = this.map.cellOf(r.lat, r.lng);
      this.map.add(r.network, 'device', cell, r.rsrp, r.t, isDegraded(r.mode));
      const prev = this.lastBySim.get(r.sim);
      if (prev && r.t < prev.t) continue;
      const dt = prev ? (r.t - prev.t) / 1000 : 0;
      const moved = prev ? distanceM(prev, r) : 0;
      const heading = prev && moved > 2 ? bearingDeg(prev, r) : (prev?.heading ?? Number.NaN);
      const speed = dt > 0 && dt < 30 ? moved / dt : 0;
      this.lastBySim.set(r.sim, { t: r.t, lat: r.lat, lng: r.lng, heading });
      if (this.lastBySim.size > 1_000_000) this.lastBySim.clear();
      this.keep(r.sim, r.network, r.t, cell, heading, speed, r.rsrp);
    }
  }

  private keep(
    sim: string,
    network: string,
    t: number,
    cell: string,
    heading: number,
    speed: number,
    rsrp: number,
  ): void {
    // Into the history once written and read back, as every node's samples (shared-history.ts).
    const sector = sectorOf(heading, speed);
    this.shared.record({ device: sim, network, t, cell, sector, speed, rsrp });
  }

  /** Adds a device's position sample to the path history (for the crowd's prediction). */
  remember(
    sim: string,
    network: string,
    t: number,
    cell: string,
    heading: number,
    speed: number,
    rsrp: number,
  ): void {
    this.keep(sim, network, t, cell, heading, speed, rsrp);
  }

  importSamples(network: string, samples: readonly ProviderSample[], at: number): void {
    for (const s of samples) this.map.add(network, 'provider', s.cell, s.rsrp, at, s.degraded);
  }

  /** Writes the cells touched since the last flush. */
  flush(): Promise<void> {
    this.flushing ??= this.writeDirty().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeDirty(): Promise<void> {
    await this.shared.flush();
    if (this.map.dirty.size === 0) return;
    const keys = [...this.map.dirty];
    this.map.dirty.clear();
    const now = Date.now();
    const rows: CellRow[] = [];
    for (const key of keys) {
      const [network, source, cell] = key.split('|') as [string, Source, string];
      const s = this.map.stats(network, source, cell);
      if (s) rows.push(statsRow(network, source, cell, s, now));
    }
    try {
      await writeCells(this.db, rows);
    } catch (err) {
      for (const k of keys) this.map.dirty.add(k);
      throw err;
    }
    this.loadedUpTo = Math.max(this.loadedUpTo, now);
  }

  get dialect(): string {
    return this.store.dialect;
  }
}

/** Upserts cell rows in chunks (last writer wins per cell). */
export async function writeCells(
  db: Kysely<CoverageTables>,
  rows: readonly CellRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await db
      .insertInto('coverage_cells')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['network_sid', 'cell', 'source']).doUpdateSet({
          weight: sql`excluded.weight`,
          rsrp_sum: sql`excluded.rsrp_sum`,
          poor_weight: sql`excluded.poor_weight`,
          samples: sql`excluded.samples`,
          updated_at: sql`excluded.updated_at`,
          bins: sql`excluded.bins`,
        }),
      )
      .execute();
  }
}

export function statsRow(
  network: string,
  source: Source,
  cell: string,
  s: CellStats,
  now: number,
): CellRow {
  return {
    network_sid: network,
    cell,
    source,
    weight: s.weight,
    rsrp_sum: s.rsrpSum,
    poor_weight: s.degradedWeight,
    samples: s.samples,
    updated_at: now,
    bins: JSON.stringify(Array.from(s.bins, (x) => Math.round(x * 1e4) / 1e4)),
  };
}

export function rowStats(r: CellRow): CellStats {
  const bins = new Float64Array(BINS);
  const parsed = r.bins ? (JSON.parse(r.bins) as number[]) : [];
  parsed.forEach((v, i) => {
    if (i < BINS) bins[i] = v;
  });
  return {
    bins,
    weight: Number(r.weight),
    rsrpSum: Number(r.rsrp_sum),
    samples: Number(r.samples),
    degradedWeight: Number(r.poor_weight),
    t: Number(r.updated_at),
  };
}
