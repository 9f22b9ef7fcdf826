import { describe, expect, it } from 'vitest';
import { TimerWheel, type TimerTarget } from './timer-wheel.js';

describe('TimerWheel', () => {
  it('fires in order, supports cancel and delays beyond one revolution, and stops when idle', async () => {
    const wheel = new TimerWheel(5, 8); // 40 ms per revolution
    const fired: number[] = [];
    const target: TimerTarget = { onTimer: (k) => fired.push(k) };
    wheel.schedule(30, target, 3);
    wheel.schedule(10, target, 1);
    const cancelled = wheel.schedule(20, target, 2);
    wheel.schedule(95, target, 9); // more than two revolutions
    wheel.cancel(cancelled);
    expect(wheel.size).toBe(3);
    await new Promise((r) => setTimeout(r, 250));
    expect(fired).toEqual([1, 3, 9]);
    expect(wheel.size).toBe(0);
  });

  it('lets a callback schedule and cancel timers, and survives a throwing target', async () => {
    const wheel = new TimerWheel(5, 16);
    const errors: unknown[] = [];
    wheel.onError = (e) => errors.push(e);
    const fired: string[] = [];
    const victim = { onTimer: () => fired.push('victim') };
    let victimHandle = wheel.schedule(15, victim, 0);
    const chain: TimerTarget = {
      onTimer: (k) => {
        fired.push(`chain${k}`);
        wheel.cancel(victimHandle);
        if (k < 2) victimHandle = wheel.schedule(1000, victim, 0);
        if (k < 3) wheel.schedule(5, chain, k + 1);
      },
    };
    wheel.schedule(
      5,
      {
        onTimer: () => {
          throw new Error('boom');
        },
      },
      0,
    );
    wheel.schedule(5, chain, 1);
    await new Promise((r) => setTimeout(r, 120));
    expect(fired).toEqual(['chain1', 'chain2', 'chain3']);
    expect(errors).toHaveLength(1);
    expect(wheel.size).toBe(0);
    wheel.close();
  });
});
