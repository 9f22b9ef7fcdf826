// Messaging as a Twilio developer meets it: the official SDK against the running platform,
// two real SMPP servers with different prices, throughputs and failures behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, startWebhook, waitFor, type Hook } from './support.js';

let t: TestPlatform;
let cheap: TestSmsc;
let dear: TestSmsc;
let hook: Hook;
let cheapSid = '';
let dearSid = '';

beforeAll(async () => {
  t = await startTestPlatform();
  cheap = await startSmsc({ undeliverablePrefixes: ['4479'] });
  dear = await startSmsc({ rejectPrefixes: ['1999'] });
  hook = await startWebhook(() => t.authToken);
  cheapSid = String(
    (
      await createProvider(t, {
        name: 'cheap',
        port: cheap.port,
        prices: { '44': 0.02, '33': 0.03 },
        throughput: 20,
        maxWaitMs: 1500,
      })
    ).sid,
  );
  dearSid = String(
    (
      await createProvider(t, {
        name: 'dear',
        port: dear.port,
        prices: { '44': 0.05, '33': 0.06, '1': 0.01 },
        throughput: 200,
      })
    ).sid,
  );
  await waitFor(() => cheap.boundSessions() === 2 && dear.boundSessions() === 2, 10_000, 'binds');
});

afterAll(async () => {
  await t?.cleanup();
  await cheap?.close();
  await dear?.close();
  await hook?.close();
});

const final = new Set(['delivered', 'undelivered', 'failed']);

