// Rotation of the sealing key as an operator does it: `switchboard secrets rotate` beside a
// running node, killed half-way (SIGKILL), then the node restarted; every credential works at
// every step, and the old key is retired once no row is sealed under it. SQLite in a temporary
// directory, or a throwaway PostgreSQL schema when DATABASE_URL is set; the key file either way.
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { serveSwitchboard, type Served } from '../support/serve.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const ACCOUNTS = 80;
const KEYS = 20;

let node: Served | undefined;
afterAll(async () => {
  await node?.cleanup();
});

function cliEnv(n: Served): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SWITCHBOARD_DATA_DIR: n.dataDir,
    SWITCHBOARD_SEALING_KEY: '',
    REDIS_URL: undefined,
    LOG_LEVEL: 'silent',
    ...(n.schema ? { SWITCHBOARD_DATABASE_SCHEMA: n.schema } : {}),
  };
}

async function cli(n: Served, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(root, 'bin/switchboard.js'), ...args], {
    env: cliEnv(n),
    timeout: 60_000,
  });
  return stdout;
}

interface Status {
  current: string;
  held: string[];
  rows: { accounts: Record<string, number>; api_keys: Record<string, number> };
}

const status = async (n: Served) =>
  JSON.parse(await cli(n, 'secrets', 'status', '--json')) as Status;

async function post(n: Served, user: string, pass: string, path: string, form: string) {
  const res = await fetch(`${n.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Record<string, string>;
}

/** Every credential, used against the running node: each must authenticate. */
async function allAuthenticate(n: Served, creds: [string, string, string][]): Promise<void> {
  const codes = await Promise.all(
    creds.map(async ([user, pass, account]) => {
      const res = await fetch(`${n.url}/2010-04-01/Accounts/${account}.json`, {
        headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
      });
      return res.status;
    }),
  );
  expect(codes.filter((c) => c !== 200)).toEqual([]);
}

describe('sealing-key rotation', { timeout: 600_000 }, () => {
  it('re-seals every row under a new key, survives a kill half-way, and retires the old key', async () => {
    node = await serveSwitchboard({
      rtpPorts: '43000-43010',
      env: { SWITCHBOARD_SIP: 'false', SWITCHBOARD_TLS: 'false', SWITCHBOARD_SEALING_KEY: '' },
    });
    const n = node;
    await n.start();
    const creds: [string, string, string][] = [[n.accountSid, n.authToken, n.accountSid]];
    for (let i = 0; i < ACCOUNTS; i++) {
      const a = await post(
        n,
        n.accountSid,
        n.authToken,
        '/2010-04-01/Accounts.json',
        `FriendlyName=t${i}`,
      );
      creds.push([a.sid!, a.auth_token!, a.sid!]);
    }
    for (let i = 0; i < KEYS; i++) {
      const k = await post(
        n,
        n.accountSid,
        n.authToken,
        `/2010-04-01/Accounts/${n.accountSid}/Keys.json`,
        `FriendlyName=k${i}`,
      );
      creds.push([k.sid!, k.secret!, n.accountSid]);
    }
    const before = await status(n);
    const oldKey = before.current;
    expect(before.rows.accounts).toEqual({ [oldKey]: ACCOUNTS + 1 });

    // The rotation, paced (5 rows a batch, 200 ms apart) and killed after its first batch.
    const rotation = spawn(
      process.execPath,
      [join(root, 'bin/switchboard.js'), 'secrets', 'rotate', '--batch', '5', '--pause-ms', '200'],
      { env: cliEnv(n), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      rotation.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/resealed \d+ rows/.test(out)) resolve();
      });
      rotation.once('exit', (code) => reject(new Error(`rotate exited (${code}) early: ${out}`)));
    });
    await new Promise<void>((r) => {
      rotation.once('exit', () => r());
      rotation.kill('SIGKILL');
    });
    const newKey = /key ([0-9a-f]{12}) is current/.exec(out)?.[1];
    expect(newKey).toBeDefined();

    // The kill landed half-way: rows under both keys, none in the clear.
    const midway = await status(n);
    expect(midway.current).toBe(newKey);
    expect(midway.held.sort()).toEqual([oldKey, newKey].sort());
    expect(midway.rows.accounts[newKey!]).toBeGreaterThan(0);
    expect(midway.rows.accounts[oldKey]).toBeGreaterThan(0);
    expect(midway.rows.accounts.clear).toBeUndefined();

    // The running node opens rows under either key (past its 2 s credential cache).
    await new Promise((r) => setTimeout(r, 2500));
    await allAuthenticate(n, creds);

    // A restart finishes the re-seal before it serves.
    await n.crash();
    await n.start();
    const after = await status(n);
    expect(after.rows.accounts).toEqual({ [newKey!]: ACCOUNTS + 1 });
    expect(after.rows.api_keys).toEqual({ [newKey!]: KEYS });
    await allAuthenticate(n, creds);

    // The old key is no longer needed: retired from the file, and everything still opens.
    expect(await cli(n, 'secrets', 'retire')).toContain(`retired ${oldKey}`);
    const file = JSON.parse(readFileSync(join(n.dataDir, 'sealing-keys.json'), 'utf8')) as {
      keys: { id: string }[];
    };
    expect(file.keys.map((k) => k.id)).toEqual([newKey]);
    await n.crash();
    await n.start();
    await allAuthenticate(n, creds);
  });
});
