// One contract, every implementation of the shared-state port (the way Hono runs one suite
// against every router). Redis runs when REDIS_URL is set, or on CI where it must be.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryState, createRedisState, type SharedState } from '../../src/state/index.js';

const redisUrl =
  process.env.REDIS_URL ?? (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);

const implementations: [string, () => Promise<SharedState>][] = [
  ['memory', async () => createMemoryState({ maxKeys: 1000 })],
];
if (redisUrl) {
  implementations.push([
    'redis',
    () => createRedisState({ url: redisUrl, prefix: `sbtest:${randomBytes(4).toString('hex')}:` }),
  ]);
} else {
  console.warn('state contract: REDIS_URL not set, the Redis implementation is not exercised');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(implementations)('SharedState contract: %s', (_name, make) => {
  const opened: SharedState[] = [];
  const open = async () => {
    const s = await make();
    opened.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('sets, gets and deletes values', async () => {
    const s = await open();
    expect(await s.get('a')).toBeNull();
    await s.set('a', 'one');
    expect(await s.get('a')).toBe('one');
    await s.del('a');
    expect(await s.get('a')).toBeNull();
  });

  it('expires values after their ttl', async () => {
    const s = await open();
    await s.set('t', 'x', 50);
    expect(await s.get('t')).toBe('x');
    await sleep(120);
    expect(await s.get('t')).toBeNull();
  });

  it('counts, and the ttl set on creation is not extended by increments', async () => {
    const s = await open();
    // Margins of several hundred ms each side, so that a loaded machine does not flip them.
    const created = performance.now();
    expect(await s.incr('c', 1, 1500)).toBe(1);
    expect(await s.incr('c', 2, 1500)).toBe(3);
    await sleep(700);
    expect(await s.incr('c', 1, 1500)).toBe(4); // had this extended the life, it would end at 2200
    await sleep(Math.max(0, created + 1800 - performance.now()));
    expect(await s.incr('c', 1, 1500)).toBe(1);
  });

  it('counts events in a sliding window, refuses past a maximum, scales and clears', async () => {
    const s = await open();
    expect(await s.slide('w', 10_000)).toEqual({ count: 0, added: false });
    expect(await s.slide('w', 10_000, { add: 1 })).toEqual({ count: 1, added: true });
    expect((await s.slide('w', 10_000, { add: 2 })).count).toBeCloseTo(3, 6);
    expect(await s.slide('w', 10_000, { add: 1, max: 3 })).toMatchObject({ added: false });
    expect((await s.slide('w', 10_000)).count).toBeCloseTo(3, 6);
    expect((await s.slide('w', 10_000, { scale: 0.5 })).count).toBeCloseTo(1.5, 6);
    expect((await s.slide('w', 10_000, { scale: 0 })).count).toBe(0);
    expect(await s.slide('w', 10_000)).toEqual({ count: 0, added: false });
    // Reads and scales of a missing counter create nothing.
    expect(await s.slide('never', 10_000, { scale: 0.5 })).toEqual({ count: 0, added: false });
  });

  it('forgets window counts once the window has passed', async () => {
    const s = await open();
    await s.slide('short', 100, { add: 5 });
    await sleep(260);
    expect((await s.slide('short', 100)).count).toBe(0);
  });

  it('holds at most limit semaphore slots, frees released and expired ones', async () => {
    const s = await open();
    expect(await s.acquire('sem', 'h1', 2, 10_000)).toBe(true);
    expect(await s.acquire('sem', 'h2', 2, 10_000)).toBe(true);
    expect(await s.acquire('sem', 'h3', 2, 10_000)).toBe(false);
    await s.release('sem', 'h1');
    await s.release('sem', 'nobody');
    expect(await s.acquire('sem', 'h3', 2, 10_000)).toBe(true);
    expect(await s.acquire('lease', 'x', 1, 80)).toBe(true);
    expect(await s.acquire('lease', 'y', 1, 80)).toBe(false);
    await sleep(150);
    expect(await s.acquire('lease', 'y', 1, 80)).toBe(true);
  });

  it('admits in one step: rate under its max, a counter read, a slot', async () => {
    const s = await open();
    await s.slide('errs', 10_000, { add: 3 });
    const ask = (holder: string) =>
      s.admit({
        rate: { key: 'rate', windowMs: 10_000, max: 2 },
        read: { key: 'errs', windowMs: 10_000 },
        slot: { key: 'slots', holder, limit: 1, leaseMs: 10_000 },
      });
    const first = await ask('a');
    expect(first.rateAdded).toBe(true);
    expect(first.count).toBeCloseTo(3, 6);
    expect(first.slot).toBe(true);
    // The read created or changed nothing; the slot is held; the rate counted one request.
    expect((await s.slide('errs', 10_000)).count).toBeCloseTo(3, 6);
    expect(await ask('b')).toMatchObject({ rateAdded: true, slot: false });
    expect(await ask('c')).toMatchObject({ rateAdded: false });
    expect((await s.slide('rate', 10_000)).count).toBeCloseTo(2, 6);
    await s.release('slots', 'a');
    // Without a rate or a slot: nothing refused, no slot taken, the count still read.
    const bare = await s.admit({ read: { key: 'errs', windowMs: 10_000 } });
    expect(bare.rateAdded).toBe(true);
    expect(bare.slot).toBe(false);
    expect(bare.count).toBeCloseTo(3, 6);
    expect((await s.admit({ read: { key: 'none', windowMs: 1000 } })).count).toBe(0);
  });

  it('paces a timeline: slots spaced by the interval, none taken beyond maxAhead', async () => {
    const s = await open();
    // Intervals of a second leave hundreds of ms for a loaded machine between the calls.
    const first = await s.pace('tl', 1000, 5000);
    expect(first).toEqual({ taken: true, waitMs: 0 });
    const second = await s.pace('tl', 1000, 5000);
    expect(second.taken).toBe(true);
    expect(second.waitMs).toBeGreaterThan(500);
    expect(second.waitMs).toBeLessThanOrEqual(1000);
    const third = await s.pace('tl', 1000, 5000);
    expect(third.waitMs).toBeGreaterThan(1500);
    // Too far ahead: reported, not taken, so the next caller sees the same slot.
    const refused = await s.pace('tl', 1000, 100);
    expect(refused.taken).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(2500);
    expect((await s.pace('tl', 1000, 5000)).waitMs).toBeLessThanOrEqual(refused.waitMs);
    // Once the interval has passed, the next slot is free at once.
    expect(await s.pace('short', 200, 1000)).toEqual({ taken: true, waitMs: 0 });
    await sleep(600);
    expect(await s.pace('short', 200, 1000)).toEqual({ taken: true, waitMs: 0 });
  });

  it('publishes to subscribers until they unsubscribe', async () => {
    const s = await open();
    const got: string[] = [];
    const stop = await s.subscribe('ch', (m) => got.push(m));
    await s.publish('ch', 'hello');
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(10);
    expect(got).toEqual(['hello']);
    await stop();
    await s.publish('ch', 'again');
    await sleep(50);
    expect(got).toEqual(['hello']);
  });
});

describe('memory state is bounded', () => {
  it('holds at most maxCounters window counters, apart from other values', async () => {
    const s = createMemoryState({ maxKeys: 10, maxCounters: 100 });
    await s.set('keep', 'v');
    for (let i = 0; i < 10_000; i++) await s.slide(`w${i}`, 60_000, { add: 1 });
    expect((await s.slide('w0', 60_000)).count).toBe(0);
    expect((await s.slide('w9999', 60_000)).count).toBe(1);
    expect(await s.get('keep')).toBe('v');
    await s.close();
  });

  it('survives its clock jumping back and forth (fail open, no crash)', async () => {
    let now = 1_000_000;
    const s = createMemoryState({ clock: () => now });
    await s.slide('j', 1000, { add: 4 });
    now -= 3_600_000;
    expect((await s.slide('j', 1000, { add: 1 })).count).toBe(1);
    now += 7_200_000;
    expect((await s.slide('j', 1000)).count).toBe(0);
    expect(await s.acquire('sem', 'a', 1, 1000)).toBe(true);
    now -= 10_000_000;
    expect(await s.acquire('sem', 'b', 1, 1000)).toBe(true);
    await s.close();
  });

  it('never holds more keys than its maximum', async () => {
    const s = createMemoryState({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) await s.set(`k${i}`, 'v');
    expect(await s.get('k0')).toBeNull();
    expect(await s.get('k9999')).toBe('v');
    await s.close();
  });
});