describe('Messages through provider queues', () => {
  it('sends with the SDK, routes by score, and reports receipts via signed status callbacks', async () => {
    const msg = await t.client.messages.create({
      to: '+447700900001',
      from: '+15550001111',
      body: 'Hello from Switchboard — ünïcødé? no: GSM only €',
      statusCallback: `${hook.url}/status`,
    });
    expect(msg.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg.status).toBe('queued');
    expect(msg.numSegments).toBe('1');
    await waitFor(
      () =>
        hook.calls.some(
          (c) => c.params.MessageSid === msg.sid && c.params.MessageStatus === 'delivered',
        ),
      15_000,
      'delivered callback',
    );
    const calls = hook.calls.filter((c) => c.params.MessageSid === msg.sid);
    expect(calls.map((c) => c.params.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(calls.every((c) => c.valid)).toBe(true);
    expect(calls[0]!.params).toMatchObject({
      AccountSid: t.accountSid,
      To: '+447700900001',
      SmsStatus: 'sent',
    });

    const fetched = await t.client.messages(msg.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.price).toBe('-0.02000');
    expect(cheap.messages().map((m) => m.text)).toContain(msg.body);
    const raw = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Messages/${msg.sid}.json`,
    );
    const routing = raw.json.routing as {
      event: string;
      provider?: string;
      candidates?: { name: string }[];
    }[];
    expect(routing[0]).toMatchObject({ event: 'routed', provider: 'cheap' });
    expect(routing[0]!.candidates!.map((c) => c.name)).toEqual(['cheap', 'dear']);
    expect(routing.map((r) => r.event)).toEqual(['routed', 'sent', 'receipt']);
  });

  it('scores with configurable weights, kept on the message', async () => {
    const only =
      'PriceWeight=1&QueueWeight=0&DeliveryWeight=0&LatencyWeight=0&HealthWeight=0&PriorityWeight=0';
    const set = await request(t, 'POST', '/messaging/v1/Routing', only);
    expect(set.status).toBe(200);
    expect(set.json.weights).toMatchObject({ price: 1, queue: 0, health: 0 });
    const msg = await t.client.messages.create({
      to: '+447700900002',
      from: '+15550001111',
      body: 'weights',
    });
    const raw = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Messages/${msg.sid}.json`,
    );
    const routed = (raw.json.routing as { candidates: { name: string; score: number }[] }[])[0]!;
    // Price alone: cheap 0.02 scores 1, dear 0.05 scores 0.02 / 0.05.
    expect(routed.candidates).toEqual([
      { name: 'cheap', score: 1, price: 0.02 },
      { name: 'dear', score: 0.4, price: 0.05 },
    ]);
    const back = await request(
      t,
      'POST',
      '/messaging/v1/Routing',
      'PriceWeight=0.35&QueueWeight=0.25&DeliveryWeight=0.2&LatencyWeight=0.1&HealthWeight=0.1&PriorityWeight=0.05',
    );
    expect((await request(t, 'GET', '/messaging/v1/Routing')).json.weights).toEqual(
      back.json.weights,
    );
    await waitFor(
      async () => (await t.client.messages(msg.sid).fetch()).status === 'delivered',
      15_000,
      'delivered',
    );
  });

  it('counts segments, splits long messages and reports undelivered and failed outcomes', async () => {
    const long = await t.client.messages.create({
      to: '+14155550100',
      from: 'ACME',
      body: 'x'.repeat(400),
    });
    expect(long.numSegments).toBe('3');
    const uni = await t.client.messages.create({
      to: '+14155550101',
      from: 'ACME',
      body: 'Привет',
    });
    expect(uni.numSegments).toBe('1');
    const undeliverable = await t.client.messages.create({
      to: '+447900000000',
      from: 'ACME',
      body: 'u',
    });
    // Only "dear" reaches +1, and it refuses +1999… (ESME_RINVDSTADR: permanent).
    const rejected = await t.client.messages.create({
      to: '+19990000000',
      from: 'ACME',
      body: 'r',
    });
    const done = async (sid: string) => {
      await waitFor(
        async () => final.has((await t.client.messages(sid).fetch()).status),
        15_000,
        `final status of ${sid}`,
      );
      return t.client.messages(sid).fetch();
    };
    expect((await done(long.sid)).status).toBe('delivered');
    expect(dear.messages().some((m) => m.text === 'x'.repeat(400))).toBe(true);
    expect((await done(uni.sid)).status).toBe('delivered');
    const u = await done(undeliverable.sid);
    expect(u.status).toBe('undelivered');
    expect(u.errorCode).toBe(30003);
    const r = await done(rejected.sid);
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe(30005);
  });

  it('refuses bad input with Twilio error codes', async () => {
    const err = await t.client.messages
      .create({ to: 'not-a-number', from: '+15550001111', body: 'x' })
      .catch((e: { code: number; status: number }) => e);
    expect(err).toMatchObject({ code: 21211, status: 400 });
    const noFrom = await t.client.messages
      .create({ to: '+447700900001', body: 'x' } as never)
      .catch((e: { code: number }) => e);
    expect(noFrom).toMatchObject({ code: 21603 });
    const noRoute = await t.client.messages
      .create({ to: '+8613800000000', from: '+15550001111', body: 'x' })
      .catch((e: { code: number }) => e);
    expect(noRoute).toMatchObject({ code: 21408 });
    const scheduled = await t.client.messages
      .create({
        to: '+447700900001',
        from: '+1555',
        body: 'x',
        scheduleType: 'fixed',
        sendAt: new Date(),
      })
      .catch((e: { code: number }) => e);
    expect(scheduled).toMatchObject({ code: 35118 });
  });

  it('lists with filters and paging, redacts and deletes', async () => {
    const to = '+447700900777';
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      sids.push(
        (await t.client.messages.create({ to, from: '+15550002222', body: `page ${i}` })).sid,
      );
    }
    const listed = await t.client.messages.list({ to, pageSize: 2 });
    expect(listed.map((m) => m.sid).sort()).toEqual([...sids].sort());
    await waitFor(
      async () => (await t.client.messages.list({ to })).every((m) => final.has(m.status)),
      15_000,
      'all final',
    );
    const redacted = await t.client.messages(sids[0]!).update({ body: '' });
    expect(redacted.body).toBe('');
    await t.client.messages(sids[1]!).remove();
    const gone = await t.client
      .messages(sids[1]!)
      .fetch()
      .catch((e: { status: number }) => e);
    expect(gone).toMatchObject({ status: 404 });
  });

  it('drains each queue no faster than its provider limit', async () => {
    const before = cheap.submits.length;
    const n = 50;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.client.messages.create({
          to: `+4470000${1000 + i}`,
          from: '+15550003333',
          body: `rate ${i}`,
        }),
      ),
    );
    await waitFor(
      () =>
        cheap.submits.length + dear.submits.filter((s) => s.text.startsWith('rate ')).length >=
        before + n,
      20_000,
      'drain',
    );
    const times = cheap.submits.slice(before).map((s) => s.at);
    // Every one-second window holds at most the limit plus the bucket's burst (2), with a small
    // allowance for submits that network jitter bunches together on arrival.
    for (const start of times) {
      const inWindow = times.filter((x) => x >= start && x < start + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(20 + 2 + 3);
    }
  });

  it('moves traffic away from a provider that goes down', async () => {
    await cheap.close();
    const p = await request(t, 'GET', `/messaging/v1/Providers/${cheapSid}`);
    await waitFor(
      async () =>
        (
          (await request(t, 'GET', `/messaging/v1/Providers/${cheapSid}`)).json.live as {
            connected: boolean;
          }
        ).connected === false,
      10_000,
      'cheap disconnected',
    );
    expect(p.status).toBe(200);
    const msg = await t.client.messages.create({
      to: '+447700900999',
      from: '+15550004444',
      body: 'after the outage',
    });
    await waitFor(
      async () => (await t.client.messages(msg.sid).fetch()).status === 'delivered',
      15_000,
      'delivered via dear',
    );
    expect(dear.messages().some((m) => m.text === 'after the outage')).toBe(true);
    const list = await request(t, 'GET', '/messaging/v1/Providers');
    const providers = list.json.providers as { sid: string; live: { state: string } }[];
    expect(providers.find((x) => x.sid === cheapSid)!.live.state).not.toBe('running');
    expect(providers.find((x) => x.sid === dearSid)!.live.state).toBe('running');
  });
});

