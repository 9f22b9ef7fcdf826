// Provider coverage data: CSV rows (latitude,longitude,rsrp[,network_mode] or cell,rsrp) and
// GeoJSON features (Points, or Polygons filled with H3 cells) carrying an `rsrp` property.
// Each becomes provider samples on the map; bad rows are counted and skipped, not fatal.
import { polygonToCells, isValidCell } from 'h3-js';
import { onGlobe } from './geo.js';
import { isDegraded } from './reports.js';

export interface ProviderSample {
  readonly cell: string;
  readonly rsrp: number;
  readonly degraded: boolean;
}

export interface CsvColumns {
  lat: number;
  lng: number;
  cell: number;
  rsrp: number;
  mode: number;
}

/** The columns of a provider CSV's header line. */
export function csvColumns(header: string): CsvColumns {
  const h = header.split(',').map((x) => x.trim().toLowerCase());
  const find = (...names: string[]) => h.findIndex((x) => names.includes(x));
  const c = {
    lat: find('latitude', 'lat'),
    lng: find('longitude', 'lng', 'lon'),
    cell: find('cell', 'h3', 'h3_cell'),
    rsrp: find('rsrp', 'rsrp_dbm'),
    mode: find('network_mode', 'networkmode', 'mode'),
  };
  if (c.rsrp < 0 || (c.cell < 0 && (c.lat < 0 || c.lng < 0)))
    throw new Error('a coverage CSV needs an rsrp column and latitude/longitude or cell columns');
  return c;
}

/** One CSV line as samples (none when the line is bad). */
export function csvSamples(
  line: string,
  c: CsvColumns,
  cellOf: (lat: number, lng: number) => string,
): ProviderSample[] {
  const r = csvRow(line, c, cellOf);
  return typeof r === 'string' ? [] : [r];
}

/** One CSV line as a sample, or why it is not one (for the CLI's per-line errors). */
export function csvRow(
  line: string,
  c: CsvColumns,
  cellOf: (lat: number, lng: number) => string,
): ProviderSample | string {
  const f = line.split(',');
  const rawRsrp = (f[c.rsrp] ?? '').trim();
  const rsrp = Number(rawRsrp);
  if (rawRsrp === '' || !Number.isFinite(rsrp)) return `rsrp ${quote(rawRsrp)} is not a number`;
  if (rsrp < -156 || rsrp > -31) return `rsrp ${rsrp} is outside -156…-31 dBm`;
  const mode = c.mode >= 0 ? (f[c.mode] ?? '').trim() : '';
  const rawCell = c.cell >= 0 ? (f[c.cell] ?? '').trim() : '';
  if (rawCell && isValidCell(rawCell)) return { cell: rawCell, rsrp, degraded: isDegraded(mode) };
  if (c.lat < 0 || c.lng < 0) return `cell ${quote(rawCell)} is not an H3 cell index`;
  const rawLat = (f[c.lat] ?? '').trim();
  const rawLng = (f[c.lng] ?? '').trim();
  const lat = Number(rawLat);
  const lng = Number(rawLng);
  if (rawLat === '' || rawLng === '' || !onGlobe(lat, lng))
    return `position ${quote(rawLat)},${quote(rawLng)} is not on the globe`;
  return { cell: cellOf(lat, lng), rsrp, degraded: isDegraded(mode) };
}

function quote(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

interface Feature {
  geometry?: { type?: string; coordinates?: unknown } | null;
  properties?: Record<string, unknown> | null;
}

/** A GeoJSON FeatureCollection's samples; `bad` counts the features skipped. */
export function geojsonSamples(
  doc: unknown,
  resolution: number,
  cellOf: (lat: number, lng: number) => string,
  onBad?: (index: number, reason: string) => void,
): { samples: ProviderSample[]; bad: number } {
  const features = (doc as { type?: string; features?: unknown }).features;
  if ((doc as { type?: string }).type !== 'FeatureCollection' || !Array.isArray(features))
    throw new Error('GeoJSON coverage must be a FeatureCollection');
  const samples: ProviderSample[] = [];
  let bad = 0;
  (features as Feature[]).forEach((f, i) => {
    const r = featureSamples(f, resolution, cellOf);
    if (typeof r === 'string') {
      bad++;
      onBad?.(i, r);
    } else for (const x of r) samples.push(x);
  });
  return { samples, bad };
}

/** One feature's samples, or why it has none. */
function featureSamples(
  f: Feature,
  resolution: number,
  cellOf: (lat: number, lng: number) => string,
): ProviderSample[] | string {
  const rsrp = Number(f?.properties?.rsrp);
  const mode = f?.properties?.network_mode;
  const degraded = typeof mode === 'string' && isDegraded(mode);
  if (!Number.isFinite(rsrp) || rsrp < -156 || rsrp > -31)
    return 'properties.rsrp must be a number in -156…-31 dBm';
  if (!f.geometry) return 'no geometry';
  try {
    if (f.geometry.type === 'Point') {
      const [lng, lat] = f.geometry.coordinates as [number, number];
      if (!onGlobe(lat, lng)) return 'the point is not on the globe';
      return [{ cell: cellOf(lat, lng), rsrp, degraded }];
    }
    if (f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon') {
      const polys =
        f.geometry.type === 'Polygon'
          ? [f.geometry.coordinates as number[][][]]
          : (f.geometry.coordinates as number[][][][]);
      const out: ProviderSample[] = [];
      for (const p of polys)
        for (const cell of polygonToCells(p, resolution, true)) out.push({ cell, rsrp, degraded });
      return out;
    }
    return `geometry type ${String(f.geometry.type)} is not Point, Polygon or MultiPolygon`;
  } catch {
    return 'the geometry is malformed';
  }
}
