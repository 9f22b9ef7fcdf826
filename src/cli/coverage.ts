// `switchboard coverage …`: a provider's coverage file imported into a network's map, and a
// drive trace replayed through the predictor (docs/coverage.md, "Command line"). Both work
// on the configured database directly; running nodes pick imported cells up within seconds.
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { ConfigError, createLogger, loadConfig, type Logger } from '../core/index.js';
import {
  importCoverageFile,
  ImportError,
  replayTrace,
  type ImportProblem,
} from '../coverage/index.js';
import { MIGRATIONS, openConfiguredStore } from '../platform.js';
import type { Store } from '../store/index.js';

/** Problems printed one by one; the rest are counted. */
const SHOWN = 50;

async function withStore<T>(run: (store: Store, logger: Logger) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'switchboard-coverage');
  const store = await openConfiguredStore(config);
  try {
    await store.migrate(MIGRATIONS);
    return await run(store, logger);
  } catch (e) {
    // The file, the network or the header: the operator's to mend, said plainly (exit 1).
    if (e instanceof ImportError) throw new Error(e.message, { cause: e });
    throw e;
  } finally {
    await store.close();
  }
}

function number(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a number in ${min}…${max}`);
  return n;
}

function networkSid(v: string): string {
  if (!/^HW[0-9a-f]{32}$/.test(v)) throw new ConfigError('--network must be a Network SID (HW…)');
  return v;
}

interface ImportFlags {
  network: string;
  format?: string;
  strict?: boolean;
  maxErrors?: string;
}

interface ReplayFlags {
  network: string;
  threshold: string;
  horizon: string;
}

export function coverageCommands(program: Command): void {
  const coverage = program
    .command('coverage')
    .description('coverage maps: import provider data, replay drive traces');

  coverage
    .command('import <file>')
    .description(
      'import a provider coverage file (CSV: latitude,longitude,rsrp[,network_mode] or cell,rsrp; ' +
        'GeoJSON: Points/Polygons with an rsrp property) into a network; bad rows are reported ' +
        'with their line and skipped, unless --strict; nothing is written when it stops',
    )
    .requiredOption('--network <sid>', 'the Network (HW…) the coverage is of')
    .option('--format <format>', 'csv or geojson (default: by extension or content)')
    .option('--strict', 'stop at the first bad row')
    .option('--max-errors <n>', 'stop once more rows than this are bad', '1000')
    .action(async (file: string, flags: ImportFlags) => {
      const network = networkSid(flags.network);
      if (flags.format !== undefined && flags.format !== 'csv' && flags.format !== 'geojson')
        throw new ConfigError('--format must be csv or geojson');
      const maxErrors = number(flags.maxErrors ?? '1000', '--max-errors', 0, 1e9);
      const bar = new SingleBar(
        {
          stream: process.stderr,
          format: 'importing [{bar}] {percentage}% | {rows} rows | {bad} bad',
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      let shown = 0;
      let started = false;
      const onProblem = (p: ImportProblem) => {
        if (shown++ < SHOWN)
          process.stderr.write(
            `${flags.format === 'geojson' || /json$/i.test(file) ? 'feature' : 'line'} ${p.line}: ${p.message}\n`,
          );
      };
      const result = await withStore(async (store, logger) => {
        try {
          const r = await importCoverageFile({
            store,
            network,
            file,
            format: flags.format as 'csv' | 'geojson' | undefined,
            strict: flags.strict === true,
            maxErrors,
            onProblem,
            onProgress: (p) => {
              if (!started) bar.start(Math.max(1, p.totalBytes), 0, { rows: 0, bad: 0 });
              started = true;
              bar.update(p.bytes, { rows: p.rows, bad: p.bad });
            },
          });
          logger.info({ file, network, ...r }, 'coverage import finished');
          return r;
        } finally {
          if (started) bar.stop();
        }
      });
      if (shown > SHOWN) process.stderr.write(`… and ${shown - SHOWN} more bad rows\n`);
      console.log(`format: ${result.format}`);
      console.log(`rows: ${result.rows}`);
      console.log(`bad rows: ${result.bad}`);
      console.log(`samples: ${result.samples}`);
      console.log(`cells written: ${result.cells}`);
      if (result.stopped) throw new Error(`import stopped, nothing written: ${result.stopped}`);
    });

  coverage
    .command('replay <trace>')
    .description(
      'drive a recorded trace (CSV: Timestamp, Latitude, Longitude, Speed km/h, RSRP, …) through ' +
        "the predictor with the network's stored map and crowd history; prints F1 and lead time",
    )
    .requiredOption('--network <sid>', 'the Network (HW…) whose map and crowd to use')
    .option('--threshold <dBm>', 'poor at or below this RSRP', '-105')
    .option('--horizon <s>', 'seconds ahead the prediction looks', '30')
    .action(async (trace: string, flags: ReplayFlags) => {
      const network = networkSid(flags.network);
      const threshold = number(flags.threshold, '--threshold', -156, -31);
      const horizon = number(flags.horizon, '--horizon', 5, 600);
      const f = await withStore((store, logger) =>
        replayTrace({ store, logger, network, file: trace, threshold, horizon }),
      );
      const show = (v: number | null, digits: number) => (v === null ? 'n/a' : v.toFixed(digits));
      console.log(`threshold dBm: ${threshold}`);
      console.log(`horizon s: ${horizon}`);
      console.log(`samples: ${f.samples}`);
      console.log(`evaluated seconds: ${f.evaluated}`);
      console.log(`positives: ${f.positives}`);
      console.log(`precision without route: ${show(f.precision, 3)}`);
      console.log(`recall without route: ${show(f.recall, 3)}`);
      console.log(`F1 without route: ${show(f.f1, 3)}`);
      console.log(`mean lead s: ${show(f.meanLeadS, 1)}`);
      console.log(`true alerts: ${f.trueAlerts}`);
      console.log(`F1 with planned route: ${show(f.f1WithRoute, 3)}`);
      console.log(`mean lead s with route: ${show(f.meanLeadSWithRoute, 1)}`);
    });
}
