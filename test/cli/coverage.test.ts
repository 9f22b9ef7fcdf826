// `switchboard coverage import` and `replay` as an operator runs them, on the database of a
// running platform (SQLite file, or its PostgreSQL schema): provider files good and hostile
// (bad rows with their line numbers, --strict, --max-errors, binary garbage, an empty file, an
// over-long line, broken GeoJSON, an unknown network), the imported cells reaching the running
// node's API, and a drive trace replayed through the predictor.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const files = mkdtempSync(join(tmpdir(), 'sb-cov-files-'));
let t: TestPlatform;
let network: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    SWITCHBOARD_DATA_DIR: t.config.dataDir,
    ...(t.config.databaseSchema ? { SWITCHBOARD_DATABASE_SCHEMA: t.config.databaseSchema } : {}),
    LOG_LEVEL: 'silent',
  };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'bin/switchboard.js'), ...args],
      { env, timeout: 60_000, maxBuffer: 16 << 20 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function file(name: string, content: string | Buffer): string {
  const path = join(files, name);
  writeFileSync(path, content);
  return path;
}

/** `name: value` lines of the CLI's summary. */
function figures(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
  );
}

async function cell(lat: number, lng: number) {
  const h3 = latLngToCell(lat, lng, 9);
  const res = await request(t, 'GET', `/coverage/v1/Networks/${network}/Cells/${h3}`);
  return res.json as { samples: number; mean_rsrp: number | null };
}

beforeAll(async () => {
  t = await startTestPlatform();
  const res = await request(
    t,
    'POST',
    '/coverage/v1/Networks',
    new URLSearchParams({ FriendlyName: 'Op', IsoCountry: 'IE', Mcc: '272', Mnc: '01' }).toString(),
  );
  network = res.json.sid as string;
});
afterAll(async () => {
  await t?.cleanup();
  rmSync(files, { recursive: true, force: true });
});

describe('switchboard coverage import', { timeout: 180_000 }, () => {
  it('imports a CSV, reports bad rows by line, and the running node serves the cells', async () => {
    const csv = file(
      'provider.csv',
      '\uFEFFlatitude,longitude,rsrp,network_mode\r\n' +
        '51.90,-8.47,-110,LTE\r\n' +
        '51.90,-8.47,abc,LTE\r\n' +
        '95.0,-8.47,-90,LTE\r\n' +
        '\r\n' +
        '51.90,-8.47,-108,LTE\r\n' +
        '51.91,-8.48,-20,LTE\r\n',
    );
    const r = await cli('coverage', 'import', csv, '--network', network);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('line 3: rsrp "abc" is not a number');
    expect(r.stderr).toContain('line 4: position "95.0","-8.47" is not on the globe');
    expect(r.stderr).toContain('line 7: rsrp -20 is outside');
    expect(figures(r.stdout)).toMatchObject({
      format: 'csv',
      rows: '5',
      'bad rows': '3',
      samples: '2',
      'cells written': '1',
    });
    // The running node reads cells written since its last look (every 2 s).
    const c = await until('the node serves the imported cell', async () => {
      const v = await cell(51.9, -8.47);
      return v.mean_rsrp !== null && v;
    });
    expect(c.mean_rsrp).toBeCloseTo(-109, 0);
  });

  it('stops at the first bad row with --strict, and past --max-errors, writing nothing', async () => {
    const rows = ['lat,lng,rsrp', '51.80,-8.40,-100', '51.80,-8.40,x', '51.80,-8.40,-100'];
    const strict = await cli(
      'coverage',
      'import',
      file('strict.csv', rows.join('\n')),
      '--network',
      network,
      '--strict',
    );
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('line 3: rsrp "x" is not a number');
    expect(strict.stderr).toContain('nothing written');
    const garbage = ['lat,lng,rsrp', ...Array.from({ length: 20 }, (_, i) => `a${i},b,c`)];
    const many = await cli(
      'coverage',
      'import',
      file('many.csv', ['lat,lng,rsrp', '51.80,-8.40,-100', ...garbage.slice(1)].join('\n')),
      '--network',
      network,
      '--max-errors',
      '5',
    );
    expect(many.code).toBe(1);
    expect(many.stderr).toContain('more than 5 bad rows');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await cell(51.8, -8.4)).samples).toBe(0);
  });

  it('refuses garbage, empty files, unknown networks and missing files clearly', async () => {
    const binary = await cli(
      'coverage',
      'import',
      file('garbage.csv', randomBytes(200_000)),
      '--network',
      network,
    );
    expect(binary.code).toBe(1);
    expect(binary.stderr).toMatch(/line 1: a coverage CSV needs an rsrp column/);
    const empty = await cli('coverage', 'import', file('empty.csv', ''), '--network', network);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('line 1: the file is empty');
    const unknown = await cli(
      'coverage',
      'import',
      file('ok.csv', 'lat,lng,rsrp\n51.8,-8.4,-90\n'),
      '--network',
      'HW' + '0'.repeat(32),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('does not exist');
    const missing = await cli('coverage', 'import', join(files, 'nope.csv'), '--network', network);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
    const badFlag = await cli('coverage', 'import', join(files, 'ok.csv'), '--network', 'x');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--network must be a Network SID');
  });

  it('reports an over-long line and goes on; streams a large file', async () => {
    const lines = ['latitude,longitude,rsrp', 'x'.repeat(100_000) + ',1,2', '51.85,-8.45,-95'];
    for (let i = 0; i < 200_000; i++)
      lines.push(`${(51.85 + (i % 500) * 1e-4).toFixed(5)},-8.45,${-70 - (i % 40)}`);
    const r = await cli(
      'coverage',
      'import',
      file('long.csv', lines.join('\n')),
      '--network',
      network,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('line 2: the line is longer than 65536 bytes');
    expect(figures(r.stdout)).toMatchObject({ rows: '200002', 'bad rows': '1', samples: '200001' });
  });

  it('imports GeoJSON and names bad features by index', async () => {
    const doc = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [-8.5, 51.7] },
          properties: { rsrp: -99 },
        },
        { type: 'Feature', geometry: { type: 'Point', coordinates: [-8.5, 51.7] }, properties: {} },
        {
          type: 'Feature',
          geometry: { type: 'LineString', coordinates: [] },
          properties: { rsrp: -99 },
        },
      ],
    };
    const r = await cli(
      'coverage',
      'import',
      file('cov.geojson', JSON.stringify(doc)),
      '--network',
      network,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('feature 1: properties.rsrp must be a number');
    expect(r.stderr).toContain('feature 2: geometry type LineString');
    expect(figures(r.stdout)).toMatchObject({ format: 'geojson', samples: '1', 'bad rows': '2' });
    const broken = await cli(
      'coverage',
      'import',
      file('broken.geojson', '{"type": "FeatureCollection", "features": ['),
      '--network',
      network,
    );
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is not JSON');
  });
});

