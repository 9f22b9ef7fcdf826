// The queue store's promises under concurrency, on the configured backend (SQLite, or
// PostgreSQL with several pooled connections): MaxSize holds when many calls join at once,
// a member is taken by exactly one of many concurrent claimers, and the order is FIFO.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/voice/queues/index.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
let store: QueueStore;
beforeAll(async () => {
  t = await startTestPlatform();
  store = new QueueStore(t.platform.store);
});
afterAll(async () => {
  await t?.cleanup();
});

const callSid = () => 'CA' + randomBytes(16).toString('hex');

describe('QueueStore', () => {
  it('admits exactly MaxSize of many concurrent joins and hands each member to one claimer', async () => {
    const created = await store.ensure(t.accountSid, 'race');
    const queue = await store.update(created, { maxSize: 10 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => store.join(queue, callSid(), 'node-a', Date.now())),
    );
    const joined = results.flatMap((r) => (r.kind === 'joined' ? [r.member] : []));
    expect(joined).toHaveLength(10);
    expect(new Set(joined.map((m) => m.seq)).size).toBe(10);
    expect((await store.get(t.accountSid, queue.sid))?.current_size).toBe(10);
    const positions = await Promise.all(joined.map((m) => store.position(m)));
    expect([...positions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const claims = await Promise.all(Array.from({ length: 15 }, () => store.claimFront(queue.sid)));
    const taken = claims.filter((c) => c !== undefined).map((c) => c.call_sid);
    expect(taken).toHaveLength(10);
    expect(new Set(taken)).toEqual(new Set(joined.map((m) => m.call_sid)));
    expect((await store.get(t.accountSid, queue.sid))?.current_size).toBe(0);
    expect(await store.deleteIfEmpty(queue)).toBe(true);
  });

  it('takes members first in, first out, and restores one to its old place', async () => {
    const queue = await store.ensure(t.accountSid, 'fifo');
    const sids = [callSid(), callSid(), callSid()];
    for (const sid of sids) await store.join(queue, sid, 'node-a', Date.now());
    const first = await store.claimFront(queue.sid);
    expect(first?.call_sid).toBe(sids[0]);
    await store.restore(first!);
    expect((await store.front(queue.sid))?.call_sid).toBe(sids[0]);
    expect(await store.deleteIfEmpty(queue)).toBe(false);
    const order = [];
    for (let m = await store.claimFront(queue.sid); m; m = await store.claimFront(queue.sid))
      order.push(m.call_sid);
    expect(order).toEqual(sids);
    expect(await store.remove(sids[0]!)).toBeUndefined();
  });

  it('removes the members of a node that stopped confirming them', async () => {
    const queue = await store.ensure(t.accountSid, 'heartbeat');
    const alive = callSid();
    const ghost = callSid();
    await store.join(queue, alive, 'node-alive', 1_000);
    await store.join(queue, ghost, 'node-crashed', 1_000);
    await store.touch('node-alive', 100_000);
    const gone = await store.purgeStale(50_000);
    expect(gone.map((m) => m.call_sid)).toEqual([ghost]);
    expect((await store.get(t.accountSid, queue.sid))?.current_size).toBe(1);
    expect((await store.front(queue.sid))?.call_sid).toBe(alive);
  });
});
