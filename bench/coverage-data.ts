// The UCC 5G production dataset (GPL-3.0), read from ../shared/data at bench time and never
// copied into the repository: its 60 driving traces, one sample per second.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { parseTrace, type TraceSample } from '../src/coverage/trace.js';

export const DATASET = join(
  process.cwd(),
  '..',
  'shared',
  'data',
  'ucc-5g-production',
  '5G-production-dataset.zip',
);

export interface NamedTrace {
  readonly name: string;
  readonly samples: TraceSample[];
}

export function datasetPresent(): boolean {
  return existsSync(DATASET);
}

export function drivingTraces(): NamedTrace[] {
  const files = unzipSync(new Uint8Array(readFileSync(DATASET)), {
    filter: (f) =>
      f.name.includes('/Driving/') && f.name.endsWith('.csv') && !f.name.startsWith('__MACOSX'),
  });
  return Object.keys(files)
    .sort()
    .map((name) => ({ name, samples: parseTrace(new TextDecoder().decode(files[name])) }))
    .filter((t) => t.samples.length > 0);
}
