// Restricted API keys through the official SDK (iam v1 Keys), and their policy enforced on EVERY
// route: the route table is read from /openapi.json at run time (`x-twilio-permission`), so a
// route added later is covered without touching this file. For every route a key lacking its
// permission is refused with 70051 naming it, and a key holding it is let through (whatever the
// route answers then, it is not the policy refusal).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

interface Operation {
  method: string;
  path: string;
  access: string;
  permission: string | null;
}

let t: TestPlatform;
let operations: Operation[];
const fake = (prefix: string) => prefix + randomBytes(16).toString('hex');

async function restricted(allow: string[], friendlyName = 'restricted') {
  const key = await t.client.iam.v1.newApiKey.create({
    accountSid: t.accountSid,
    friendlyName,
    keyType: 'restricted',
    policy: { allow },
  });
  return { key, as: { url: t.url, accountSid: key.sid, authToken: key.secret! } };
}

async function tracker(name: string): Promise<string> {
  const res = await request(
    t,
    'POST',
    '/tracking/v1/Trackers',
    new URLSearchParams({ FriendlyName: name, Tags: name }).toString(),
  );
  expect(res.status).toBe(201);
  return String(res.json.sid);
}

beforeAll(async () => {
  t = await startTestPlatform();
  const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  operations = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        access: String(op['x-switchboard-access']),
        permission: (op['x-twilio-permission'] as string | null | undefined) ?? null,
      });
    }
  }
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
});

