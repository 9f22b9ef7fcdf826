// Rotating the key that seals SIP credential passwords, on SQLite and (with DATABASE_URL, or
// always in CI) on PostgreSQL: passwords sealed under the key kept in the database move under a
// configured key at start, then from that key to the next one named with
// SWITCHBOARD_SIP_CREDENTIAL_PREVIOUS_KEYS; a node told of neither refuses the phone (and says
// why) without touching the rows, so that the right configuration still opens them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { SecretBox, SipDomains, migrations } from '../../src/voice/sip-domains/index.js';
import { testSchema } from '../support/schema.js';

const pgUrl =
  process.env.DATABASE_URL ??
  (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);
const dir = mkdtempSync(join(tmpdir(), 'sb-sipkey-'));
const targets: [string, () => Promise<Store>][] = [
  [
    'sqlite',
    () => openStore({ dataDir: dir, sqliteFile: `s${randomBytes(3).toString('hex')}.db` }),
  ],
];
if (pgUrl)
  targets.push([
    'postgres',
    () => openStore({ dataDir: dir, databaseUrl: pgUrl, schema: testSchema('sbtest') }),
  ]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ACCOUNT = 'AC' + 'a'.repeat(32);
const PASSWORD = 'Alice12345Secret';
const KEY_A = 'first configured key, 32+ characters long';
const KEY_B = 'second configured key, 32+ characters long';

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe.each(targets)('SIP credential key rotation: %s', (_name, open) => {
  it('moves passwords to each new key and keeps them when a node lacks the old one', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<{ sip_credentials: { key_id: string } }>();
    const keyIds = async () =>
      (await db.selectFrom('sip_credentials').select('key_id').execute()).map((r) => r.key_id);
    const node = async (key?: string, previous: string[] = []) => {
      const { logger, lines } = capturingLogger();
      const domains = new SipDomains(store, logger, key, previous);
      await domains.start();
      const policy = await domains.registrationPolicy('office.example.com');
      if (!('lookup' in policy) || !policy.lookup) throw new Error('registration refused');
      return { password: (await policy.lookup('alice'))?.password, lines };
    };
    try {
      // First start without a key: the generated one is kept in the database.
      const { logger } = capturingLogger();
      const first = new SipDomains(store, logger, undefined);
      await first.start();
      const list = await first.createList(ACCOUNT, 'phones');
      await first.createCredential(ACCOUNT, list.sid, 'alice', PASSWORD);
      await first.createCredential(ACCOUNT, list.sid, 'bob', PASSWORD + 'b');
      const domain = await first.createDomain(ACCOUNT, 'office.example.com', {
        sip_registration: 1,
      });
      await first.map(ACCOUNT, domain.sid, 'registrations', list.sid);
      const kept = await keyIds();
      expect(new Set(kept).size).toBe(1);

      // A key is configured: the passwords move under it at start.
      const a = await node(KEY_A);
      expect(a.password).toBe(PASSWORD);
      expect(await keyIds()).toEqual([new SecretBox(KEY_A).keyId, new SecretBox(KEY_A).keyId]);
      expect(a.lines.some((l) => l.credentials === 2 && /sealed again/.test(String(l.msg)))).toBe(
        true,
      );

      // A node given a new key but not the old one: the phone is refused, the rows untouched.
      const lost = await node(KEY_B);
      expect(lost.password).toBeUndefined();
      expect(lost.lines.some((l) => /not configured/.test(String(l.msg)))).toBe(true);
      expect(await keyIds()).toEqual([new SecretBox(KEY_A).keyId, new SecretBox(KEY_A).keyId]);

      // The rotation as documented: the new key, the old one among the previous keys.
      const b = await node(KEY_B, [KEY_A]);
      expect(b.password).toBe(PASSWORD);
      expect(await keyIds()).toEqual([new SecretBox(KEY_B).keyId, new SecretBox(KEY_B).keyId]);

      // From now on the new key alone opens them.
      expect((await node(KEY_B)).password).toBe(PASSWORD);
      expect((await node(KEY_A)).password).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
