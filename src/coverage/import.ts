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
  const f = line.split(',');
  const rsrp = Number(f[c.rsrp]);
  if (!Number.isFinite(rsrp) || rsrp < -156 || rsrp > -31) return [];
  const mode = c.mode >= 0 ? (f[c.mode] ?? '').trim() : '';
  let cell: string;
  if (c.cell >= 0 && f[c.cell] && isValidCell(f[c.cell]!.trim())) cell = f[c.cell]!.trim();
  else {
    const lat = Number(f[c.lat]);
    const lng = Number(f[c.lng]);
    if (!onGlobe(lat, lng) || f[c.lat]?.trim() === '' || f[c.lng]?.trim() === '') return [];
    cell = cellOf(lat, lng);
  }
  return [{ cell, rsrp, degraded: isDegraded(mode) }];
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
): { samples: ProviderSample[]; bad: number } {
  const features = (doc as { type?: string; features?: unknown }).features;
  if ((doc as { type?: string }).type !== 'FeatureCollection' || !Array.isArray(features))
    throw new Error('GeoJSON coverage must be a FeatureCollection');
  const samples: ProviderSample[] = [];
  let bad = 0;
  for (const f of features as Feature[]) {
    const rsrp = Number(f.properties?.rsrp);
    const mode = f.properties?.network_mode;
    const degraded = typeof mode === 'string' && isDegraded(mode);
    if (!Number.isFinite(rsrp) || rsrp < -156 || rsrp > -31 || !f.geometry) {
      bad++;
      continue;
    }
    try {
      if (f.geometry.type === 'Point') {
        const [lng, lat] = f.geometry.coordinates as [number, number];
        if (!onGlobe(lat, lng)) throw new Error('off the globe');
        samples.push({ cell: cellOf(lat, lng), rsrp, degraded });
      } else if (f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon') {
        const polys =
          f.geometry.type === 'Polygon'
            ? [f.geometry.coordinates as number[][][]]
            : (f.geometry.coordinates as number[][][][]);
        for (const p of polys)
          for (const cell of polygonToCells(p, resolution, true))
            samples.push({ cell, rsrp, degraded });
      } else bad++;
    } catch {
      bad++;
    }
  }
  return { samples, bad };
}
