// Scheduled messages as a Twilio developer meets them: ScheduleType=fixed and SendAt through a
// Messaging Service with the official SDK, sent at their time through a real SMPP server,
// canceled with Status=canceled, Twilio's errors for bad requests, and a message scheduled
// before a restart sent after it; on PostgreSQL, two nodes sweeping the same database send each
// due message once. The minimum lead time is 1 s here (300 s by default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { startPlatform } from '../../src/platform.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, startWebhook, waitFor, type Hook } from './support.js';

let t: TestPlatform;
let smsc: TestSmsc;
let hook: Hook;
let service = '';

beforeAll(async () => {
  t = await startTestPlatform({ scheduleMinLeadSeconds: 1 });
  smsc = await startSmsc();
  hook = await startWebhook(() => t.authToken);
  await createProvider(t, {
    name: 'later',
    port: smsc.port,
    prices: { '49': 0.01 },
    throughput: 50,
  });
  await waitFor(() => smsc.boundSessions() === 2, 10_000, 'binds');
  const svc = await t.client.messaging.v1.services.create({
    friendlyName: 'reminders',
    statusCallback: `${hook.url}/scheduled`,
  });
  service = svc.sid;
  await request(t, 'POST', `/messaging/v1/Services/${service}`, 'Senders=%2B15556660001');
});

afterAll(async () => {
  await t?.cleanup();
  await smsc?.close();
  await hook?.close();
});

const statuses = (sid: string) =>
  hook.calls.filter((c) => c.params.MessageSid === sid).map((c) => c.params.MessageStatus);
const submitted = (to: string) => smsc.submits.filter((s) => s.to === to.slice(1)).length;

