// Secrets at rest (docs/security.md, "Secrets"): AuthTokens and API key signing secrets are
// sealed under a key kept outside the database. Read through the database as an attacker with a
// dump would, and used through the SDK as a customer does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSecrets, type AccountTables } from '../../src/accounts/index.js';
import { openStore, type Kysely } from '../../src/store/index.js';
import { sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** Reads (and writes) the platform's database directly, while it is stopped. */
async function withDb<T>(
  p: TestPlatform,
  run: (db: Kysely<AccountTables>) => Promise<T>,
): Promise<T> {
  const store = await openStore({
    dataDir: p.config.dataDir,
    databaseUrl: p.config.databaseUrl,
    schema: p.config.databaseSchema,
  });
  try {
    return await run(store.kysely<AccountTables>());
  } finally {
    await store.close();
  }
}

describe('secrets at rest', { timeout: 120_000 }, () => {
  it('seals AuthTokens and key secrets under a key outside the database; they still work', async () => {
    t = await startTestPlatform();
    const sub = await t.client.api.accounts.create({ friendlyName: 'sealed' });
    const key = await t.client.newKeys.create({ friendlyName: 'sealed key' });
    const subClient = sdkClient(t.url, sub.sid, sub.authToken);
    const secondary = await subClient.accounts.v1.secondaryAuthToken().create();

    await t.stop();
    const dump = await withDb(t, async (db) => ({
      accounts: await db.selectFrom('accounts').selectAll().execute(),
      keys: await db.selectFrom('api_keys').selectAll().execute(),
    }));
    const text = JSON.stringify(dump);
    for (const secret of [t.authToken, sub.authToken, key.secret, secondary.secondaryAuthToken]) {
      expect(text).not.toContain(secret);
    }
    for (const row of [...dump.accounts, ...dump.keys]) {
      expect(row.seal_key_id).toMatch(/^[0-9a-f]{12}$/);
    }
    const keyFile = join(t.config.dataDir, 'sealing-keys.json');
    if (t.config.sealingKey === undefined) {
      // The key made on first start, readable by the operator's user only.
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const file = JSON.parse(readFileSync(keyFile, 'utf8')) as { current: string };
      expect(dump.accounts[0]?.seal_key_id).toBe(file.current);
    } else {
      expect(existsSync(keyFile)).toBe(false);
    }

    t = await t.restart();
    const again = sdkClient(t.url, sub.sid, sub.authToken);
    expect((await again.api.accounts(sub.sid).fetch()).authToken).toBe(sub.authToken);
    const bySecondary = sdkClient(t.url, sub.sid, secondary.secondaryAuthToken);
    expect((await bySecondary.api.accounts(sub.sid).fetch()).status).toBe('active');
    const byKey = sdkClient(t.url, key.sid, key.secret, t.accountSid);
    expect((await byKey.api.accounts(t.accountSid).fetch()).sid).toBe(t.accountSid);
  });

  it('seals rows kept in the clear by an older version at the next start', async () => {
    t = await startTestPlatform();
    const sub = await t.client.api.accounts.create({ friendlyName: 'old' });
    const key = await t.client.newKeys.create({ friendlyName: 'old key' });
    await t.stop();
    // What the database held before sealing: the tokens and the key secret in the clear.
    await withDb(t, async (db) => {
      await db
        .updateTable('accounts')
        .set({ auth_token: sub.authToken, seal_key_id: null })
        .where('sid', '=', sub.sid)
        .execute();
      await db
        .updateTable('api_keys')
        .set({ signing_secret: key.secret, seal_key_id: null })
        .where('sid', '=', key.sid)
        .execute();
    });

    t = await t.restart();
    const client = sdkClient(t.url, sub.sid, sub.authToken);
    expect((await client.api.accounts(sub.sid).fetch()).friendlyName).toBe('old');
    await t.stop();
    const config = t.config;
    await withDb(t, async (db) => {
      const account = await db
        .selectFrom('accounts')
        .selectAll()
        .where('sid', '=', sub.sid)
        .executeTakeFirstOrThrow();
      const keyRow = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('sid', '=', key.sid)
        .executeTakeFirstOrThrow();
      expect(account.auth_token).not.toContain(sub.authToken);
      expect(keyRow.signing_secret).not.toContain(key.secret);
      expect(account.seal_key_id).toMatch(/^[0-9a-f]{12}$/);
      // And they open, under the node's key, to what they were.
      const { secrets } = await openSecrets(db, { ...config, reseal: false });
      expect(secrets.openAccount(account).auth_token).toBe(sub.authToken);
      expect(secrets.openKeySecret(key.sid, keyRow.signing_secret, keyRow.seal_key_id)).toBe(
        key.secret,
      );
    });
  });

  it('refuses to start with a key that opens none of the rows, and names the key it needs', async () => {
    t = await startTestPlatform();
    await t.stop();
    const { startPlatform } = await import('../../src/platform.js');
    await expect(
      startPlatform({ ...t.config, sealingKey: 'another-key-of-at-least-32-characters' }),
    ).rejects.toThrow(/sealed under key\(s\) [0-9a-f]{12}/);
    // A sealed value moved into another row (or column) does not open there.
    await withDb(t, async (db) => {
      const [a] = await db.selectFrom('accounts').selectAll().execute();
      const { secrets } = await openSecrets(db, { ...t!.config, reseal: false });
      expect(() => secrets.openAccount({ ...a!, sid: 'AC' + '0'.repeat(32) })).toThrow(/altered/);
    });
    t = await t.restart();
    expect((await t.client.api.accounts(t.accountSid).fetch()).status).toBe('active');
  });
});
