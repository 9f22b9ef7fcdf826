// Error-aware throttling through the real HTTP API: the platform started in process (SQLite, or
// PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set), clients over real sockets.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

const DELAY = 'x-switchboard-throttle-delay';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const missingKey = (account: string) =>
  `/2010-04-01/Accounts/${account}/Keys/SK${'0'.repeat(32)}.json`;

/** Small delays so the test stays short; a window no test outlasts. */
const THROTTLE = {
  throttle: true,
  throttleThreshold: 3,
  throttleDelayMs: 40,
  throttleMaxDelayMs: 160,
  throttleWindowMs: 3_600_000,
};

type Client = { url: string; accountSid: string; authToken: string };

/** A subaccount: another client, with its own credentials. */
async function createSubaccount(t: TestPlatform): Promise<Client> {
  const res = await request(t, 'POST', '/2010-04-01/Accounts.json', 'FriendlyName=second');
  expect(res.status).toBe(201);
  return { url: t.url, accountSid: String(res.json.sid), authToken: String(res.json.auth_token) };
}

describe('throttling through the HTTP API', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ ...THROTTLE, throttleMaxKeys: 100 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('slows a client repeating a request to a missing resource, which still gets 404', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await request(t, 'GET', missingKey(t.accountSid));
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ code: 20404, status: 404 });
      delays.push(Number(res.headers.get(DELAY) ?? 0));
    }
    expect(delays).toEqual([0, 0, 0, 40, 80, 160, 160]);
  });

  it('does not slow a second client at the same time', async () => {
    const other = await createSubaccount(t);
    const [slowed, fresh] = await Promise.all([
      request(t, 'GET', missingKey(t.accountSid)),
      request(other, 'GET', missingKey(other.accountSid)),
    ]);
    expect(slowed.status).toBe(404);
    expect(slowed.headers.get(DELAY)).toBe('160');
    expect(fresh.status).toBe(404);
    expect(fresh.headers.get(DELAY)).toBeNull();
  });

  it('lets a client recover after a success on the resource', async () => {
    const path = `/2010-04-01/Accounts/${t.accountSid}.json`;
    for (let i = 0; i < 4; i++) {
      const bad = await request(t, 'POST', path, 'Status=sleeping');
      expect(bad.status).toBe(400);
    }
    const slowed = await request(t, 'POST', path, 'Status=sleeping');
    expect(slowed.headers.get(DELAY)).toBe('80');
    const ok = await request(t, 'POST', path, 'FriendlyName=recovered');
    expect(ok.status).toBe(200);
    expect(ok.headers.get(DELAY)).toBe('160');
    const after = await request(t, 'POST', path, 'Status=sleeping');
    expect(after.status).toBe(400);
    expect(after.headers.get(DELAY)).toBeNull();
  });

  it('records each delay as a tag on the interaction event, and in /metrics', async () => {
    const events = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Events.json?Tag=throttle:delayed&PageSize=100`,
    );
    expect(events.status).toBe(200);
    const list = events.json.events as { tags: string[]; status: number }[];
    expect(list.length).toBeGreaterThanOrEqual(6);
    expect(list[0]?.tags).toContain('throttle:delayed');
    expect(list.some((e) => e.tags.includes('throttle:delay-ms:160'))).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_throttle_delayed_requests_total\{reason="errors"\} \d+/);
    expect(metrics).toMatch(/switchboard_throttle_delay_seconds_total \d/);
    expect(metrics).toMatch(/switchboard_throttle_keys_tracked \d+/);
  });

  it('stays bounded and serving under garbage identities and many keys', async () => {
    const sends = [];
    for (let i = 0; i < 300; i++) {
      const garbage =
        i % 3 === 0
          ? 'Basic ' + randomBytes(60).toString('base64')
          : i % 3 === 1
            ? 'Basic ' + Buffer.from(`AC${randomBytes(16).toString('hex')}:x`).toString('base64')
            : 'Basic ' + Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64');
      sends.push(
        fetch(
          `${t.url}/2010-04-01/Accounts/${t.accountSid}/Keys/SK${randomBytes(16).toString('hex')}.json`,
          {
            headers: {
              authorization: garbage,
              'x-forwarded-for': `${randomBytes(8).toString('hex')}, 10.${i % 256}.0.1`,
            },
          },
        ).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      );
      if (sends.length >= 20) expect(await Promise.all(sends.splice(0))).not.toContain(500);
    }
    expect(await Promise.all(sends)).not.toContain(500);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const tracked = Number(/switchboard_throttle_keys_tracked (\d+)/.exec(metrics)?.[1]);
    expect(tracked).toBeGreaterThan(0);
    expect(tracked).toBeLessThanOrEqual(100);
    expect((await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}.json`)).status).toBe(200);
  });

  it('never throttles exempt routes', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${t.url}/healthz`);
      await res.arrayBuffer();
      expect(res.headers.get(DELAY)).toBeNull();
    }
  });
});

describe('throttle window and rate limit', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({
      ...THROTTLE,
      throttleThreshold: 2,
      throttleWindowMs: 3000,
      throttleRate: 12,
      throttleRateWindowMs: 600_000,
    });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('forgets errors once the window has passed', async () => {
    const delays: (string | null)[] = [];
    for (let i = 0; i < 5; i++)
      delays.push((await request(t, 'GET', missingKey(t.accountSid))).headers.get(DELAY));
    expect(delays.some((d) => d !== null)).toBe(true);
    await sleep(6200);
    const res = await request(t, 'GET', missingKey(t.accountSid));
    expect(res.status).toBe(404);
    expect(res.headers.get(DELAY)).toBeNull();
  });

  it('answers 429 (20429) with Retry-After past the per-credential rate', async () => {
    let refused;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}.json`);
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused?.json).toMatchObject({ code: 20429, status: 429 });
    expect(refused?.headers.get('retry-after')).toBe('600');
  });
});

const redisUrl =
  process.env.REDIS_URL ?? (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) console.warn('throttle: REDIS_URL not set, the two-node throttle test is skipped');

describe.skipIf(!redisUrl)('throttling across two API nodes sharing Redis', () => {
  const nodes: TestPlatform[] = [];
  beforeAll(async () => {
    const shared = {
      ...THROTTLE,
      redisUrl,
      redisPrefix: `sbt:${randomBytes(4).toString('hex')}:`,
      accountSid: 'AC' + randomBytes(16).toString('hex'),
      authToken: randomBytes(16).toString('hex'),
    };
    nodes.push(await startTestPlatform(shared));
    nodes.push(await startTestPlatform(shared));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
  });

  it('counts errors made on either node, and a success on one resets both', async () => {
    const [a, b] = nodes as [TestPlatform, TestPlatform];
    expect(a.url).not.toBe(b.url);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await request(i % 2 ? b : a, 'GET', missingKey(a.accountSid));
      expect(res.status).toBe(404);
      delays.push(Number(res.headers.get(DELAY) ?? 0));
    }
    expect(delays).toEqual([0, 0, 0, 40, 80, 160]);

    const path = `/2010-04-01/Accounts/${a.accountSid}.json`;
    for (let i = 0; i < 4; i++) await request(i % 2 ? b : a, 'POST', path, 'Status=sleeping');
    expect((await request(b, 'POST', path, 'Status=sleeping')).headers.get(DELAY)).toBe('80');
    expect((await request(a, 'POST', path, 'FriendlyName=ok')).status).toBe(200);
    expect((await request(b, 'POST', path, 'Status=sleeping')).headers.get(DELAY)).toBeNull();
  });
});
