// The `switchboard` command as an operator runs it, against a temporary data directory (or a
// throwaway PostgreSQL schema when DATABASE_URL is set).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { testSchema } from '../support/schema.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
const schema = process.env.DATABASE_URL ? testSchema('sbcli') : undefined;
const env = {
  ...process.env,
  SWITCHBOARD_DATA_DIR: dataDir,
  ...(schema ? { SWITCHBOARD_DATABASE_SCHEMA: schema } : {}),
  LOG_LEVEL: 'silent',
};

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'bin/switchboard.js'), ...args],
      {
        env,
        timeout: 30_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  // Throwaway PostgreSQL schemas are dropped once, after the whole run (test/support/global-setup.ts):
  // dropping one while another file migrates breaks Kysely's cross-schema introspection.
});

// Each command is a fresh Node process: about a second on an idle machine, 7-10 s under a load
// average of 20, and the longest test runs nine of them.
describe('switchboard CLI', { timeout: 300_000 }, () => {
  it('prints help with the commands and the configuration table', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const word of [
      'serve',
      'migrate',
      'accounts',
      'keys',
      'DATABASE_URL',
      'SWITCHBOARD_DATA_DIR',
    ]) {
      expect(stdout).toContain(word);
    }
  });

  it('migrates, creates and lists accounts, and creates, lists and revokes keys', async () => {
    expect((await cli('migrate')).stdout).toMatch(/applied|up to date/);
    expect((await cli('migrate')).stdout).toContain('up to date');

    const created = await cli('accounts', 'create', '-n', 'Acme', '--json');
    expect(created.code).toBe(0);
    const [account] = JSON.parse(created.stdout) as { sid: string; auth_token: string }[];
    expect(account?.sid).toMatch(/^AC[0-9a-f]{32}$/);

    const sub = JSON.parse(
      (await cli('accounts', 'create', '--parent', account!.sid, '--json')).stdout,
    ) as {
      parent: string;
    }[];
    expect(sub[0]?.parent).toBe(account!.sid);
    const listed = await cli('accounts', 'list');
    expect(listed.stdout).toContain(account!.sid);
    expect(listed.stdout).toContain('Acme');

    const key = JSON.parse(
      (await cli('keys', 'create', '-a', account!.sid, '-n', 'ci', '--json')).stdout,
    ) as {
      sid: string;
      secret: string;
    }[];
    expect(key[0]?.sid).toMatch(/^SK/);
    expect((await cli('keys', 'list', '-a', account!.sid)).stdout).toContain(key[0]!.sid);
    expect((await cli('keys', 'revoke', key[0]!.sid, '-a', account!.sid)).stdout).toContain(
      'revoked',
    );
    expect((await cli('keys', 'list', '-a', account!.sid)).stdout).not.toContain(key[0]!.sid);
  });

  it('answers bad input with a clear message and a non-zero exit', async () => {
    const unknown = await cli('frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown command');

    const badParent = await cli('accounts', 'create', '--parent', 'ACnope');
    expect(badParent.code).toBe(2);
    expect(badParent.stderr).toContain('no account ACnope');

    const revoke = await cli('keys', 'revoke', 'SKnope', '-a', 'AC' + '0'.repeat(32));
    expect(revoke.code).not.toBe(0);
    expect(revoke.stderr).toContain('not found');

    const badPort = await run(process.execPath, [join(root, 'bin/switchboard.js'), 'serve'], {
      env: { ...env, PORT: 'eighty' },
      timeout: 30_000,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(badPort.stderr).toContain('PORT must be a whole number');
  });
});