describe('switchboard coverage replay', { timeout: 120_000 }, () => {
  /** A drive in the UCC trace format: good coverage, then a poor spell from second 60. */
  function trace(): string {
    const rows = ['Timestamp,Longitude,Latitude,Speed,NetworkMode,RSRP'];
    const start = Date.UTC(2026, 0, 5, 10, 0, 0);
    for (let i = 0; i < 120; i++) {
      const d = new Date(start + i * 1000);
      const p = (n: number) => String(n).padStart(2, '0');
      const ts = `${d.getUTCFullYear()}.${p(d.getUTCMonth() + 1)}.${p(d.getUTCDate())}_${p(d.getUTCHours())}.${p(d.getUTCMinutes())}.${p(d.getUTCSeconds())}`;
      // Fading over the 10 s before the spell, as a real signal does.
      const rsrp = i >= 60 && i < 80 ? -115 : i >= 50 && i < 60 ? -85 - (i - 50) * 2 : -85;
      rows.push(`${ts},${(-8.6 + i * 0.0002).toFixed(5)},51.95,50,LTE,${rsrp}`);
    }
    return rows.join('\n');
  }

  it('replays a trace through the predictor and prints F1 and lead time', async () => {
    // The provider map knows the poor stretch the drive will cross.
    const rows = ['latitude,longitude,rsrp'];
    for (let i = 0; i < 120; i++)
      rows.push(`51.95,${(-8.6 + i * 0.0002).toFixed(5)},${i >= 60 && i < 80 ? -118 : -80}`);
    const imp = await cli(
      'coverage',
      'import',
      file('route.csv', rows.join('\n')),
      '--network',
      network,
    );
    expect(imp.code, imp.stderr).toBe(0);
    const r = await cli('coverage', 'replay', file('trace.csv', trace()), '--network', network);
    expect(r.code, r.stderr).toBe(0);
    const f = figures(r.stdout);
    expect(f).toMatchObject({ 'threshold dBm': '-105', 'horizon s': '30', samples: '120' });
    expect(Number(f.positives)).toBeGreaterThan(0);
    // The map foresees the spell.
    expect(Number(f['F1 without route'])).toBeGreaterThan(0.5);
    expect(Number(f['F1 with planned route'])).toBeGreaterThan(0.5);
    expect(f['mean lead s']).toMatch(/^(n\/a|\d+\.\d)$/);
    const bad = await cli(
      'coverage',
      'replay',
      file('bad-trace.csv', 'a,b,c\n1,2,3\n'),
      '--network',
      network,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 1: trace needs Timestamp, Latitude and Longitude columns');
    const horizon = await cli(
      'coverage',
      'replay',
      join(files, 'trace.csv'),
      '--network',
      network,
      '--horizon',
      'soon',
    );
    expect(horizon.code).toBe(2);
    expect(horizon.stderr).toContain('--horizon must be a number');
  });
});
