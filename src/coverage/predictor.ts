// The short-horizon prediction: will a device in motion enter poor coverage within the
// horizon? Two estimates are blended:
// - the crowd: the devices that passed through the same H3 cell in the same heading sector,
//   weighted by how alike they were (RSRP there, speed) and, given a planned route, by how
//   much of their next stretch followed it — the share of them that met poor coverage within
//   the horizon (scaled by the speed ratio), with when and for how long;
// - the map along the expected path (dead reckoning from position, speed and heading, or the
//   planned route): the chance that some cell on it is poor, as a prior worth PRIOR_WEIGHT
//   passes.
import { destination, distanceM, type LatLng } from './geo.js';
import { sectorOf, SECTORS, type PathHistory } from './history.js';
import type { CoverageMap } from './map.js';

export interface MotionInput {
  readonly device: string;
  readonly network: string;
  readonly t: number;
  readonly lat: number;
  readonly lng: number;
  /** m/s */
  readonly speed: number;
  /** Degrees from north; NaN when unknown. */
  readonly heading: number;
  /** The device's RSRP now (dBm), when it reported one. */
  readonly rsrp: number | null;
  /** Change of the device's RSRP over the last TREND_S seconds, dB (when known). */
  readonly rsrpChange?: number | null | undefined;
  /** The planned route ahead, as positions in order. */
  readonly route?: readonly RoutePoint[] | undefined;
}

/** A point of a planned route, with its expected time (epoch ms) when the planner gives one. */
export interface RoutePoint extends LatLng {
  readonly t?: number | undefined;
}

export interface PredictOptions {
  readonly threshold: number;
  readonly horizonS: number;
  /** Alert when the probability reaches this. */
  readonly alertAt?: number;
}

export interface Prediction {
  readonly poorAhead: boolean;
  readonly probability: number;
  /** Expected seconds until entry (when poorAhead). */
  readonly entryInS: number | null;
  /** Expected seconds inside the poor stretch. */
  readonly durationS: number | null;
  /** 0–1: how much evidence backs the probability (crowd passes against the prior). */
  readonly confidence: number;
  /** Crowd passes that informed it. */
  readonly passes: number;
  /** The cells the path is expected to cross within the horizon. */
  readonly path: readonly string[];
}

/** Default alert level: F1-optimal cut-offs of calibrated probabilities sit below one half. */
export const ALERT_AT = 0.35;
const PRIOR_WEIGHT = 1.5;
const RSRP_SIGMA = 5;
const ROUTE_MIN_SPEED = 4;
/** The RSRP trend compared with the crowd's: change over this many seconds, dB. */
export const TREND_S = 5;
const TREND_SIGMA = 5;
const MAX_PASSES = 600;
/** How much of the difference between cells' mean RSRP a device is expected to see. */
const RELATIVE = 0.8;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Cells the device is expected to cross within `horizonS` (route or dead reckoning). */
export function expectedPath(map: CoverageMap, m: MotionInput, horizonS: number): string[] {
  // A planned route is walked at the device's speed, or at a slow urban pace while it stands
  // (at lights it will move on along the route).
  const reach =
    (m.route && m.route.length > 0 ? Math.max(m.speed, ROUTE_MIN_SPEED) : Math.max(m.speed, 0)) *
    horizonS;
  const cells: string[] = [map.cellOf(m.lat, m.lng)];
  const push = (p: LatLng) => {
    const c = map.cellOf(p.lat, p.lng);
    if (cells[cells.length - 1] !== c && !cells.includes(c)) cells.push(c);
  };
  if (m.route && m.route.length > 0) {
    let walked = 0;
    let prev: LatLng = m;
    for (const p of m.route) {
      // A timed route says where the device will be within the horizon.
      if (p.t !== undefined && p.t > m.t + horizonS * 1000) break;
      const d = distanceM(prev, p);
      // Walk each leg in steps smaller than a cell so none is skipped.
      const steps = Math.max(1, Math.ceil(d / 60));
      for (let s = 1; s <= steps && (p.t !== undefined || walked + (d * s) / steps <= reach); s++) {
        const f = s / steps;
        push({ lat: prev.lat + (p.lat - prev.lat) * f, lng: prev.lng + (p.lng - prev.lng) * f });
      }
      walked += d;
      if (p.t === undefined && walked > reach) break;
      prev = p;
    }
    return cells;
  }
  if (!Number.isFinite(m.heading) || reach < 1) return cells;
  for (let d = 60; d <= reach; d += 60) push(destination(m, m.heading, d));
  return cells;
}

export class Predictor {
  constructor(
    private readonly map: CoverageMap,
    private readonly history: PathHistory,
  ) {}

