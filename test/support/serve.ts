// `switchboard serve` as an operator runs it (its own process, from bin/switchboard.js), for
// tests that kill it with SIGKILL and start it again on the same data: SQLite in a temporary
// directory, or PostgreSQL in a throwaway schema when DATABASE_URL is set. A single node
// (REDIS_URL is left out: recovery would wait for other nodes' leases and staleness rules),
// unless the test gives it a Redis key prefix to share with other nodes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Kysely } from '../../src/store/index.js';
import { freePort } from '../sip/sipp.js';
import { testSchema, testSealingKey } from './schema.js';

const root = new URL('../../', import.meta.url).pathname;

export interface Served {
  readonly url: string;
  /** Its data directory (the SQLite database, the sealing key file). */
  readonly dataDir: string;
  /** Its PostgreSQL schema (DATABASE_URL set), for another node sharing its database. */
  readonly schema: string | undefined;
  readonly sipPort: number;
  readonly accountSid: string;
  readonly authToken: string;
  /** Starts the process (again); resolves once its API answers. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown code runs. */
  crash(): Promise<void>;
  /** Crashes it if it runs and removes its data. */
  cleanup(): Promise<void>;
  /**
   * Reads its database while it is down (after crash()): what the kill left, e.g. to show that
   * work was in flight at the moment of the kill.
   */
  inspect<Tables, T>(read: (db: Kysely<Tables>) => Promise<T>): Promise<T>;
}

export interface ServeOptions {
  readonly rtpPorts: string;
  /** One node of several: REDIS_URL is kept, with this key prefix (shared with the others). */
  readonly redisPrefix?: string;
  /** More environment (configuration keys). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function serveSwitchboard(options: ServeOptions): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  const authToken = randomBytes(16).toString('hex');
  const schema = process.env.DATABASE_URL ? testSchema('sbt') : undefined;
  const httpPort = await freePort();
  const sipPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const crash = async () => {
    const c = child;
    if (!c) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
    child = undefined;
  };
  return {
    url,
    dataDir,
    schema,
    sipPort,
    accountSid,
    authToken,
    async start() {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        REDIS_URL: options.redisPrefix === undefined ? undefined : process.env.REDIS_URL,
        ...(options.redisPrefix === undefined
          ? {}
          : { SWITCHBOARD_REDIS_PREFIX: options.redisPrefix }),
        // Nodes sharing its schema share its sealing key (each has a data directory of its own).
        ...(options.redisPrefix !== undefined && schema
          ? { SWITCHBOARD_SEALING_KEY: testSealingKey(schema) }
          : {}),
        ...options.env,
        PORT: String(httpPort),
        HOST: '127.0.0.1',
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_SIP_PORT: String(sipPort),
        SWITCHBOARD_SIP_HOST: '127.0.0.1',
        // Several nodes run at once across test files: none may take the default TLS port.
        SWITCHBOARD_TLS_PORT: '0',
        SWITCHBOARD_RTP_PORTS: options.rtpPorts,
        SWITCHBOARD_ACCOUNT_SID: accountSid,
        SWITCHBOARD_AUTH_TOKEN: authToken,
        SWITCHBOARD_THROTTLE: 'false',
        LOG_LEVEL: 'silent',
        ...(schema ? { SWITCHBOARD_DATABASE_SCHEMA: schema } : {}),
      };
      child = spawn(process.execPath, [join(root, 'bin/switchboard.js'), 'serve'], {
        env,
        stdio: 'ignore',
      });
      const end = Date.now() + 60_000;
      for (;;) {
        const up = await fetch(`${url}/openapi.json`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        if (Date.now() > end) throw new Error('switchboard serve did not come up in 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    crash,
    async inspect(read) {
      if (child) throw new Error('inspect() reads the database of a stopped node');
      const store = await openStore({ dataDir, databaseUrl: process.env.DATABASE_URL, schema });
      try {
        return await read(store.kysely());
      } finally {
        await store.close();
      }
    },
    async cleanup() {
      await crash();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
