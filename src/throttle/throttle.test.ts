// The throttle engine over each shared-state implementation: in process, and Redis when
// REDIS_URL is set (or on CI, where it must be).
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryState, createRedisState, type SharedState } from '../state/index.js';
import { resourceNamer } from './identity.js';
import { DEFAULT_OPTIONS, type ThrottleOptions } from './options.js';
import { Throttle, type RequestFacts, type VerifiedCredential } from './throttle.js';

const redisUrl =
  process.env.REDIS_URL ?? (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl)
  console.warn('throttle: REDIS_URL not set, the Redis-backed engine is not exercised');

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = () => randomBytes(16).toString('hex');

const ALICE = { accountSid: 'AC' + hex(), credentialSid: '' };
ALICE.credentialSid = ALICE.accountSid;
const BOB_KEY = { accountSid: 'AC' + hex(), credentialSid: 'SK' + hex() };
const basic = (user: string, pass: string) =>
  'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const AUTH_ALICE = basic(ALICE.accountSid, 'alice-secret');
const AUTH_BOB = basic(BOB_KEY.credentialSid, 'bob-secret');

// What the edge has checked before the throttle sees a request (wrong secrets prove nothing).
const credentialOf = (authorization: string | undefined): VerifiedCredential | undefined => {
  if (authorization === AUTH_ALICE) return ALICE;
  if (authorization === AUTH_BOB) return BOB_KEY;
  return undefined;
};

const ROUTE = '/2010-04-01/Accounts/:AccountSid/Keys/:Sid.json';
const keyResource = resourceNamer(ROUTE);
const facts = (authorization?: string, sid = 'SK' + '0'.repeat(32)): RequestFacts => ({
  method: 'GET',
  resource: keyResource('GET', { AccountSid: ALICE.accountSid, Sid: sid }),
  credential: credentialOf(authorization),
  remoteAddress: '192.0.2.10',
  forwardedFor: undefined,
});

const options = (patch: Partial<ThrottleOptions> = {}): ThrottleOptions => ({
  ...DEFAULT_OPTIONS,
  // An hour: no bucket boundary can move the counts of a test that lasts seconds.
  windowMs: 3_600_000,
  threshold: 3,
  delayMs: 20,
  maxDelayMs: 80,
  ...patch,
});

type MakeState = (prefix: string) => Promise<SharedState>;
const backends: [string, MakeState][] = [['memory', async () => createMemoryState()]];
if (redisUrl) backends.push(['redis', (prefix) => createRedisState({ url: redisUrl, prefix })]);