describe('restricted API keys (iam v1) through the SDK', () => {
  it('creates, shows, lists, updates and enforces a restricted key', async () => {
    const { key, as } = await restricted([
      '/twilio/voice/queues/create',
      '/twilio/voice/queues/list',
    ]);
    expect(key.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect(key.secret).toBeTruthy();
    expect(key.policy).toEqual({
      allow: ['/twilio/voice/queues/create', '/twilio/voice/queues/list'],
    });
    const client = sdkClient(t.url, key.sid, key.secret!, t.accountSid);
    const queue = await client.queues.create({ friendlyName: 'restricted queue' });
    expect((await client.queues.list()).map((q) => q.sid)).toContain(queue.sid);
    // read (fetch one) is not list: refused, naming the permission.
    await expect(client.queues(queue.sid).fetch()).rejects.toMatchObject({
      status: 403,
      code: 70051,
      message: expect.stringContaining('/twilio/voice/queues/read'),
    });
    await expect(client.applications.list()).rejects.toMatchObject({ status: 403, code: 70051 });
    // Keys and accounts are the AuthToken's, whatever the policy.
    await expect(client.newKeys.create({ friendlyName: 'x' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      client.iam.v1.newApiKey.create({ accountSid: t.accountSid, friendlyName: 'x' }),
    ).rejects.toMatchObject({ status: 403 });

    const fetched = await t.client.iam.v1.apiKey(key.sid).fetch();
    expect(fetched.policy).toEqual(key.policy);
    const listed = await t.client.iam.v1.getApiKeys.list({ accountSid: t.accountSid });
    expect(listed.find((k) => k.sid === key.sid)?.flags).toContain('restricted');

    // A new policy holds at once.
    const updated = await t.client.iam.v1.apiKey(key.sid).update({
      policy: { allow: ['/twilio/voice/queues/*'] },
    });
    expect(updated.policy).toEqual({ allow: ['/twilio/voice/queues/*'] });
    expect((await client.queues(queue.sid).fetch()).friendlyName).toBe('restricted queue');
    await expect(client.queues.list()).resolves.toBeDefined();
    await expect(client.calls.list()).rejects.toMatchObject({ code: 70051 });

    // Deleting revokes it.
    await t.client.iam.v1.apiKey(key.sid).remove();
    const gone = await request(as, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Queues.json`);
    expect(gone.status).toBe(401);
  });

  it('a standard key made through iam v1 reaches every route of its account', async () => {
    const key = await t.client.iam.v1.newApiKey.create({
      accountSid: t.accountSid,
      friendlyName: 'standard',
    });
    expect(key.policy).toBeNull();
    const client = sdkClient(t.url, key.sid, key.secret!, t.accountSid);
    await expect(client.queues.list()).resolves.toBeDefined();
    await expect(client.applications.list()).resolves.toBeDefined();
  });

  it('refuses malformed and unknown policies with Twilio codes', async () => {
    const create = (policy: string | undefined, keyType = 'restricted') =>
      request(
        t,
        'POST',
        '/iam/v1/Keys',
        new URLSearchParams({
          AccountSid: t.accountSid,
          KeyType: keyType,
          ...(policy === undefined ? {} : { Policy: policy }),
        }).toString(),
      );
    const unknown = await create(
      JSON.stringify({ allow: ['/twilio/fakepermission/doesnotexist'] }),
    );
    expect([unknown.status, unknown.json.code]).toEqual([400, 70002]);
    expect(String(unknown.json.message)).toContain('/twilio/fakepermission/doesnotexist');
    for (const bad of [undefined, 'not json', '{}', '{"allow":[]}', '{"allow":"x"}']) {
      const res = await create(bad);
      expect([res.status, res.json.code], String(bad)).toEqual([400, 70001]);
    }
    const tooMany = await create(
      JSON.stringify({ allow: Array.from({ length: 101 }, (_, i) => `/twilio/voice/calls/${i}`) }),
    );
    expect(tooMany.json.code).toBe(70001);
    const wrongType = await create(undefined, 'main');
    expect([wrongType.status, wrongType.json.code]).toEqual([400, 20001]);
    // Another account's SID: as if it did not exist.
    const other = await request(
      t,
      'POST',
      '/iam/v1/Keys',
      new URLSearchParams({ AccountSid: fake('AC') }).toString(),
    );
    expect(other.status).toBe(404);
  });

  it("a key holding one tracker's permission reads that tracker's measurements and nothing else", async () => {
    const mine = await tracker('delegated');
    const other = await tracker('not-delegated');
    const { as } = await restricted([`/switchboard/tracking/trackers/${mine}/measurements/read`]);
    const ok = await request(as, 'GET', `/tracking/v1/Trackers/${mine}/Measurements`);
    expect(ok.status).toBe(200);
    expect(ok.json.totals).toBeDefined();
    for (const path of [
      `/tracking/v1/Trackers/${other}/Measurements`,
      `/tracking/v1/Trackers/${mine}`,
      '/tracking/v1/Trackers',
      `/2010-04-01/Accounts/${t.accountSid}/Events.json`,
      `/2010-04-01/Accounts/${t.accountSid}/Calls.json`,
    ]) {
      const res = await request(as, 'GET', path);
      expect([res.status, res.json.code], path).toEqual([403, 70051]);
    }
  });
});

describe('every route in /openapi.json enforces restricted keys', () => {
  /** The path with its parameters filled, and the permission the request needs. */
  const fill = (op: Operation) => {
    const values = new Map<string, string>();
    const url = op.path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
      const value = name === 'AccountSid' ? t.accountSid : fake(name === 'Sid' ? 'TK' : 'XX');
      values.set(name, value);
      return value;
    });
    const needed = op.permission?.replace(/\{([A-Za-z]+)\}/g, (_m, n: string) => values.get(n)!);
    return { url, needed };
  };

  it('names a permission for every account route but the AuthToken-only ones', () => {
    const account = operations.filter((o) => o.access === 'account');
    expect(account.length).toBeGreaterThan(100);
    const without = account.filter((o) => o.permission === null).map((o) => o.path);
    // Only the account itself, its keys and its AuthTokens are kept from restricted keys.
    for (const path of without)
      expect(path).toMatch(/\/Accounts(\/\{AccountSid\})?\.json$|Keys|AuthTokens/);
    for (const o of account) {
      if (o.permission)
        expect(o.permission).toMatch(
          /^\/(twilio|switchboard)\/[a-z-]+\/[a-z.{}A-Z/-]+\/(create|read|list|update|delete)$/,
        );
    }
  });

  it('refuses a key lacking the permission and admits one holding it', async () => {
    const unrelated = await tracker('unrelated');
    const { as: lacking } = await restricted([
      `/switchboard/tracking/trackers/${unrelated}/measurements/read`,
    ]);
    const problems: string[] = [];
    const guarded = operations.filter((o) => o.access !== 'public');
    const filled = guarded.map((op) => ({ op, ...fill(op) }));
    for (const { op, url } of filled) {
      const res = await request(lacking, op.method, url);
      const expected = op.access === 'account' && op.permission ? 70051 : res.json.code;
      if (res.status !== 403 || res.json.code !== expected) {
        problems.push(`lacking: ${op.method} ${url} → ${res.status} ${JSON.stringify(res.json)}`);
      }
    }
    // Keys holding the permissions (at most 100 each), then every route again.
    const withPermission = filled.filter((f) => f.needed && f.op.access === 'account');
    for (let i = 0; i < withPermission.length; i += 100) {
      const batch = withPermission.slice(i, i + 100);
      const { as: holding } = await restricted(batch.map((f) => f.needed!));
      for (const { op, url, needed } of batch) {
        const res = await request(holding, op.method, url);
        if (res.json.code === 70051)
          problems.push(`holding ${needed}: ${op.method} ${url} → 70051`);
      }
    }
    expect(withPermission.length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  }, 180_000);
});