describe('Messaging services and inbound messages', () => {
  it('creates a service with the SDK, sends through its sender pool, and answers MO with TwiML', async () => {
    const svc = await t.client.messaging.v1.services.create({
      friendlyName: 'support',
      inboundRequestUrl: `${hook.url}/inbound`,
      statusCallback: `${hook.url}/svc-status`,
    });
    expect(svc.sid).toMatch(/^MG/);
    const upd = await request(
      t,
      'POST',
      `/messaging/v1/Services/${svc.sid}`,
      'Senders=%2B15557770001&Senders=%2B15557770002',
    );
    expect(upd.json.senders).toEqual(['+15557770001', '+15557770002']);
    const listed = await t.client.messaging.v1.services.list();
    expect(listed.map((s) => s.sid)).toContain(svc.sid);

    const msg = await t.client.messages.create({
      to: '+14155550199',
      messagingServiceSid: svc.sid,
      body: 'via service',
    });
    expect(msg.status).toBe('accepted');
    expect(['+15557770001', '+15557770002']).toContain(msg.from);
    const again = await t.client.messages.create({
      to: '+14155550199',
      messagingServiceSid: svc.sid,
      body: 'sticky',
    });
    expect(again.from).toBe(msg.from);
    await waitFor(
      () =>
        hook.calls.some(
          (c) =>
            c.path === '/svc-status' &&
            c.params.MessageSid === msg.sid &&
            c.params.MessageStatus === 'delivered',
        ),
      15_000,
      'service status callback',
    );
    // accepted in the answer, then queued (called back: the first change after creation).
    expect(
      hook.calls
        .filter((c) => c.path === '/svc-status' && c.params.MessageSid === msg.sid)
        .map((c) => [c.params.MessageStatus, c.params.MessagingServiceSid, c.valid]),
    ).toEqual([
      ['queued', svc.sid, true],
      ['sent', svc.sid, true],
      ['delivered', svc.sid, true],
    ]);

    hook.replies.set(
      '/inbound',
      '<?xml version="1.0"?><Response><Message>pong</Message></Response>',
    );
    dear.sendMo('+447700900555', '+15557770001', 'ping');
    await waitFor(() => dear.messages().some((m) => m.text === 'pong'), 15_000, 'TwiML reply');
    const inbound = hook.calls.find((c) => c.path === '/inbound')!;
    expect(inbound.valid).toBe(true);
    expect(inbound.params).toMatchObject({
      From: '+447700900555',
      To: '+15557770001',
      Body: 'ping',
      MessagingServiceSid: svc.sid,
    });
    const reply = dear.messages().find((m) => m.text === 'pong')!;
    expect(reply.to).toBe('447700900555');

    // STOP opts the recipient out: sending to them again is refused with 21610.
    dear.sendMo('+447700900556', '+15557770001', 'STOP');
    await waitFor(
      async () => (await t.client.messages.list({ from: '+447700900556' })).length > 0,
      10_000,
      'STOP stored',
    );
    const refused = await t.client.messages
      .create({ to: '+447700900556', from: '+15557770001', body: 'more?' })
      .catch((e: { code: number }) => e);
    expect(refused).toMatchObject({ code: 21610 });
  });
});
