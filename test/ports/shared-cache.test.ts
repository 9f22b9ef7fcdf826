// The read-through cache of rarely changing rows (numbers, modules, spend limits): two nodes,
// each with its own cache on one shared state (one memory state in process; two Redis
// connections with REDIS_URL), see each other's writes, and a lookup that raced a write never
// keeps the old row.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedCache } from '../../src/cache/index.js';
import { createLogger } from '../../src/core/index.js';
import { createMemoryState, createRedisState, type SharedState } from '../../src/state/index.js';
import { until } from '../support/until.js';

const redisUrl =
  process.env.REDIS_URL ?? (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);
const logger = createLogger('silent');

/** Two nodes' views of one shared state. */
type Pair = () => Promise<[SharedState, SharedState]>;
const implementations: [string, Pair][] = [
  [
    'memory',
    async () => {
      const s = createMemoryState();
      return [s, s];
    },
  ],
];
if (redisUrl) {
  implementations.push([
    'redis',
    async () => {
      const prefix = `sbtest:${randomBytes(4).toString('hex')}:`;
      return Promise.all([
        createRedisState({ url: redisUrl, prefix }),
        createRedisState({ url: redisUrl, prefix }),
      ]);
    },
  ]);
}

describe.each(implementations)('SharedCache on %s state', (_name, pair) => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  async function nodes(): Promise<[SharedCache, SharedCache]> {
    const [sa, sb] = await pair();
    const a = new SharedCache({ channel: 'test:cache', state: sa, logger });
    const b = new SharedCache({ channel: 'test:cache', state: sb, logger });
    await a.start();
    await b.start();
    closers.push(async () => {
      await a.stop();
      await b.stop();
      await sa.close();
      if (sb !== sa) await sb.close();
    });
    return [a, b];
  }

  it('answers from memory until a write on either node clears both', async () => {
    const [a, b] = await nodes();
    // The "database": one row both nodes read.
    let row = 'v1';
    let reads = 0;
    const load = async () => {
      reads++;
      return row;
    };
    expect(await a.get('k', load)).toBe('v1');
    expect(await b.get('k', load)).toBe('v1');
    expect(await a.get('k', load)).toBe('v1');
    expect(reads).toBe(2);

    row = 'v2';
    await b.changed();
    // The writer's own node sees the change at once; the other once the bus delivers it.
    expect(await b.get('k', load)).toBe('v2');
    await until('node a to drop v1', async () => (await a.get('k', load)) === 'v2');
  });

  it('caches a lookup that found nothing, until a write', async () => {
    const [a, b] = await nodes();
    let row: string | undefined = undefined;
    let reads = 0;
    const load = async () => {
      reads++;
      return row;
    };
    expect(await a.get('missing', load)).toBeUndefined();
    expect(await a.get('missing', load)).toBeUndefined();
    expect(reads).toBe(1);
    row = 'now here';
    await b.changed();
    await until(
      'node a to see the new row',
      async () => (await a.get('missing', load)) !== undefined,
    );
  });

  it('does not keep what a lookup read while a write happened', async () => {
    const [a] = await nodes();
    let row = 'old';
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A slow read that got the old row just before the write committed.
    const racing = a.get('race', async () => {
      const seen = row;
      await gate;
      return seen;
    });
    row = 'new';
    await a.changed();
    release();
    expect(await racing).toBe('old'); // its caller gets what it read…
    expect(await a.get('race', async () => row)).toBe('new'); // …but it was not kept
  });
});
