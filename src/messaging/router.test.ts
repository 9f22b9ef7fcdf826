import { describe, expect, it } from 'vitest';
import { decide, priceFor, score, type Candidate } from './router.js';

const base: Omit<Candidate, 'sid' | 'name' | 'price'> = {
  prefix: '44',
  throughput: 100,
  queueDepth: 0,
  maxWaitMs: 60_000,
  delivered: 0,
  finished: 0,
  latencyP50Ms: null,
  healthy: true,
  priority: 0,
};
const c = (sid: string, price: number, extra: Partial<Candidate> = {}): Candidate => ({
  ...base,
  sid,
  name: sid,
  price,
  ...extra,
});

describe('routing score', () => {
  it('matches the longest price prefix', () => {
    const prices = { '': 0.05, '44': 0.03, '447': 0.02 };
    expect(priceFor(prices, '+447700900123')).toEqual({ prefix: '447', price: 0.02 });
    expect(priceFor(prices, '+4420')).toEqual({ prefix: '44', price: 0.03 });
    expect(priceFor(prices, '+1555')).toEqual({ prefix: '', price: 0.05 });
    expect(priceFor({ '1': 0.01 }, '+44')).toBeUndefined();
  });

  it('prefers the cheaper provider when all else is equal', () => {
    expect(decide([c('a', 0.04), c('b', 0.02)])!.chosen.sid).toBe('b');
  });

  it('spills over when the cheap queue would wait too long', () => {
    const cheapButFull = c('cheap', 0.02, { queueDepth: 6000, throughput: 100 });
    expect(decide([cheapButFull, c('dear', 0.03)])!.chosen.sid).toBe('dear');
  });

  it('avoids a provider that does not deliver, and skips unhealthy ones', () => {
    const bad = c('bad', 0.02, { delivered: 10, finished: 100 });
    expect(decide([bad, c('good', 0.025, { delivered: 100, finished: 100 })])!.chosen.sid).toBe(
      'good',
    );
    expect(decide([c('down', 0.01, { healthy: false }), c('up', 0.05)])!.chosen.sid).toBe('up');
    // With nobody healthy the best one is still chosen, and the reason says so.
    const d = decide([c('down', 0.01, { healthy: false })])!;
    expect(d.chosen.sid).toBe('down');
    expect(d.reason).toMatch(/no healthy provider/);
  });

  it('follows the configured weights and records every candidate', () => {
    const fast = c('fast', 0.05, { latencyP50Ms: 100 });
    const slow = c('slow', 0.02, { latencyP50Ms: 20_000 });
    expect(decide([fast, slow])!.chosen.sid).toBe('slow');
    const d = decide([fast, slow], {
      price: 0,
      queue: 0,
      delivery: 0,
      latency: 1,
      health: 0,
      priority: 0,
    })!;
    expect(d.chosen.sid).toBe('fast');
    expect(d.candidates.map((x) => x.sid)).toEqual(['fast', 'slow']);
    expect(score([fast, slow])[0]!.terms).toHaveProperty('latency');
  });

  it('can exclude providers (re-routing)', () => {
    expect(decide([c('a', 0.01), c('b', 0.02)], undefined, new Set(['a']))!.chosen.sid).toBe('b');
    expect(decide([c('a', 0.01)], undefined, new Set(['a']))).toBeUndefined();
  });
});
