// A provider's coverage file imported into a network's map straight in the store (the CLI's
// `switchboard coverage import`): CSV streamed line by line, so a file of any size takes the
// memory of the cells it covers, not of its rows; GeoJSON read whole (up to MAX_GEOJSON_BYTES).
// The samples are merged into the provider cells the store holds and written once at the end:
// a stopped import writes nothing. Running nodes pick the cells up at their next look (2 s).
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { Kysely, Store } from '../store/index.js';
import { csvColumns, csvRow, geojsonSamples, type ProviderSample } from './import.js';
import { CoverageMap } from './map.js';
import { rowStats, statsRow, writeCells } from './service.js';
import type { CellRow, CoverageTables } from './tables.js';

export const MAX_GEOJSON_BYTES = 256 * 1024 * 1024;
/** A longer CSV line is an error of its own (not buffered whole). */
export const MAX_LINE_BYTES = 64 * 1024;

export interface ImportProblem {
  /** 1-based line of a CSV file, or 0-based index of a GeoJSON feature. */
  readonly line: number;
  readonly message: string;
}

export interface ImportProgress {
  readonly bytes: number;
  readonly totalBytes: number;
  readonly rows: number;
  readonly bad: number;
}

export interface FileImportOptions {
  readonly store: Store;
  readonly network: string;
  readonly file: string;
  /** csv or geojson; by default from the extension, else from the first byte. */
  readonly format?: 'csv' | 'geojson' | undefined;
  /** Stop at the first bad row (nothing written). */
  readonly strict?: boolean;
  /** Stop once more rows than this were bad (nothing written). */
  readonly maxErrors?: number;
  readonly onProblem?: (p: ImportProblem) => void;
  readonly onProgress?: (p: ImportProgress) => void;
  /** The samples' time (ms); now by default. */
  readonly at?: number;
}

export interface FileImportResult {
  readonly format: 'csv' | 'geojson';
  readonly rows: number;
  readonly samples: number;
  readonly bad: number;
  readonly cells: number;
  /** Why it stopped before the end (nothing was written), or null when it ran through. */
  readonly stopped: string | null;
}

/** An import that cannot start or cannot go on: the file, the network or the header. */
export class ImportError extends Error {}

