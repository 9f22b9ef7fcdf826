// `switchboard secrets …`: the sealing keys of AuthTokens and API key secrets (docs/security.md,
// "Secrets"). Runs on the configured database directly; a running node meets a key added to
// the key file on its next read of a row sealed under it.
import type { Command } from 'commander';
import {
  addKeyToFile,
  keyIdsInUse,
  openSecrets,
  resealAll,
  retireKeysInFile,
  sealStatus,
  type AccountTables,
  type Secrets,
} from '../accounts/index.js';
import { ConfigError, loadConfig, type Config } from '../core/index.js';
import type { Kysely } from '../store/index.js';
import { MIGRATIONS, openConfiguredStore } from '../platform.js';

type Db = Kysely<AccountTables>;

async function withSecrets<T>(
  config: Config,
  run: (db: Db, secrets: Secrets) => Promise<T>,
): Promise<T> {
  const store = await openConfiguredStore(config);
  try {
    await store.migrate(MIGRATIONS);
    const db = store.kysely<AccountTables>();
    const { secrets } = await openSecrets(db, { ...config, reseal: false });
    return await run(db, secrets);
  } finally {
    await store.close();
  }
}

interface ResealFlags {
  batch?: string;
  pauseMs?: string;
}

async function reseal(db: Db, secrets: Secrets, flags: ResealFlags): Promise<number> {
  const batch = flags.batch === undefined ? 500 : Number(flags.batch);
  const pauseMs = flags.pauseMs === undefined ? 0 : Number(flags.pauseMs);
  if (!Number.isInteger(batch) || batch < 1) throw new ConfigError('--batch must be 1 or more');
  if (!Number.isInteger(pauseMs) || pauseMs < 0) throw new ConfigError('--pause-ms must be 0+');
  return resealAll(db, secrets, {
    batch,
    pauseMs,
    onBatch: (p) => console.log(`resealed ${p.resealed} rows (${p.table})`),
  });
}

function keyFileOf(secrets: Secrets, verb: string): string {
  const source = secrets.keyring.source;
  if (source.kind !== 'file') {
    throw new ConfigError(
      `SWITCHBOARD_SEALING_KEY is set: ${verb} by configuration (docs/security.md, "Rotating the sealing key")`,
    );
  }
  return source.path;
}

export function secretsCommands(program: Command): void {
  const config = () => loadConfig();
  const secrets = program
    .command('secrets')
    .description('the keys that seal AuthTokens and API key secrets in the database');
  const resealOptions = (c: Command) =>
    c
      .option('--batch <rows>', 'rows per transaction (default 500)')
      .option('--pause-ms <ms>', 'pause between batches, to spare a busy database (default 0)');

  secrets
    .command('status')
    .description('the current key, the keys held, and the rows sealed under each')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withSecrets(config(), async (db, s) => {
        const status = await sealStatus(db, s.keyring);
        if (opts.json) {
          console.log(JSON.stringify({ ...status, source: s.keyring.describe() }, null, 2));
          return;
        }
        console.log(`current key: ${status.current} (${s.keyring.describe()})`);
        console.log(`keys held:   ${status.held.join(', ')}`);
        for (const [table, counts] of Object.entries(status.rows)) {
          const parts = Object.entries(counts).map(([id, n]) => `${n} under ${id}`);
          console.log(`${table}: ${parts.join(', ') || 'none'}`);
        }
      });
    });

  resealOptions(
    secrets
      .command('rotate')
      .description(
        'add a new key to the key file, make it current, and seal every row again under it (the old keys keep opening rows until retired)',
      ),
  ).action(async (opts: ResealFlags) => {
    await withSecrets(config(), async (db, s) => {
      const path = keyFileOf(s, 'rotate');
      const id = addKeyToFile(path);
      console.log(`key ${id} is current`);
      // The ring reads the file again for the new key.
      const { secrets: next } = await openSecrets(db, { ...config(), reseal: false });
      const n = await reseal(db, next, opts);
      console.log(
        `done: ${n} rows sealed again under ${id}; \`switchboard secrets retire\` drops the keys no row uses`,
      );
    });
  });

  resealOptions(
    secrets
      .command('reseal')
      .description(
        'seal again under the current key every row under another key (after an interrupted rotation, or a new SWITCHBOARD_SEALING_KEY)',
      ),
  ).action(async (opts: ResealFlags) => {
    await withSecrets(config(), async (db, s) => {
      const n = await reseal(db, s, opts);
      console.log(`done: ${n} rows sealed again under ${s.keyring.currentId}`);
    });
  });

  secrets
    .command('retire')
    .description('drop from the key file every old key no row is sealed under any more')
    .action(async () => {
      await withSecrets(config(), async (db, s) => {
        const path = keyFileOf(s, 'retire keys');
        const inUse = await keyIdsInUse(db);
        const dropped = retireKeysInFile(path, inUse);
        const kept = s.keyring.ids.filter((id) => id !== s.keyring.currentId && inUse.has(id));
        console.log(dropped.length ? `retired ${dropped.join(', ')}` : 'no key to retire');
        if (kept.length) {
          console.log(
            `kept ${kept.join(', ')}: rows are still sealed under them (run \`switchboard secrets reseal\`)`,
          );
        }
      });
    });
}
