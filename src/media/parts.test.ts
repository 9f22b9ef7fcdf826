import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { MediaClock, type TickPhase } from './clock.js';
import { JitterBuffer } from './jitter-buffer.js';
import { Player } from './player.js';
import { PortPool, PortRangeError, parsePortRange } from './port-pool.js';

describe('port pool', () => {
  it('parses ranges and refuses nonsense', () => {
    expect(parsePortRange('20000-29999')).toEqual({ min: 20000, max: 29999 });
    expect(parsePortRange('0')).toEqual({ min: 0, max: 0 });
    for (const bad of ['', '30000-20000', 'abc', '80-90', '1000-70000'])
      expect(() => parsePortRange(bad)).toThrow(PortRangeError);
  });

  it('hands out even ports, skips busy ones, reuses released ones last, and runs out', async () => {
    // Find a free even base with 3 free even ports above it.
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const base = 40000 + ((probe.address().port % 10000) & ~1);
    probe.close();
    const pool = new PortPool(`${base + 1}-${base + 6}`); // even ports base+2, +4, +6
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(base + 2, '127.0.0.1', r));
    try {
      const a = await pool.bind('127.0.0.1');
      const b = await pool.bind('127.0.0.1');
      expect([a.port, b.port]).toEqual([base + 4, base + 6]);
      await expect(pool.bind('127.0.0.1')).rejects.toThrow(/no free RTP port/);
      a.socket.close();
      pool.release(a.port);
      const c = await pool.bind('127.0.0.1');
      expect(c.port).toBe(base + 4);
      expect(pool.used).toBe(2);
      b.socket.close();
      c.socket.close();
    } finally {
      blocker.close();
    }
  });
});

describe('jitter buffer', () => {
  it('primes with two frames, hands out 160 samples per pop, refills after underrun', () => {
    const jb = new JitterBuffer(200);
    const out = new Int16Array(160);
    jb.push(new Int16Array(240).fill(1)); // one 30 ms packet
    expect(jb.pop(out)).toBe(false);
    jb.push(new Int16Array(240).fill(2));
    expect(jb.pop(out)).toBe(true);
    expect(out[0]).toBe(1);
    expect(jb.pop(out)).toBe(true);
    expect(out[100]).toBe(2);
    expect(jb.pop(out)).toBe(true); // the last 160 of 480
    expect(jb.pop(out)).toBe(false); // underrun
    jb.push(new Int16Array(160).fill(3));
    expect(jb.pop(out)).toBe(false); // waits for two frames again
    jb.push(new Int16Array(160).fill(4));
    expect(jb.pop(out)).toBe(true);
    expect(out[0]).toBe(3);
  });

  it('drops the oldest audio when a peer sends faster than real time', () => {
    const jb = new JitterBuffer(100); // 800 samples
    for (let i = 0; i < 10; i++) jb.push(new Int16Array(160).fill(i));
    expect(jb.buffered).toBe(800);
    expect(jb.dropped).toBe(800);
    const out = new Int16Array(160);
    jb.pop(out);
    expect(out[0]).toBe(5);
  });
});

describe('player', () => {
  const prompt = {
    key: 'p',
    samples: Int16Array.from({ length: 400 }, (_, i) => i + 1),
    durationMs: 50,
  };

  it('plays to the end, pads the last frame, then finishes', async () => {
    const p = new Player(prompt);
    const out = new Int16Array(160);
    expect(p.read(out)).toBe(true);
    expect(p.read(out)).toBe(true);
    expect(p.read(out)).toBe(true);
    expect(out[79]).toBe(400);
    expect(out[80]).toBe(0);
    expect(p.read(out)).toBe(false);
    expect(await p.done).toBe('finished');
  });

  it('loops and stops', async () => {
    const p = new Player(prompt, { loop: 0 });
    const out = new Int16Array(160);
    for (let i = 0; i < 20; i++) expect(p.read(out)).toBe(true);
    p.stop();
    expect(p.read(out)).toBe(false);
    expect(await p.done).toBe('stopped');
  });
});

describe('media clock', () => {
  it('runs receive, send, after in order with consecutive tick numbers', async () => {
    const clock = new MediaClock();
    const seen: [TickPhase, number][] = [];
    const subs = (['after', 'send', 'receive'] as const).map((phase) =>
      clock.subscribe((t) => seen.push([phase, t]), phase),
    );
    await new Promise<void>((resolve) => {
      const u = clock.subscribe((t) => {
        if (t >= 6) {
          u();
          resolve();
        }
      }, 'after');
    });
    for (const u of subs) u();
    const ticks = seen.filter(([p]) => p === 'receive').map(([, t]) => t);
    const skipped = clock.stats().skipped;
    expect(ticks.length + skipped).toBe(ticks.at(-1));
    for (let i = 0; i + 2 < seen.length; i += 3)
      expect(seen.slice(i, i + 3).map(([p]) => p)).toEqual(['receive', 'send', 'after']);
    expect(clock.stats().lateness.length).toBeGreaterThan(0);
  });
});
