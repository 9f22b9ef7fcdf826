import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMicros, msUntilPrice, parseMicros, rate, type UsagePlan } from './money.js';

const plan = (perMinute: string, increment: number, fee: string): UsagePlan => ({
  perMinuteMicros: parseMicros('rate', perMinute),
  incrementSeconds: increment,
  perInvocationMicros: parseMicros('fee', fee),
  currency: 'USD',
});

describe('money', () => {
  it('parses decimals exactly and refuses anything else', () => {
    expect(parseMicros('x', '0.02')).toBe(20_000);
    expect(parseMicros('x', '5')).toBe(5_000_000);
    expect(parseMicros('x', '0.000001')).toBe(1);
    expect(parseMicros('x', '12.345678')).toBe(12_345_678);
    for (const bad of ['-1', '0.0000001', '1e3', 'abc', '', '.5', '1.']) {
      expect(() => parseMicros('x', bad)).toThrow(/decimal/);
    }
  });

  it('formats with 2 to 6 decimals and round-trips', () => {
    expect(formatMicros(20_000)).toBe('0.02');
    expect(formatMicros(-8_333)).toBe('-0.008333');
    expect(formatMicros(0)).toBe('0.00');
    expect(formatMicros(110_000)).toBe('0.11');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_000_000_000_000 }), (m) => {
        expect(parseMicros('x', formatMicros(m))).toBe(m);
      }),
    );
  });

  it('rates by whole increments, rounded up, plus invocation fees', () => {
    const a = plan('0.02', 60, '0.01');
    expect(rate(a, 61_200, 1)).toEqual({
      billableUnits: 2,
      billedSeconds: 120,
      priceMicros: 50_000,
    });
    expect(rate(a, 60_000, 1).billableUnits).toBe(1);
    expect(rate(a, 0, 1)).toEqual({ billableUnits: 0, billedSeconds: 0, priceMicros: 10_000 });
    const b = plan('0.10', 1, '0');
    // 5 s at 0.10/min = 0.0083333… -> 0.008333 (half up, once per segment)
    expect(rate(b, 5_000, 1).priceMicros).toBe(8_333);
    // 0.4 s -> one 1 s increment = 0.0016666… -> 0.001667
    expect(rate(b, 400, 1).priceMicros).toBe(1_667);
    const c = plan('0', 60, '0.05');
    expect(rate(c, 400, 1)).toEqual({ billableUnits: 1, billedSeconds: 60, priceMicros: 50_000 });
  });

  it('price never decreases with time and steps only at increments', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (perMinute, inc, d, extra) => {
          const p = {
            perMinuteMicros: perMinute,
            incrementSeconds: inc,
            perInvocationMicros: 0,
            currency: 'USD',
          };
          expect(rate(p, d + extra, 1).priceMicros).toBeGreaterThanOrEqual(
            rate(p, d, 1).priceMicros,
          );
        },
      ),
    );
  });

  it('finds when a segment price first reaches a budget', () => {
    const b = plan('0.10', 1, '0');
    // 0.09 is reached at 54 units: from 53 s + 1 ms.
    expect(msUntilPrice(b, 1, 90_000)).toBe(53_001);
    expect(rate(b, 53_000, 1).priceMicros).toBeLessThan(90_000);
    expect(rate(b, 53_001, 1).priceMicros).toBeGreaterThanOrEqual(90_000);
    expect(msUntilPrice(plan('0', 60, '0.05'), 1, 40_000)).toBe(0);
    expect(msUntilPrice(plan('0', 60, '0.05'), 1, 60_000)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 5_000_000 }),
        (perMinute, inc, fee, budget) => {
          const p = {
            perMinuteMicros: perMinute,
            incrementSeconds: inc,
            perInvocationMicros: fee,
            currency: 'USD',
          };
          const at = msUntilPrice(p, 1, budget);
          expect(at).toBeDefined();
          if (at === undefined) return;
          expect(rate(p, at, 1).priceMicros).toBeGreaterThanOrEqual(budget);
          if (at > 0) expect(rate(p, at - 1, 1).priceMicros).toBeLessThan(budget);
        },
      ),
    );
  });
});
