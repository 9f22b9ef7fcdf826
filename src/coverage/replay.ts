// `switchboard coverage replay <trace.csv>`: a recorded drive trace driven second by second
// through the predictor, with the map and the crowd history the store holds for a network;
// prints the prediction's quality on it (evaluate.ts). The trace's own reports should not be
// in the store (the crowd would know its future).
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../core/index.js';
import type { Kysely, Store } from '../store/index.js';
import { counts, evaluateTrace, f1, mean, type Counts } from './evaluate.js';
import { ImportError } from './file-import.js';
import { CoverageService } from './service.js';
import type { CoverageTables } from './tables.js';
import { parseTrace } from './trace.js';

/** Traces are read whole: a day of one-second samples is a few MB. */
export const MAX_TRACE_BYTES = 64 * 1024 * 1024;

export interface ReplayOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly network: string;
  readonly file: string;
  readonly threshold: number;
  readonly horizon: number;
}

export interface ReplayFigures {
  readonly samples: number;
  readonly evaluated: number;
  readonly positives: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly meanLeadS: number | null;
  readonly trueAlerts: number;
  readonly f1WithRoute: number | null;
  readonly meanLeadSWithRoute: number | null;
}

export async function replayTrace(o: ReplayOptions): Promise<ReplayFigures> {
  const db: Kysely<CoverageTables> = o.store.kysely<CoverageTables>();
  const net = await db
    .selectFrom('supersim_networks')
    .select('sid')
    .where('sid', '=', o.network)
    .executeTakeFirst();
  if (!net) throw new ImportError(`network ${o.network} does not exist`);
  let text: string;
  try {
    const st = await stat(o.file);
    if (!st.isFile()) throw new ImportError(`${o.file} is not a file`);
    if (st.size > MAX_TRACE_BYTES)
      throw new ImportError(`${o.file} is ${st.size} bytes; a trace is at most ${MAX_TRACE_BYTES}`);
    text = await readFile(o.file, 'utf8');
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError(`cannot read ${o.file}: ${(e as Error).message}`);
  }
  let samples;
  try {
    samples = parseTrace(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ImportError(`line 1: ${(e as Error).message}`);
  }
  if (!samples.length) throw new ImportError(`${o.file} has no row with a time and a position`);
  const service = new CoverageService(o.store, o.logger, 'replay');
  await service.load();
  const plain = counts();
  const routed = counts();
  const trace = { name: `replay:${o.file}`, samples };
  const opts = { threshold: o.threshold, horizon: o.horizon, network: o.network };
  evaluateTrace(trace, service.predictor, { ...opts, route: false }, plain);
  evaluateTrace(trace, service.predictor, { ...opts, route: true }, routed);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const score = (c: Counts) => (c.tp + c.fp + c.fn > 0 ? f1(c) : null);
  return {
    samples: samples.length,
    evaluated: plain.tp + plain.fp + plain.fn + plain.tn,
    positives: plain.tp + plain.fn,
    precision: ratio(plain.tp, plain.tp + plain.fp),
    recall: ratio(plain.tp, plain.tp + plain.fn),
    f1: score(plain),
    meanLeadS: plain.leads.length ? mean(plain.leads) : null,
    trueAlerts: plain.leads.length,
    f1WithRoute: score(routed),
    meanLeadSWithRoute: routed.leads.length ? mean(routed.leads) : null,
  };
}
