// Usage Triggers through the official SDK (`client.usage.triggers`): fired by the usage the
// meter records (closed call segments, as voice closes them), evaluated when a segment closes
// rather than by a minute's sweep, once per period, with a callback the SDK's validator
// accepts; a callback refused before a restart is delivered after it, once, and the trigger
// does not fire again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PLAN } from '../../src/billing/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';
import { startTwimlServer, type TwimlServer } from '../voice/twiml-server.js';

let t: TestPlatform;
let hooks: TwimlServer;
let calls = 0;

beforeAll(async () => {
  // The sweep is pushed out of the way: a trigger that fires here was evaluated as usage came.
  t = await startTestPlatform({ usageTriggerSweepMs: 600_000 });
  hooks = await startTwimlServer();
  hooks.setAuthToken(t.authToken);
  hooks.routes.set('/usage', 'ok');
});
afterAll(async () => {
  await hooks?.close();
  await t?.cleanup();
});

/** One finished outbound call of `seconds`, metered as voice meters it. */
async function meterCall(seconds: number): Promise<void> {
  const billing = t.platform.billing;
  const now = Date.now();
  const callSid = 'CA' + String(++calls).padStart(32, '0');
  const seg = await billing.openSegment({
    callSid,
    moduleSid: null,
    publisherAccountSid: t.accountSid,
    userAccountSid: t.accountSid,
    direction: 'outbound-api',
    plan: FREE_PLAN,
    startedMs: now - seconds * 1000,
    first: true,
  });
  await billing.closeSegment(seg.sid, now, 'hangup');
}

const seenFor = (sid: string) => hooks.seen.filter((r) => r.params.UsageTriggerSid === sid);

describe('usage triggers', () => {
  it('fires once per period when a call crosses the value, signed, as the usage comes', async () => {
    const trigger = await t.client.usage.triggers.create({
      usageCategory: 'calls',
      triggerValue: '2',
      triggerBy: 'count',
      recurring: 'daily',
      callbackUrl: `${hooks.url}/usage`,
      friendlyName: 'two calls a day',
    });
    expect(trigger.sid).toMatch(/^UT[0-9a-f]{32}$/);
    expect(trigger.usageCategory).toBe('calls');
    expect(trigger.recurring).toBe('daily');
    expect(trigger.dateFired).toBeNull();

    await meterCall(30);
    await new Promise((r) => setTimeout(r, 300));
    expect(seenFor(trigger.sid)).toHaveLength(0);
    await meterCall(30);
    await until('the callback', () => seenFor(trigger.sid).length === 1, 10_000);
    const [hook] = seenFor(trigger.sid);
    expect(hook!.signatureValid).toBe(true);
    expect(hook!.params).toMatchObject({
      AccountSid: t.accountSid,
      UsageCategory: 'calls',
      TriggerBy: 'count',
      Recurring: 'daily',
      TriggerValue: '2',
      CurrentValue: '2',
    });
    expect(hook!.params.IdempotencyToken).toContain(trigger.sid);

    await meterCall(30);
    await new Promise((r) => setTimeout(r, 500));
    expect(seenFor(trigger.sid)).toHaveLength(1);
    const fetched = await t.client.usage.triggers(trigger.sid).fetch();
    expect(fetched.dateFired).toBeInstanceOf(Date);
    expect(fetched.currentValue).toBe('3');
    expect(fetched.usageRecordUri).toContain('/Usage/Records/Today.json?Category=calls');
  });

  it('lists, filters, updates and deletes through the SDK; +N is an offset', async () => {
    const offset = await t.client.usage.triggers.create({
      usageCategory: 'calls-outbound',
      triggerValue: '+5',
      triggerBy: 'usage',
      callbackUrl: `${hooks.url}/usage`,
    });
    // Minutes so far plus five.
    const minutes = Number(offset.currentValue);
    expect(Number(offset.triggerValue)).toBe(minutes + 5);
    expect(offset.recurring).toBe('');
    const listed = await t.client.usage.triggers.list({ usageCategory: 'calls-outbound' });
    expect(listed.map((x) => x.sid)).toEqual([offset.sid]);
    const updated = await t.client.usage.triggers(offset.sid).update({ friendlyName: 'renamed' });
    expect(updated.friendlyName).toBe('renamed');
    await t.client.usage.triggers(offset.sid).remove();
    await expect(t.client.usage.triggers(offset.sid).fetch()).rejects.toMatchObject({
      status: 404,
    });
  });

  it('refuses unknown categories and malformed values', async () => {
    const path = `/2010-04-01/Accounts/${t.accountSid}/Usage/Triggers.json`;
    const create = (fields: Record<string, string>) =>
      request(
        t,
        'POST',
        path,
        new URLSearchParams({
          CallbackUrl: `${hooks.url}/usage`,
          TriggerValue: '1',
          UsageCategory: 'calls',
          ...fields,
        }).toString(),
      );
    const bads: Record<string, string>[] = [
      { UsageCategory: 'sms-tea-leaves' },
      { TriggerValue: 'lots' },
      { TriggerValue: '-3' },
      { Recurring: 'hourly' },
      { TriggerBy: 'weight' },
      { CallbackUrl: 'not a url' },
    ];
    for (const bad of bads) {
      const res = await create(bad);
      expect([res.status, res.json.code], JSON.stringify(bad)).toEqual([400, 20001]);
    }
  });

  it('a callback refused before a restart is delivered after it, once, and does not fire again', async () => {
    let answer = 503;
    hooks.routes.set('/flaky', () => ({ status: answer, body: 'x' }));
    const trigger = await t.client.usage.triggers.create({
      usageCategory: 'calls',
      triggerValue: '+1',
      triggerBy: 'count',
      recurring: 'monthly',
      callbackUrl: `${hooks.url}/flaky`,
    });
    await meterCall(10);
    await until('the first attempt', () => seenFor(trigger.sid).length >= 1, 10_000);
    await t.stop();
    answer = 200;
    t = await t.restart();
    hooks.setAuthToken(t.authToken);
    await until('the callback after restart', () => seenFor(trigger.sid).length >= 2, 20_000);
    const tokens = new Set(seenFor(trigger.sid).map((r) => r.params.IdempotencyToken));
    expect(tokens.size).toBe(1);
    // Delivered: no more attempts, and the sweep (usage still above the value) fires nothing.
    const count = seenFor(trigger.sid).length;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(seenFor(trigger.sid)).toHaveLength(count);
    expect(seenFor(trigger.sid).every((r) => r.signatureValid)).toBe(true);
  }, 60_000);
});
