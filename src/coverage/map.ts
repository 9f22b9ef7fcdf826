// The coverage map of each network over H3 cells: per cell a histogram of RSRP samples (2 dB
// bins), so that "poor" can be asked at any threshold, with exponential time decay (older
// samples weigh less; the decay is applied lazily when a cell is touched). Provider data and
// device reports are kept apart and blended at query time: a provider's prediction is a prior
// worth PROVIDER_PRIOR device samples.
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js';

export const BIN_DB = 2;
export const BIN_MIN = -140;
export const BINS = 48; // -140 … -44 dBm
export const PROVIDER_PRIOR = 3;

export type Source = 'device' | 'provider';

export interface CellStats {
  /** Decayed weight of the samples per bin, as of `t`. */
  readonly bins: Float64Array;
  weight: number;
  rsrpSum: number;
  samples: number;
  /** Share of 3G-or-worse samples (decayed weight). */
  degradedWeight: number;
  t: number;
}

export interface CellView {
  readonly cell: string;
  readonly networkSid: string;
  readonly samples: number;
  readonly weight: number;
  readonly meanRsrp: number | null;
  /** Standard deviation of the RSRP samples (from the histogram), dB. */
  readonly stdRsrp: number | null;
  /** Probability that a sample here is poor at the threshold asked. */
  readonly poorProbability: number | null;
  readonly degradedShare: number;
}

export function binOf(rsrp: number): number {
  return Math.max(0, Math.min(BINS - 1, Math.floor((rsrp - BIN_MIN) / BIN_DB)));
}

export class CoverageMap {
  /** network → source → cell → stats */
  private readonly nets = new Map<string, Map<Source, Map<string, CellStats>>>();
  readonly dirty = new Set<string>();

  constructor(
    /** H3 resolution of the cells (9: about 0.1 km² each). */
    readonly resolution = 9,
    /** Half-life of a sample's weight, ms. */
    readonly halfLifeMs = 14 * 86_400_000,
  ) {}

  cellOf(lat: number, lng: number): string {
    return latLngToCell(lat, lng, this.resolution);
  }

  private cells(network: string, source: Source): Map<string, CellStats> {
    let bySource = this.nets.get(network);
    if (!bySource) this.nets.set(network, (bySource = new Map()));
    let cells = bySource.get(source);
    if (!cells) bySource.set(source, (cells = new Map()));
    return cells;
  }

  private decay(s: CellStats, now: number): void {
    if (now <= s.t) return;
    const f = Math.pow(0.5, (now - s.t) / this.halfLifeMs);
    if (f < 0.999999) {
      for (let i = 0; i < BINS; i++) s.bins[i]! *= f;
      s.weight *= f;
      s.rsrpSum *= f;
      s.degradedWeight *= f;
    }
    s.t = now;
  }

  /** Adds one RSRP sample (weight w) to a cell. */
  add(
    network: string,
    source: Source,
    cell: string,
    rsrp: number,
    at: number,
    degraded = false,
    w = 1,
  ): void {
    const cells = this.cells(network, source);
    let s = cells.get(cell);
    if (!s) {
      s = {
        bins: new Float64Array(BINS),
        weight: 0,
        rsrpSum: 0,
        samples: 0,
        degradedWeight: 0,
        t: at,
      };
      cells.set(cell, s);
    }
    this.decay(s, at);
    // A sample older than the cell's state counts as much as its age allows.
    const age = s.t - at;
    const wt = age > 0 ? w * Math.pow(0.5, age / this.halfLifeMs) : w;
    s.bins[binOf(rsrp)]! += wt;
    s.weight += wt;
    s.rsrpSum += wt * rsrp;
    if (degraded) s.degradedWeight += wt;
    s.samples += 1;
    this.dirty.add(`${network}|${source}|${cell}`);
  }

  stats(network: string, source: Source, cell: string): CellStats | undefined {
    return this.nets.get(network)?.get(source)?.get(cell);
  }