describe.each(backends)('throttle engine over %s state', (kind, makeState) => {
  const opened: SharedState[] = [];
  const throttles: Throttle[] = [];
  /** Each call is one API node; nodes made with the same prefix share Redis counters. */
  const shared = new Map<string, SharedState>();
  const node = async (patch: Partial<ThrottleOptions> = {}, prefix = `sbthr:${hex()}:`) => {
    let state = kind === 'memory' ? shared.get(prefix) : undefined;
    if (!state) {
      state = await makeState(prefix);
      opened.push(state);
      shared.set(prefix, state);
    }
    const t = new Throttle({ state, options: options(patch), logger });
    throttles.push(t);
    return t;
  };
  afterAll(async () => {
    for (const t of throttles) t.close();
    await Promise.all(opened.map((s) => s.close()));
  });

  /** One request answered with `status`; returns its ticket. */
  const hit = async (t: Throttle, f: RequestFacts, status: number) => {
    const ticket = await t.begin(f);
    if (!ticket) throw new Error('exempt');
    await t.end(ticket, status);
    return ticket;
  };

  it('delays a requester repeating a failing request, growing and capped, and not others', async () => {
    const t = await node();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) delays.push((await hit(t, facts(AUTH_ALICE), 404)).delayMs);
    expect(delays).toEqual([0, 0, 0, 20, 40, 80, 80, 80]);
    // Another credential, and the same credential on another resource, are not slowed.
    expect((await hit(t, facts(AUTH_BOB), 200)).delayMs).toBe(0);
    expect((await hit(t, facts(AUTH_ALICE, 'SK' + '1'.repeat(32)), 200)).delayMs).toBe(0);
    const ticket = await hit(t, facts(AUTH_ALICE), 404);
    expect(ticket.requester).toBe(ALICE.accountSid);
    expect(ticket.errors).toBeCloseTo(8, 1);
  });

  it('really waits the delay, on a timer', async () => {
    const t = await node({ threshold: 1, delayMs: 60, maxDelayMs: 60 });
    await hit(t, facts(AUTH_ALICE), 500);
    const started = performance.now();
    const ticket = await hit(t, facts(AUTH_ALICE), 500);
    expect(ticket.delayMs).toBe(60);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('recovers after a success (reset) or halves (SUCCESS_KEEP 50)', async () => {
    const t = await node();
    for (let i = 0; i < 5; i++) await hit(t, facts(AUTH_ALICE), 404);
    await hit(t, facts(AUTH_ALICE), 200);
    expect((await hit(t, facts(AUTH_ALICE), 404)).delayMs).toBe(0);

    const half = await node({ successKeep: 0.5 });
    for (let i = 0; i < 8; i++) await hit(half, facts(AUTH_ALICE), 404);
    await hit(half, facts(AUTH_ALICE), 200);
    const after = await hit(half, facts(AUTH_ALICE), 404);
    // The success arrived while slowed, so it counted as the 9th error on arrival: 9 / 2.
    expect(after.errors).toBeCloseTo(4.5, 1);
  });

  it('recovers once the window has passed', async () => {
    const t = await node({ windowMs: 2000 });
    let last;
    for (let i = 0; i < 5; i++) last = await hit(t, facts(AUTH_ALICE), 404);
    expect(last?.errors).toBeGreaterThan(0);
    await sleep(4200);
    expect((await hit(t, facts(AUTH_ALICE), 404)).delayMs).toBe(0);
  });

  it('does not count its own 429s, and counts only configured statuses', async () => {
    const t = await node({ rate: 2, rateWindowMs: 60_000, threshold: 1 });
    await hit(t, facts(AUTH_BOB), 200);
    await hit(t, facts(AUTH_BOB), 200);
    const refused = await hit(t, facts(AUTH_BOB), 429);
    expect(refused.refusal?.code).toBe(20429);
    expect(refused.refusal?.status).toBe(429);
    expect(refused.refusal?.headers['Retry-After']).toBe('60');
    const other = await node({ rate: 0, threshold: 1, isError: (s) => s >= 500 });
    await hit(other, facts(AUTH_BOB), 404);
    expect((await hit(other, facts(AUTH_BOB), 200)).delayMs).toBe(0);
  });

  it('limits requests in progress per account, with Retry-After, and frees slots', async () => {
    const t = await node({ concurrency: 2 });
    const a = await t.begin(facts(AUTH_ALICE));
    const b = await t.begin(facts(AUTH_ALICE));
    const c = await t.begin(facts(AUTH_ALICE));
    expect(a?.refusal).toBeUndefined();
    expect(b?.refusal).toBeUndefined();
    expect(c?.refusal?.code).toBe(20429);
    expect(c?.refusal?.headers['Retry-After']).toBe('1');
    // Another account is not affected.
    expect((await t.begin(facts(AUTH_BOB)))?.refusal).toBeUndefined();
    await t.end(a!, 200);
    const d = await t.begin(facts(AUTH_ALICE));
    expect(d?.refusal).toBeUndefined();
    await Promise.all([t.end(b!, 200), t.end(c!, 429), t.end(d!, 200)]);
  });

  it('treats a wrong secret as the client address', async () => {
    const t = await node();
    const bad = basic(ALICE.accountSid, 'wrong');
    const tickets = [];
    for (let i = 0; i < 5; i++) tickets.push(await hit(t, facts(bad), 401));
    expect(tickets[0]?.requester).toBe('ip:192.0.2.10');
    expect(tickets[4]?.delayMs).toBeGreaterThan(0);
    // Alice herself is not slowed by someone failing in her name.
    expect((await hit(t, facts(AUTH_ALICE), 200)).delayMs).toBe(0);
  });

  it('skips exempt routes and accounts', async () => {
    const t = await node({
      threshold: 0,
      exemptRoutes: ['/healthz', '/2010-04-01/Accounts/:AccountSid/Keys*'],
      exemptAccounts: [BOB_KEY.accountSid],
    });
    // Exempt routes get no hook at the edge; the throttle says which they are.
    expect(t.exemptRoute('/healthz')).toBe(true);
    expect(t.exemptRoute(ROUTE)).toBe(true);
    expect(t.exemptRoute('/x')).toBe(false);
    expect(t.exemptRoute(undefined)).toBe(false);
    const other = { ...facts(AUTH_BOB), resource: 'GET /x' };
    expect(await t.begin(other)).toBeUndefined();
    expect(await t.begin({ ...facts(AUTH_ALICE), resource: 'GET /x' })).toBeDefined();
  });

  it('agrees across two nodes sharing the state', async () => {
    const prefix = `sbthr:${hex()}:`;
    const a = await node({}, prefix);
    const b = await node({}, prefix);
    for (let i = 0; i < 4; i++) await hit(a, facts(AUTH_ALICE), 404);
    expect((await hit(b, facts(AUTH_ALICE), 404)).delayMs).toBe(40);
    await hit(b, facts(AUTH_ALICE), 200);
    expect((await hit(a, facts(AUTH_ALICE), 200)).delayMs).toBe(0);
  });

  it('stays bounded under garbage identities and a huge number of keys', async () => {
    const t = await node({ maxKeys: 500, threshold: 1 });
    for (let i = 0; i < 2000; i++) {
      const garbage =
        i % 2 ? basic('AC' + hex(), hex()) : 'Basic ' + randomBytes(40).toString('base64');
      await hit(
        t,
        {
          ...facts(garbage, 'SK' + hex()),
          remoteAddress: `198.51.${(i >> 8) & 255}.${i & 255}`,
          forwardedFor: randomBytes(30).toString('latin1'),
        },
        404,
      );
    }
    expect(t.keysTracked).toBeLessThanOrEqual(500);
  });

  it('ends a delay early when the client leaves', async () => {
    const t = await node({ threshold: 1, delayMs: 60_000, maxDelayMs: 60_000 });
    await hit(t, facts(AUTH_ALICE), 404);
    const ticket = await t.begin(facts(AUTH_ALICE), { onGone: (wake) => setTimeout(wake, 20) });
    expect(ticket?.delayMs).toBe(60_000);
    await t.end(ticket!, undefined);
  });

  it('ends pending delays when closed', async () => {
    const t = await node({ threshold: 1, delayMs: 60_000, maxDelayMs: 60_000 });
    await hit(t, facts(AUTH_ALICE), 404);
    const pending = t.begin(facts(AUTH_ALICE));
    await sleep(20);
    t.close();
    expect((await pending)?.delayMs).toBe(60_000);
  });
});

describe('throttle engine failure handling', () => {
  it('lets requests through when the shared state fails (fail open)', async () => {
    const state = createMemoryState();
    state.slide = async () => {
      throw new Error('connection lost');
    };
    const t = new Throttle({ state, options: options(), logger });
    for (let i = 0; i < 10; i++) {
      const ticket = await t.begin(facts(AUTH_ALICE));
      expect(ticket?.delayMs).toBe(0);
      expect(ticket?.refusal).toBeUndefined();
      await t.end(ticket!, 404);
    }
    await state.close();
  });

  it('exposes its metrics', async () => {
    const metrics = new Registry();
    const state = createMemoryState();
    const t = new Throttle({
      state,
      options: options({ threshold: 1, delayMs: 1, maxDelayMs: 1, concurrency: 1 }),
      logger,
      metrics,
    });
    const first = (await t.begin(facts(AUTH_ALICE)))!;
    await t.begin(facts(AUTH_ALICE));
    await t.end(first, 404);
    await t.end((await t.begin(facts(AUTH_ALICE)))!, 404);
    const text = await metrics.metrics();
    expect(text).toMatch(/switchboard_throttle_delayed_requests_total\{reason="errors"\} 1/);
    expect(text).toMatch(/switchboard_throttle_delay_seconds_total 0\.001/);
    expect(text).toMatch(/switchboard_throttle_refused_requests_total\{reason="concurrency"\} 1/);
    expect(text).toMatch(/switchboard_throttle_keys_tracked 1/);
    await state.close();
  });
});
