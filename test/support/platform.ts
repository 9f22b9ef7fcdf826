// Starts a real platform for a test: HTTP on a free port, SQLite in a temporary directory, or
// PostgreSQL in a throwaway schema and Redis under a throwaway prefix when DATABASE_URL /
// REDIS_URL are set (as on CI's second run).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { loadConfig, type Config } from '../../src/core/index.js';
import { startPlatform, type Platform } from '../../src/platform.js';
import { testSchema, testSealingKey } from './schema.js';

export interface TestPlatform {
  platform: Platform;
  url: string;
  accountSid: string;
  authToken: string;
  config: Config;
  /** Official SDK client with every domain pointed at this platform. */
  client: ReturnType<typeof twilio>;
  /** Stops the platform; the data stays (for restart tests) until cleanup(). */
  stop(): Promise<void>;
  /** Starts the platform again on the same data. */
  restart(): Promise<TestPlatform>;
  cleanup(): Promise<void>;
}

export type Overrides = Parameters<typeof loadConfig>[1];

export function sdkClient(url: string, username: string, password: string, accountSid?: string) {
  const client = twilio(username, password, accountSid ? { accountSid } : {});
  client.api.baseUrl = url;
  client.messaging.baseUrl = `${url}/messaging`;
  client.voice.baseUrl = `${url}/voice`;
  client.intelligence.baseUrl = `${url}/intelligence`;
  client.events.baseUrl = `${url}/events`;
  client.supersim.baseUrl = `${url}/supersim`;
  client.iam.baseUrl = `${url}/iam`;
  client.accounts.baseUrl = `${url}/accounts`;
  return client;
}

export async function startTestPlatform(overrides: Overrides = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  const schema = process.env.DATABASE_URL ? testSchema('sbt') : undefined;
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  const authToken = randomBytes(16).toString('hex');
  const given = overrides.databaseSchema;
  const shared = typeof given === 'string' ? given : schema;
  const config = loadConfig(
    { ...process.env, SWITCHBOARD_CONFIG: undefined },
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      accountSid,
      authToken,
      sipEnabled: false,
      // Presence tests turn the TLS listener on (port 0).
      tlsEnabled: false,
      // Tests of other capabilities send errors on purpose; throttle tests turn it on.
      throttle: false,
      redisPrefix: `sbt:${randomBytes(4).toString('hex')}:`,
      ...(schema ? { databaseSchema: schema } : {}),
      // Nodes sharing a PostgreSQL schema share its sealing key (SQLite nodes make a key file).
      ...(shared ? { sealingKey: testSealingKey(shared) } : {}),
      ...overrides,
    },
  );

  return launch(config, dataDir, schema);
}

async function launch(
  config: Config,
  dataDir: string,
  schema: string | undefined,
): Promise<TestPlatform> {
  const platform = await startPlatform(config);
  const url = platform.url;
  const t: TestPlatform = {
    platform,
    url,
    accountSid: platform.owner.sid,
    authToken: platform.owner.authToken,
    config,
    client: sdkClient(url, platform.owner.sid, platform.owner.authToken),
    stop: () => platform.stop(),
    async restart() {
      return launch(config, dataDir, schema);
    },
    async cleanup() {
      await platform.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      // Throwaway PostgreSQL schemas are dropped once, after the whole run (test/support/global-setup.ts):
      // dropping one while another file migrates breaks Kysely's cross-schema introspection.
    },
  };
  return t;
}

/** A raw HTTP request with Basic auth, for what the SDK cannot send (garbage, odd types). */
export async function request(
  t: { url: string; accountSid: string; authToken: string },
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(t.url + path, {
    method,
    headers: {
      authorization: 'Basic ' + Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64'),
      ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers };
}