  /** Adds another state of a cell (an import's) to this one's, both decayed to the later time. */
  merge(network: string, source: Source, cell: string, other: CellStats): void {
    const mine = this.stats(network, source, cell);
    if (!mine) {
      this.load(network, source, cell, { ...other, bins: Float64Array.from(other.bins) });
    } else {
      const o = { ...other, bins: Float64Array.from(other.bins) };
      const t = Math.max(mine.t, o.t);
      this.decay(mine, t);
      this.decay(o, t);
      for (let i = 0; i < BINS; i++) mine.bins[i]! += o.bins[i]!;
      mine.weight += o.weight;
      mine.rsrpSum += o.rsrpSum;
      mine.degradedWeight += o.degradedWeight;
      mine.samples += o.samples;
    }
    this.dirty.add(`${network}|${source}|${cell}`);
  }

  /** Replaces a cell's state (loading from the store). */
  load(network: string, source: Source, cell: string, s: CellStats): void {
    this.cells(network, source).set(cell, s);
  }

  networks(): string[] {
    return [...this.nets.keys()];
  }

  /** Every cell of a network that has data from either source. */
  cellIds(network: string): string[] {
    const out = new Set<string>();
    for (const cells of this.nets.get(network)?.values() ?? [])
      for (const c of cells.keys()) out.add(c);
    return [...out];
  }

  /** Probability that a sample in the cell is at or below `threshold` (blended sources). */
  poorProbability(network: string, cell: string, threshold: number): number | null {
    return this.view(network, cell, threshold).poorProbability;
  }

  view(network: string, cell: string, threshold: number): CellView {
    const dev = this.nets.get(network)?.get('device')?.get(cell);
    const prov = this.nets.get(network)?.get('provider')?.get(cell);
    const cut = binOf(threshold);
    // Bin `cut` straddles the threshold: count the part of it below.
    const partial = (threshold - (BIN_MIN + cut * BIN_DB)) / BIN_DB;
    const below = (s: CellStats) => {
      let sum = 0;
      for (let i = 0; i < cut; i++) sum += s.bins[i]!;
      return sum + s.bins[cut]! * Math.min(1, Math.max(0, partial + 0.5 / BIN_DB));
    };
    let w = 0;
    let poor = 0;
    let rsrp = 0;
    let degraded = 0;
    let samples = 0;
    let sq = 0;
    const moment = (st: CellStats, k: number) => {
      let m2 = 0;
      for (let i = 0; i < BINS; i++) {
        const c = BIN_MIN + (i + 0.5) * BIN_DB;
        m2 += st.bins[i]! * c * c;
      }
      return m2 * k;
    };
    if (dev && dev.weight > 0) {
      sq += moment(dev, 1);
      w += dev.weight;
      poor += below(dev);
      rsrp += dev.rsrpSum;
      degraded += dev.degradedWeight;
      samples += dev.samples;
    }
    if (prov && prov.weight > 0) {
      const k = PROVIDER_PRIOR / prov.weight;
      sq += moment(prov, k);
      w += PROVIDER_PRIOR;
      poor += below(prov) * k;
      rsrp += prov.rsrpSum * k;
      degraded += prov.degradedWeight * k;
      samples += prov.samples;
    }
    return {
      cell,
      networkSid: network,
      samples,
      weight: w,
      meanRsrp: w > 0 ? rsrp / w : null,
      stdRsrp: w > 0 ? Math.sqrt(Math.max(1, sq / w - (rsrp / w) ** 2)) : null,
      poorProbability: w > 0 ? poor / w : null,
      degradedShare: w > 0 ? degraded / w : 0,
    };
  }
}

export function cellCentre(cell: string): { lat: number; lng: number } {
  const [lat, lng] = cellToLatLng(cell);
  return { lat, lng };
}

/** The cell's outline as a GeoJSON ring ([lng, lat], closed). */
export function cellRing(cell: string): [number, number][] {
  const ring = cellToBoundary(cell, true) as [number, number][];
  return [...ring, ring[0]!];
}