describe('Scheduled messages', () => {
  it('holds a message until SendAt, then routes, sends and calls it back', async () => {
    const sendAt = new Date(Date.now() + 3500);
    const msg = await t.client.messages.create({
      to: '+4915100000001',
      messagingServiceSid: service,
      body: 'your appointment is tomorrow',
      scheduleType: 'fixed',
      sendAt,
    });
    expect(msg.status).toBe('scheduled');
    expect(msg.from).toBe('+15556660001');
    expect(msg.price).toBeNull();
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.client.messages(msg.sid).fetch()).status).toBe('scheduled');
    expect(submitted('+4915100000001')).toBe(0);

    await waitFor(
      async () => (await t.client.messages(msg.sid).fetch()).status === 'delivered',
      15_000,
      'delivered',
    );
    const at = smsc.submits.find((s) => s.to === '4915100000001')!.at;
    // Not before its time (whole seconds: the SDK sends SendAt without milliseconds).
    expect(at).toBeGreaterThanOrEqual(Math.floor(sendAt.getTime() / 1000) * 1000);
    await waitFor(() => statuses(msg.sid).includes('delivered'), 10_000, 'callbacks');
    // No callback for the initial `scheduled` (as Twilio), then those of a service's message.
    expect(statuses(msg.sid)).toEqual(['queued', 'sent', 'delivered']);
    const sent = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Messages/${msg.sid}.json`,
    );
    expect(sent.json.price).toBe('-0.01000');
    const routing = sent.json.routing as { event: string }[];
    expect(routing.map((r) => r.event).slice(0, 2)).toEqual(['scheduled', 'routed']);
  });

  it('cancels a scheduled message with Status=canceled, and refuses to cancel it twice (30409)', async () => {
    const msg = await t.client.messages.create({
      to: '+4915100000002',
      messagingServiceSid: service,
      body: 'never mind',
      scheduleType: 'fixed',
      sendAt: new Date(Date.now() + 3000),
    });
    const canceled = await t.client.messages(msg.sid).update({ status: 'canceled' });
    expect(canceled.status).toBe('canceled');
    await waitFor(() => statuses(msg.sid).includes('canceled'), 10_000, 'canceled callback');
    await expect(t.client.messages(msg.sid).update({ status: 'canceled' })).rejects.toMatchObject({
      status: 400,
      code: 30409,
    });
    // Its time passes: nothing is sent.
    await new Promise((r) => setTimeout(r, 4000));
    expect(submitted('+4915100000002')).toBe(0);
    expect((await t.client.messages(msg.sid).fetch()).status).toBe('canceled');
    expect(statuses(msg.sid)).toEqual(['canceled']);
  });

  it("answers Twilio's errors for a schedule it cannot take", async () => {
    const base = { to: '+4915100000003', body: 'x', messagingServiceSid: service };
    const soon = new Date(Date.now() + 60_000);
    const cases: [Record<string, unknown>, number][] = [
      [{ ...base, scheduleType: 'fixed' }, 35111],
      [
        { to: base.to, body: 'x', from: '+15556660001', scheduleType: 'fixed', sendAt: soon },
        35118,
      ],
      [{ ...base, scheduleType: 'fixed', sendAt: new Date(Date.now() - 60_000) }, 35114],
      [{ ...base, scheduleType: 'fixed', sendAt: new Date(Date.now() + 36 * 86_400_000) }, 35114],
    ];
    for (const [params, code] of cases) {
      await expect(
        t.client.messages.create(
          params as unknown as Parameters<typeof t.client.messages.create>[0],
        ),
      ).rejects.toMatchObject({ status: 400, code });
    }
    const path = `/2010-04-01/Accounts/${t.accountSid}/Messages.json`;
    const form = (extra: Record<string, string>) =>
      new URLSearchParams({
        To: base.to,
        Body: 'x',
        MessagingServiceSid: service,
        ...extra,
      }).toString();
    const other = await request(
      t,
      'POST',
      path,
      form({ ScheduleType: 'recurring', SendAt: soon.toISOString() }),
    );
    expect(other.json).toMatchObject({ code: 35126, status: 400 });
    const garbage = await request(
      t,
      'POST',
      path,
      form({ ScheduleType: 'fixed', SendAt: 'tomorrow' }),
    );
    expect(garbage.json).toMatchObject({ code: 35114, status: 400 });
    expect(String(garbage.json.message)).toMatch(/not ISO 8601/);
    // A message that is not scheduled cannot be canceled.
    const now = await t.client.messages.create({ to: base.to, body: 'now', from: '+15556660001' });
    await expect(t.client.messages(now.sid).update({ status: 'canceled' })).rejects.toMatchObject({
      code: 30409,
    });
  });

  it('sends each due message exactly once when two nodes sweep the same database', async (ctx) => {
    if (!t.config.databaseUrl) return ctx.skip(); // one SQLite file serves one node
    const second = await startPlatform(t.config);
    try {
      // Its binds up first: a node claiming jobs before it can submit backs them off.
      await waitFor(() => smsc.boundSessions() === 4, 10_000, "the second node's binds");
      // Far enough ahead for 30 creates on a busy machine (the SDK drops the milliseconds).
      const sendAt = new Date(Date.now() + 5000);
      const tos = Array.from({ length: 30 }, (_, i) => `+49152000000${String(i).padStart(2, '0')}`);
      await Promise.all(
        tos.map((to) =>
          t.client.messages.create({
            to,
            messagingServiceSid: service,
            body: 'both nodes',
            scheduleType: 'fixed',
            sendAt,
          }),
        ),
      );
      await waitFor(() => tos.every((to) => submitted(to) >= 1), 30_000, 'all submitted');
      await new Promise((r) => setTimeout(r, 1500)); // time for a second submit, were there one
      expect(tos.map(submitted)).toEqual(tos.map(() => 1));
    } finally {
      await second.stop();
    }
  });

  it('sends a message scheduled before a restart once it is due after it', async () => {
    const msg = await t.client.messages.create({
      to: '+4915100000004',
      messagingServiceSid: service,
      body: 'survives',
      scheduleType: 'fixed',
      sendAt: new Date(Date.now() + 3000),
    });
    await t.stop();
    await new Promise((r) => setTimeout(r, 3500));
    expect(submitted('+4915100000004')).toBe(0);
    t = await t.restart();
    await waitFor(
      async () => (await t.client.messages(msg.sid).fetch()).status === 'delivered',
      20_000,
      'delivered after restart',
    );
    expect(submitted('+4915100000004')).toBe(1);
  });
});
