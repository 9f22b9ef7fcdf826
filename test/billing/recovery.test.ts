// Crash safety of metering: closed segments are durable, and open segments are closed at
// their last known time (heartbeat) on restart, then posted to the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsagePlan } from '../../src/billing/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

// 0.06/min in 1 s increments: one cent per 10 s, easy to check.
const PLAN: UsagePlan = {
  perMinuteMicros: 60_000,
  incrementSeconds: 1,
  perInvocationMicros: 0,
  currency: 'USD',
};
const call = (n: number) => 'CA' + String(n).padStart(32, 'c');

describe('restart recovery', () => {
  it("closes one node's open segments, and any other node's stale ones, at their last known time", async () => {
    const billing = t.platform.billing;
    const now = Date.now();
    const base = {
      moduleSid: null,
      publisherAccountSid: t.accountSid,
      userAccountSid: t.accountSid,
      direction: 'inbound',
      plan: PLAN,
    };
    const mine = await billing.openSegment({
      ...base,
      callSid: call(1),
      startedMs: now - 20_000,
      nodeId: 'node-a',
    });
    const alive = await billing.openSegment({
      ...base,
      callSid: call(2),
      startedMs: now - 20_000,
      nodeId: 'node-b',
    });
    const dead = await billing.openSegment({
      ...base,
      callSid: call(3),
      startedMs: now - 600_000,
      nodeId: 'node-c',
    });
    await billing.touch([mine.sid, alive.sid], now - 5_000);
    await billing.touch([dead.sid], now - 590_000);

    const closed = await billing.recoverOpenSegments(now, { nodeId: 'node-a', staleMs: 60_000 });
    // (The platform's own sweep may have closed the dead one first: same result.)
    expect(closed.map((s) => s.sid)).toContain(mine.sid);
    expect(closed.map((s) => s.sid)).not.toContain(alive.sid);
    const a = await billing.getSegment(mine.sid);
    expect(a).toMatchObject({
      status: 'closed',
      ended_ms: now - 5_000,
      duration_ms: 15_000,
      transition_reason: 'recovered',
      price_micros: 15_000,
    });
    expect(await billing.getSegment(dead.sid)).toMatchObject({
      status: 'closed',
      duration_ms: 10_000,
      price_micros: 10_000,
    });
    expect((await billing.getSegment(alive.sid))?.status).toBe('open');
    await billing.closeSegment(alive.sid, now, 'hangup');
  });

  it('after a restart, a closed segment is intact and an open one is closed at its heartbeat', async () => {
    const billing = t.platform.billing;
    const now = Date.now();
    const base = {
      moduleSid: null,
      publisherAccountSid: t.accountSid,
      userAccountSid: t.accountSid,
      direction: 'outbound-api',
      plan: PLAN,
    };
    const done = await billing.openSegment({ ...base, callSid: call(4), startedMs: now - 700_000 });
    await billing.closeSegment(done.sid, now - 640_000, 'hangup');
    const open = await billing.openSegment({ ...base, callSid: call(5), startedMs: now - 600_000 });
    await billing.touch([open.sid], now - 570_000);
    // An older heartbeat never moves the last known time back.
    await billing.touch([open.sid], now - 580_000);

    await t.stop();
    t = await t.restart();

    const after = t.platform.billing;
    expect(await after.getSegment(done.sid)).toMatchObject({
      status: 'closed',
      duration_ms: 60_000,
      price_micros: 60_000,
      transition_reason: 'hangup',
    });
    const recovered = await after.getSegment(open.sid);
    expect(recovered).toMatchObject({
      status: 'closed',
      ended_ms: now - 570_000,
      duration_ms: 30_000,
      transition_reason: 'recovered',
      price_micros: 30_000,
    });
    // Posted by the restart (recovery closes, accounting posts), visible through the API.
    await t.platform.billing.runAccounting();
    const seg = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Calls/${call(5)}/Segments.json`,
    );
    expect((seg.json.segments as Record<string, unknown>[])[0]).toMatchObject({
      price: '0.03',
      transition_reason: 'recovered',
      accounted: true,
    });
  });
});
