// Drive-test traces as CSV: the columns of the UCC 5G production dataset (Timestamp
// YYYY.MM.DD_hh.mm.ss, Longitude, Latitude, Speed km/h, NetworkMode, RSRP, RSRQ, SNR,
// DL_bitrate kbps …) or ISO 8601 times. Used by `switchboard coverage replay` and the bench.
import { bearingDeg, distanceM, onGlobe } from './geo.js';

export interface TraceSample {
  /** Epoch ms. */
  readonly t: number;
  readonly lat: number;
  readonly lng: number;
  /** m/s */
  readonly speed: number;
  /** Degrees from north, from the previous position (NaN when standing). */
  readonly heading: number;
  readonly rsrp: number | null;
  readonly rsrq: number | null;
  readonly sinr: number | null;
  readonly mode: string;
  readonly dlKbps: number | null;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '' || v === '-') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function parseTime(v: string): number {
  const m = /^(\d{4})\.(\d{2})\.(\d{2})_(\d{2})\.(\d{2})\.(\d{2})$/.exec(v);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Date.parse(v);
}

/**
 * Parses a trace; one sample per second (the last row of a repeated timestamp wins, as the
 * logger rewrote rows within a second), rows without a position dropped. Headings come from
 * successive positions, kept while the device stands still.
 */
export function parseTrace(csv: string): TraceSample[] {
  const lines = csv.split(/\r?\n/);
  const head = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = (name: string) => head.indexOf(name);
  const c = {
    t: col('Timestamp'),
    lng: col('Longitude'),
    lat: col('Latitude'),
    speed: col('Speed'),
    mode: col('NetworkMode'),
    rsrp: col('RSRP'),
    rsrq: col('RSRQ'),
    sinr: col('SNR'),
    dl: col('DL_bitrate'),
  };
  if (c.t < 0 || c.lat < 0 || c.lng < 0)
    throw new Error('trace needs Timestamp, Latitude and Longitude columns');
  const bySecond = new Map<number, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const f = line.split(',');
    const t = parseTime(f[c.t] ?? '');
    if (Number.isNaN(t)) continue;
    bySecond.set(t, f);
  }
  const out: TraceSample[] = [];
  let heading = Number.NaN;
  for (const [t, f] of [...bySecond.entries()].sort((a, b) => a[0] - b[0])) {
    const lat = num(f[c.lat]);
    const lng = num(f[c.lng]);
    if (lat === null || lng === null || !onGlobe(lat, lng) || (lat === 0 && lng === 0)) continue;
    const prev = out.at(-1);
    if (prev && distanceM(prev, { lat, lng }) > 2) heading = bearingDeg(prev, { lat, lng });
    out.push({
      t,
      lat,
      lng,
      speed: (num(f[c.speed]) ?? 0) / 3.6,
      heading,
      rsrp: num(f[c.rsrp]),
      rsrq: num(f[c.rsrq]),
      sinr: num(f[c.sinr]),
      mode: f[c.mode] ?? '',
      dlKbps: num(f[c.dl]),
    });
  }
  return out;
}