  predict(m: MotionInput, o: PredictOptions): Prediction {
    const { threshold, horizonS } = o;
    const path = expectedPath(this.map, m, horizonS);
    // The map's prior. With the device's RSRP: each cell ahead shifts it by the difference of
    // the cells' means (device offsets cancel), its spread the cell's; without: the cells'
    // shares of poor samples. Cells are taken as independent, each capped (they correlate).
    const here = this.map.view(m.network, path[0]!, threshold);
    let good = 1;
    let known = 0;
    for (const c of path) {
      const v = c === path[0] ? here : this.map.view(m.network, c, threshold);
      if (v.poorProbability === null || v.meanRsrp === null) continue;
      known++;
      let p = v.poorProbability;
      if (m.rsrp !== null && here.meanRsrp !== null) {
        const expected = m.rsrp + RELATIVE * (v.meanRsrp - here.meanRsrp);
        const sd = Math.sqrt((v.stdRsrp ?? 6) ** 2 * 0.5 + 9);
        p = normalCdf((threshold - expected) / sd);
      }
      good *= 1 - Math.min(0.9, p);
    }
    const prior = known > 0 ? 1 - good : 0.05;

    const routeCells = m.route ? new Set(path) : undefined;
    const cell = path[0]!;
    const sector = sectorOf(m.heading, m.speed);
    let w = 0;
    let wy = 0;
    let wEntry = 0;
    let wSpell = 0;
    let passes = 0;
    const sectors =
      sector < 0
        ? [...Array(SECTORS).keys(), -1]
        : [sector, (sector + 1) % SECTORS, (sector + SECTORS - 1) % SECTORS];
    for (const s of sectors) {
      const list = this.history.passes(m.network, cell, s);
      const sw = s === sector || sector < 0 ? 1 : 0.4;
      for (let k = list.length - 2; k >= 0 && passes < MAX_PASSES; k -= 2) {
        const track = this.history.track(list[k]!);
        if (track.device === m.device) continue;
        const i = list[k + 1]!;
        const vk = track.speed[i]!;
        const scale = m.speed > 1 && vk > 1 ? Math.min(2, Math.max(0.5, m.speed / vk)) : 1;
        const h = horizonS / scale;
        const out = this.history.outcomes(track, threshold);
        const toPoor = out.toPoor[i]!;
        const remaining = (track.t[track.t.length - 1]! - track.t[i]!) / 1000;
        // Censored: the track ended before the horizon without meeting poor coverage.
        if (toPoor > h && remaining < h) continue;
        let wk = sw;
        if (m.rsrp !== null) wk *= Math.exp(-0.5 * ((m.rsrp - track.rsrp[i]!) / RSRP_SIGMA) ** 2);
        if (m.rsrpChange !== null && m.rsrpChange !== undefined && i >= TREND_S) {
          const j = i - TREND_S;
          if (track.t[i]! - track.t[j]! <= (TREND_S + 2) * 1000) {
            const change = track.rsrp[i]! - track.rsrp[j]!;
            wk *= Math.exp(-0.5 * ((m.rsrpChange - change) / TREND_SIGMA) ** 2);
          }
        }
        wk *= Math.exp(-0.5 * ((m.speed - vk) / 8) ** 2);
        if (routeCells) {
          // How much of this pass's next stretch stayed on the planned route.
          let on = 0;
          let all = 0;
          const end = track.t[i]! + h * 1000;
          for (let j = i + 1; j < track.t.length && track.t[j]! <= end; j += 3) {
            all++;
            if (routeCells.has(track.cells[j]!)) on++;
          }
          wk *= all === 0 ? 0.5 : (0.05 + on / all) ** 4;
        }
        if (wk < 1e-4) continue;
        passes++;
        w += wk;
        if (toPoor > 0 && toPoor <= h) {
          wy += wk;
          wEntry += wk * toPoor * scale;
          wSpell += wk * out.spell[i]! * scale;
        }
      }
    }
    const priorWeight = PRIOR_WEIGHT * (routeCells ? 2 : 1);
    // The device's own margin: far above the threshold, poor coverage within the horizon is
    // rarer than the cells' shares say (they mix all the devices that passed).
    const probability = (wy + priorWeight * prior) / (w + priorWeight);
    const alertAt = o.alertAt ?? ALERT_AT;
    const poorAhead = probability >= alertAt;
    return {
      poorAhead,
      probability,
      entryInS: wy > 0 ? wEntry / wy : poorAhead ? horizonS / 2 : null,
      durationS: wy > 0 ? wSpell / wy : null,
      confidence: w / (w + priorWeight),
      passes,
      path,
    };
  }
}
