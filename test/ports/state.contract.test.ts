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
    expect(await s.incr('c', 1, 150)).toBe(1);
    expect(await s.incr('c', 2, 150)).toBe(3);
    await sleep(80);
    expect(await s.incr('c', 1, 150)).toBe(4);
    await sleep(120);
    expect(await s.incr('c', 1, 150)).toBe(1);
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
  it('never holds more keys than its maximum', async () => {
    const s = createMemoryState({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) await s.set(`k${i}`, 'v');
    expect(await s.get('k0')).toBeNull();
    expect(await s.get('k9999')).toBe('v');
    await s.close();
  });
});
