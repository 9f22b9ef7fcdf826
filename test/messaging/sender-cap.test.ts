// Per-sender throughput caps measured at a real SMPP server: each sender number is held to its
// cap while the provider's own rate is far higher, senders do not hold each other up, a
// service's cap applies to its pool, and (on Redis) the cap holds with two nodes draining.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { startPlatform, type Platform } from '../../src/platform.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, waitFor } from './support.js';

let t: TestPlatform;
let smsc: TestSmsc;
let second: Platform | undefined;

beforeAll(async () => {
  t = await startTestPlatform();
  smsc = await startSmsc();
  const p = await createProvider(t, {
    name: 'fast',
    port: smsc.port,
    prices: { '': 0.01 },
    throughput: 200,
    binds: 1,
  });
  const set = await request(
    t,
    'POST',
    `/messaging/v1/Providers/${String(p.sid)}`,
    'SenderThroughput=4',
  );
  expect(set.json.sender_throughput).toBe(4);
  if (t.config.redisUrl) {
    // A second node on the same database, queues and state: both claim from the same queue.
    second = await startPlatform(t.config);
  }
  await waitFor(() => smsc.boundSessions() === (second ? 2 : 1), 10_000, 'binds');
});

afterAll(async () => {
  await second?.stop();
  await t?.cleanup();
  await smsc?.close();
});

/** Submit times at the SMSC of one sender's messages whose text starts with `tag`. */
function times(from: string, tag: string): number[] {
  return smsc.submits
    .filter((s) => s.from === from.replace(/^\+/, '') && s.text.startsWith(tag))
    .map((s) => s.at)
    .sort((a, b) => a - b);
}

/** Most submits in any window of `ms`. */
function peak(ts: number[], ms: number): number {
  return Math.max(...ts.map((t0) => ts.filter((x) => x >= t0 && x < t0 + ms).length));
}

describe('Per-sender throughput caps', () => {
  it('holds each sender to the provider’s SenderThroughput while senders run side by side', async () => {
    const n = 12;
    const started = Date.now();
    await Promise.all(
      ['+15550009001', '+15550009002'].flatMap((from) =>
        Array.from({ length: n }, (_, i) =>
          t.client.messages.create({ to: `+4470000${2000 + i}`, from, body: `cap ${i}` }),
        ),
      ),
    );
    await waitFor(
      () => times('+15550009001', 'cap ').length + times('+15550009002', 'cap ').length === 2 * n,
      20_000,
      'all submitted',
    );
    for (const from of ['+15550009001', '+15550009002']) {
      const ts = times(from, 'cap ');
      // 12 messages at 4/s: 11 slots 250 ms apart (the first may go a little late).
      expect(ts.at(-1)! - ts[0]!).toBeGreaterThanOrEqual(11 * 250 - 300);
      expect(peak(ts, 1000)).toBeLessThanOrEqual(5);
      // Slots are 250 ms apart; one sent late (a busy machine) may sit close to the next one,
      // so the cap is checked as a rate: any second holds at most cap + 1.
    }
    // Side by side: both finished in about the time of one (not one after the other).
    const all = [...times('+15550009001', 'cap '), ...times('+15550009002', 'cap ')];
    expect(Math.max(...all) - started).toBeLessThan(2 * 11 * 250);
    // Measured from the second submit: the first may go late and sit close to it (see above).
    const first = times('+15550009001', 'cap ');
    const measured = (n - 2) / ((first.at(-1)! - first[1]!) / 1000);
    console.log(
      `per-sender rate measured: ${measured.toFixed(2)} msg/s (cap 4)${second ? ', two nodes' : ''}`,
    );
    expect(measured).toBeLessThanOrEqual(4.4);
  });

  it("applies a messaging service's SenderThroughput to its pool", async () => {
    const svc = await t.client.messaging.v1.services.create({ friendlyName: 'slow pool' });
    const upd = await request(
      t,
      'POST',
      `/messaging/v1/Services/${svc.sid}`,
      'Senders=%2B15550009100&SenderThroughput=2',
    );
    expect(upd.json.sender_throughput).toBe(2);
    for (let i = 0; i < 5; i++) {
      await t.client.messages.create({
        to: `+4470000${3000 + i}`,
        messagingServiceSid: svc.sid,
        body: `svc ${i}`,
      });
    }
    await waitFor(() => times('+15550009100', 'svc ').length === 5, 15_000, 'service messages');
    const ts = times('+15550009100', 'svc ');
    // The service's 2/s is tighter than the provider's 4/s.
    expect(ts.at(-1)! - ts[0]!).toBeGreaterThanOrEqual(4 * 500 - 300);
    expect(peak(ts, 1000)).toBeLessThanOrEqual(3);
    await waitFor(
      async () =>
        (await t.client.messages.list({ from: '+15550009100' })).every((m) =>
          ['sent', 'delivered'].includes(m.status),
        ),
      10_000,
      'service messages sent',
    );
  });
});
