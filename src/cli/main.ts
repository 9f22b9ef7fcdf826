// `switchboard` — the operator's command line. `serve` runs the platform; the other commands
// work on the configured database directly (no running server needed).
import { Command, Option } from 'commander';
import { Accounts, openSecrets, type AccountTables } from '../accounts/index.js';
import { CONFIG_KEYS, ConfigError, loadConfig, type Config } from '../core/index.js';
import {
  MIGRATIONS,
  VERSION,
  openConfiguredStore,
  readOwnerCredentials,
  startPlatform,
} from '../platform.js';
import { coverageCommands } from './coverage.js';
import { secretsCommands } from './secrets.js';

function configTable(): string {
  const rows = Object.values(CONFIG_KEYS).map(
    (k) =>
      `  ${k.env.padEnd(32)} ${k.doc}${k.default !== undefined ? ` (default ${k.default})` : ''}`,
  );
  return `\nConfiguration (environment variables, or the same names in ./switchboard.json):\n${rows.join('\n')}\n`;
}

async function withAccounts<T>(
  config: Config,
  run: (accounts: Accounts) => Promise<T>,
): Promise<T> {
  const store = await openConfiguredStore(config);
  try {
    await store.migrate(MIGRATIONS);
    const { secrets } = await openSecrets(store.kysely<AccountTables>(), config);
    return await run(new Accounts(store, secrets));
  } finally {
    await store.close();
  }
}

function print(rows: Record<string, unknown>[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cols = Object.keys(rows[0] ?? {});
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  console.log(cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  for (const r of rows)
    console.log(cols.map((c, i) => String(r[c] ?? '').padEnd(widths[i] ?? 0)).join('  '));
}

async function serve(config: Config): Promise<void> {
  const platform = await startPlatform(config);
  const { owner, url } = platform;
  const lines = [
    '',
    `  Switchboard ${VERSION} is running.`,
    `  REST API:   ${url}/2010-04-01   (OpenAPI: ${url}/openapi.json, metrics: ${url}/metrics)`,
    `  Database:   ${platform.store.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL'}`,
    `  State:      ${platform.state.kind === 'redis' ? 'Redis' : 'in process'}`,
    `  SIP:        ${platform.telephony ? `udp+tcp ${config.sipHost}:${platform.telephony.sip.transport.port}, RTP ${config.rtpPorts}` : 'off (SWITCHBOARD_SIP=false)'}`,
    `  TLS:        ${platform.tls ? `https/wss ${config.host}:${platform.tls.port} (Voice SDK: wss://…:${platform.tls.port}/signal; certificate ${platform.tls.certFile})` : 'off (SWITCHBOARD_TLS=false)'}`,
    `  AccountSid: ${owner.sid}`,
  ];
  if (owner.created) {
    lines.push(
      `  AuthToken:  ${owner.authToken}   (shown once; saved in ${config.dataDir}/owner-credentials.json, mode 0600)`,
    );
  } else {
    lines.push(`  AuthToken:  see ${config.dataDir}/owner-credentials.json`);
  }
  lines.push(
    `  Try:        curl -u ${owner.sid}:$AUTH_TOKEN ${url}/2010-04-01/Accounts/${owner.sid}.json`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.logger.info({ signal }, 'stopping');
    platform.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        platform.logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('switchboard')
    .description('Switchboard: a self-hosted, Twilio-compatible communications platform.')
    .version(VERSION)
    .addHelpText('after', configTable())
    .showHelpAfterError();

  const config = () => loadConfig();

  program
    .command('serve')
    .description('start the platform (HTTP API and, when enabled, the SIP/RTP engine)')
    .option('-p, --port <port>', 'HTTP port (overrides PORT)')
    .action(async (opts: { port?: string }) => {
      await serve(loadConfig(process.env, opts.port ? { port: opts.port } : {}));
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const store = await openConfiguredStore(config());
      try {
        const applied = await store.migrate(MIGRATIONS);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await store.close();
      }
    });

  const accounts = program.command('accounts').description('manage accounts');
  accounts
    .command('create')
    .description(
      'create a tenant (a main account that is not the operator), or a subaccount with --parent',
    )
    .option('-n, --friendly-name <name>', 'friendly name')
    .option('--parent <AccountSid>', 'create a subaccount of this account')
    .option('--json', 'print JSON')
    .action(async (opts: { friendlyName?: string; parent?: string; json?: boolean }) => {
      await withAccounts(config(), async (a) => {
        if (opts.parent && !(await a.find(opts.parent)))
          throw new ConfigError(`no account ${opts.parent}`);
        const row = await a.createAccount(opts.parent ?? null, opts.friendlyName ?? 'Account');
        print(
          [
            {
              sid: row.sid,
              auth_token: row.auth_token,
              friendly_name: row.friendly_name,
              parent: row.parent_sid ?? '',
            },
          ],
          !!opts.json,
        );
      });
    });
  accounts
    .command('list')
    .description('list every account')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withAccounts(config(), async (a) => {
        const rows = await a.listAll();
        print(
          rows.map((r) => ({
            sid: r.sid,
            status: r.status,
            friendly_name: r.friendly_name,
            parent: r.parent_sid ?? '',
          })),
          !!opts.json,
        );
      });
    });

  const keys = program.command('keys').description('manage API keys (SK…)');
  const accountOption = () =>
    new Option('-a, --account <AccountSid>', 'account (default: the owner account)');
  const ownerOf = (opts: { account?: string }): string => {
    const sid =
      opts.account ?? config().accountSid ?? readOwnerCredentials(config().dataDir)?.accountSid;
    if (!sid)
      throw new ConfigError(
        'no --account given and no owner account found; run `switchboard serve` once',
      );
    return sid;
  };
  keys
    .command('create')
    .description('create an API key; its secret is printed once')
    .addOption(accountOption())
    .option('-n, --friendly-name <name>', 'friendly name')
    .option('--json', 'print JSON')
    .action(async (opts: { account?: string; friendlyName?: string; json?: boolean }) => {
      await withAccounts(config(), async (a) => {
        const account = ownerOf(opts);
        if (!(await a.find(account))) throw new ConfigError(`no account ${account}`);
        const { row, secret } = await a.createKey(account, opts.friendlyName);
        print(
          [{ sid: row.sid, secret, friendly_name: row.friendly_name, account: account }],
          !!opts.json,
        );
      });
    });
  keys
    .command('list')
    .description("list an account's API keys")
    .addOption(accountOption())
    .option('--json', 'print JSON')
    .action(async (opts: { account?: string; json?: boolean }) => {
      await withAccounts(config(), async (a) => {
        const { items } = await a.listKeys(ownerOf(opts), { pageSize: 10_000, after: undefined });
        print(
          items.map((r) => ({
            sid: r.sid,
            friendly_name: r.friendly_name,
            created: new Date(r.date_created).toISOString(),
          })),
          !!opts.json,
        );
      });
    });
  keys
    .command('revoke')
    .description('delete an API key; requests signed with it are refused at once')
    .argument('<KeySid>', 'the SK… key to revoke')
    .addOption(accountOption())
    .action(async (keySid: string, opts: { account?: string }) => {
      await withAccounts(config(), async (a) => {
        await a.deleteKey(ownerOf(opts), keySid);
        console.log(`revoked ${keySid}`);
      });
    });

  secretsCommands(program);
  coverageCommands(program);
  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`switchboard: ${message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