export async function importCoverageFile(o: FileImportOptions): Promise<FileImportResult> {
  const db = o.store.kysely<CoverageTables>();
  const net = await db
    .selectFrom('supersim_networks')
    .select('sid')
    .where('sid', '=', o.network)
    .executeTakeFirst();
  if (!net) throw new ImportError(`network ${o.network} does not exist`);
  let size: number;
  try {
    const st = await stat(o.file);
    if (!st.isFile()) throw new ImportError(`${o.file} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError(`cannot read ${o.file}: ${(e as Error).message}`);
  }
  const format = o.format ?? (await sniff(o.file));
  const map = new CoverageMap();
  const at = o.at ?? Date.now();
  const state = { rows: 0, samples: 0, bad: 0, stopped: null as string | null };
  const maxErrors = o.maxErrors ?? 1000;
  const problem = (line: number, message: string): boolean => {
    state.bad++;
    o.onProblem?.({ line, message });
    if (o.strict) state.stopped = `${where(format, line)}: ${message} (--strict)`;
    else if (state.bad > maxErrors) state.stopped = `more than ${maxErrors} bad rows`;
    return state.stopped !== null;
  };
  const add = (s: ProviderSample) => {
    map.add(o.network, 'provider', s.cell, s.rsrp, at, s.degraded);
    state.samples++;
  };
  if (format === 'csv') await readCsv(o, size, map, state, problem, add);
  else {
    if (size > MAX_GEOJSON_BYTES)
      throw new ImportError(
        `${o.file} is ${size} bytes; GeoJSON is read whole, at most ${MAX_GEOJSON_BYTES} (use CSV)`,
      );
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(o.file, 'utf8'));
    } catch (e) {
      throw new ImportError(`${o.file} is not JSON: ${(e as Error).message}`);
    }
    try {
      const r = geojsonSamples(
        doc,
        map.resolution,
        (la, ln) => map.cellOf(la, ln),
        (i, m) => {
          if (!state.stopped) problem(i, m);
        },
      );
      state.rows = r.samples.length + r.bad;
      if (!state.stopped) for (const s of r.samples) add(s);
    } catch (e) {
      throw new ImportError((e as Error).message);
    }
    o.onProgress?.({ bytes: size, totalBytes: size, rows: state.rows, bad: state.bad });
  }
  if (state.stopped) return { format, ...state, cells: 0 };
  const cells = await merge(db, map, o.network);
  return { format, ...state, cells };
}

function where(format: 'csv' | 'geojson', line: number): string {
  return format === 'csv' ? `line ${line}` : `feature ${line}`;
}

async function sniff(file: string): Promise<'csv' | 'geojson'> {
  if (/\.(geo)?json$/i.test(file)) return 'geojson';
  if (/\.csv$/i.test(file)) return 'csv';
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
    return /^\s*[{[]/.test(buffer.subarray(0, bytesRead).toString('utf8')) ? 'geojson' : 'csv';
  } finally {
    await fh.close();
  }
}

async function readCsv(
  o: FileImportOptions,
  size: number,
  map: CoverageMap,
  state: { rows: number; stopped: string | null; bad: number },
  problem: (line: number, message: string) => boolean,
  add: (s: ProviderSample) => void,
): Promise<void> {
  const stream = createReadStream(o.file, { highWaterMark: 1 << 20 });
  let lineNo = 0;
  let columns: ReturnType<typeof csvColumns> | undefined;
  let carry = '';
  let overlong = false;
  let bytes = 0;
  const cellOf = (la: number, ln: number) => map.cellOf(la, ln);
  const onLine = (raw: string): boolean => {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!columns) {
      const header = line.replace(/^\uFEFF/, '');
      try {
        columns = csvColumns(header);
      } catch (e) {
        throw new ImportError(`line ${lineNo}: ${(e as Error).message}`);
      }
      return false;
    }
    if (line.trim() === '') return false;
    state.rows++;
    if (line.length > MAX_LINE_BYTES)
      return problem(lineNo, `the line is longer than ${MAX_LINE_BYTES} bytes`);
    const r = csvRow(line, columns, cellOf);
    if (typeof r === 'string') return problem(lineNo, r);
    add(r);
    return false;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      const text = carry + chunk.toString('utf8');
      const parts = text.split('\n');
      carry = parts.pop() ?? '';
      for (const part of parts) {
        if (overlong) {
          // The rest of an over-long line: it was reported when it passed the limit.
          overlong = false;
          continue;
        }
        if (onLine(part)) return;
      }
      if (carry.length > MAX_LINE_BYTES) {
        lineNo++;
        state.rows++;
        carry = '';
        overlong = true;
        if (problem(lineNo, `the line is longer than ${MAX_LINE_BYTES} bytes`)) return;
      }
      o.onProgress?.({ bytes, totalBytes: size, rows: state.rows, bad: state.bad });
    }
    if (carry && !overlong) onLine(carry);
    if (!columns) throw new ImportError('line 1: the file is empty (a header line is needed)');
  } finally {
    stream.destroy();
  }
}

/** Merges the imported cells into the network's provider cells in the store. */
async function merge(
  db: Kysely<CoverageTables>,
  imported: CoverageMap,
  network: string,
): Promise<number> {
  const keys = [...imported.dirty];
  const map = new CoverageMap();
  const cells = keys.map((k) => k.split('|')[2]!);
  for (let i = 0; i < cells.length; i += 500) {
    const rows: CellRow[] = await db
      .selectFrom('coverage_cells')
      .selectAll()
      .where('network_sid', '=', network)
      .where('source', '=', 'provider')
      .where('cell', 'in', cells.slice(i, i + 500))
      .execute();
    for (const r of rows) map.load(network, 'provider', r.cell, rowStats(r));
  }
  const now = Date.now();
  const out: CellRow[] = [];
  for (const cell of cells) {
    map.merge(network, 'provider', cell, imported.stats(network, 'provider', cell)!);
    out.push(statsRow(network, 'provider', cell, map.stats(network, 'provider', cell)!, now));
  }
  await writeCells(db, out);
  return out.length;
}
