// Tracker triggers (extension): a threshold on a tracker's figure over a period calls back,
// signed (the SDK's validator accepts it), once per period, evaluated as the tagged events are
// committed (the sweep is pushed out of the way here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';
import { startTwimlServer, type TwimlServer } from '../voice/twiml-server.js';

let t: TestPlatform;
let hooks: TwimlServer;

beforeAll(async () => {
  t = await startTestPlatform({ usageTriggerSweepMs: 600_000 });
  hooks = await startTwimlServer();
  hooks.setAuthToken(t.authToken);
  hooks.routes.set('/tracker', 'ok');
});
afterAll(async () => {
  await hooks?.close();
  await t?.cleanup();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
/** One tagged interaction: an API request carrying the tag. */
const tagged = (tag: string) =>
  request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Queues.json`, undefined, {
    'Switchboard-Tags': tag,
  });

describe('tracker triggers', () => {
  it('calls back once when the tracked count crosses the threshold', async () => {
    const tracker = await request(t, 'POST', '/tracking/v1/Trackers', form({ Tags: 'promo' }));
    expect(tracker.status).toBe(201);
    const sid = String(tracker.json.sid);
    const trigger = await request(
      t,
      'POST',
      `/tracking/v1/Trackers/${sid}/Triggers`,
      form({ Field: 'count', Threshold: '3', Period: 'day', CallbackUrl: `${hooks.url}/tracker` }),
    );
    expect(trigger.status).toBe(201);
    expect(trigger.json).toMatchObject({ field: 'count', threshold: 3, period: 'day' });
    const seen = () => hooks.seen.filter((r) => r.params.TriggerSid === trigger.json.sid);

    await tagged('promo');
    await tagged('promo');
    await new Promise((r) => setTimeout(r, 800));
    expect(seen()).toHaveLength(0);
    await tagged('promo');
    await until('the trigger callback', () => seen().length === 1, 10_000);
    const [hook] = seen();
    expect(hook!.signatureValid).toBe(true);
    expect(hook!.params).toMatchObject({
      AccountSid: t.accountSid,
      TrackerSid: sid,
      Field: 'count',
      Threshold: '3',
      CurrentValue: '3',
      Period: 'day',
    });
    await tagged('promo');
    await tagged('promo');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(seen()).toHaveLength(1);
    const fetched = await request(
      t,
      'GET',
      `/tracking/v1/Trackers/${sid}/Triggers/${String(trigger.json.sid)}`,
    );
    expect(fetched.json.current_value).toBe(5);
    expect(fetched.json.date_fired).not.toBeNull();
    const listed = await request(t, 'GET', `/tracking/v1/Trackers/${sid}/Triggers`);
    expect((listed.json.triggers as unknown[]).length).toBe(1);
    const removed = await request(
      t,
      'DELETE',
      `/tracking/v1/Trackers/${sid}/Triggers/${String(trigger.json.sid)}`,
    );
    expect(removed.status).toBe(204);
  });

  it('refuses bad fields, thresholds and unknown trackers', async () => {
    const tracker = await request(
      t,
      'POST',
      '/tracking/v1/Trackers',
      form({ Tags: 'x', Measures: 'duration' }),
    );
    const base = `/tracking/v1/Trackers/${String(tracker.json.sid)}/Triggers`;
    const ok = { Field: 'count', Threshold: '1', CallbackUrl: `${hooks.url}/tracker` };
    const bads: Record<string, string>[] = [
      { Field: 'weight' },
      { Field: 'price' },
      { Threshold: '-1' },
      { Period: 'week' },
    ];
    for (const bad of bads) {
      const res = await request(t, 'POST', base, form({ ...ok, ...bad }));
      expect([res.status, res.json.code], JSON.stringify(bad)).toEqual([400, 20001]);
    }
    const none = await request(
      t,
      'POST',
      '/tracking/v1/Trackers/TK' + '0'.repeat(32) + '/Triggers',
      form(ok),
    );
    expect(none.status).toBe(404);
  });
});
