// HTTP carriers (Kind=http) through the official SDK: a real HTTP carrier server speaking the
// JSON contract of docs/messaging.md beside a real SMPP server. Routing by price, receipts via
// signed callbacks, failure classes (4xx, 503, timeout), failover and inbound messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHttpCarrier } from '../support/http-carrier.js';
import type { TestSmsc } from '../support/smsc.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, startWebhook, waitFor, type Hook } from './support.js';

let t: TestPlatform;
let carrier: TestHttpCarrier;
let smsc: TestSmsc;
let hook: Hook;
let httpSid = '';

const final = new Set(['delivered', 'undelivered', 'failed']);

async function createHttpProvider(
  c: TestHttpCarrier,
  p: {
    name: string;
    prices: Record<string, number>;
    throughput: number;
    maxWaitMs?: number;
    settings?: Record<string, unknown>;
  },
) {
  const form = new URLSearchParams({
    Name: p.name,
    Kind: 'http',
    Settings: JSON.stringify({
      url: c.url,
      secret: c.behaviour.secret,
      timeoutMs: 1500,
      ...p.settings,
    }),
    Prices: JSON.stringify(p.prices),
    Throughput: String(p.throughput),
    MaxWaitMs: String(p.maxWaitMs ?? 60_000),
  });
  const res = await request(t, 'POST', '/messaging/v1/Providers', form.toString());
  if (res.status !== 201)
    throw new Error(`provider create: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function done(sid: string) {
  await waitFor(
    async () => final.has((await t.client.messages(sid).fetch()).status),
    15_000,
    `final status of ${sid}`,
  );
  return t.client.messages(sid).fetch();
}

async function routing(sid: string) {
  const raw = await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Messages/${sid}.json`);
  return raw.json.routing as { event: string; provider?: string; detail: string }[];
}

beforeAll(async () => {
  t = await startTestPlatform();
  carrier = new TestHttpCarrier({
    latencyMs: 20,
    undeliverablePrefixes: ['4479'],
    rejectPrefixes: ['4478'],
  });
  await carrier.start();
  smsc = await startSmsc();
  hook = await startWebhook(() => t.authToken);
  const p = await createHttpProvider(carrier, {
    name: 'http-cheap',
    prices: { '44': 0.01 },
    throughput: 50,
    maxWaitMs: 1000,
    // A submit with no answer: in doubt briefly, then failed (the default sends it again).
    settings: { mms: true, inDoubt: 'fail', inDoubtGraceMs: 300 },
  });
  httpSid = String(p.sid);
  carrier.callbackUrl = String(p.callback_url);
  await createProvider(t, {
    name: 'smpp-dear',
    port: smsc.port,
    prices: { '44': 0.04, '1': 0.01 },
    throughput: 100,
  });
  await waitFor(() => smsc.boundSessions() === 2, 10_000, 'binds');
});

afterAll(async () => {
  await t?.cleanup();
  await carrier?.close();
  await smsc?.close();
  await hook?.close();
});

describe('HTTP providers', () => {
  it('refuses bad settings and hides the secret', async () => {
    const bad = await request(
      t,
      'POST',
      '/messaging/v1/Providers',
      new URLSearchParams({
        Name: 'x',
        Kind: 'http',
        Settings: JSON.stringify({ url: 'ftp://x', secret: 'a'.repeat(20) }),
      }).toString(),
    );
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe(20001);
    const shown = await request(t, 'GET', `/messaging/v1/Providers/${httpSid}`);
    expect((shown.json.settings as Record<string, unknown>).secret).toBe('********');
    expect(shown.json.kind).toBe('http');
    expect(String(shown.json.callback_url)).toMatch(
      new RegExp(`/messaging/v1/Providers/${httpSid}/Callbacks$`),
    );
  });

  it('routes to the HTTP provider by price; its signed receipt reaches the status callback', async () => {
    const msg = await t.client.messages.create({
      to: '+447700900100',
      from: '+15550001111',
      body: 'over HTTP',
      statusCallback: `${hook.url}/status`,
    });
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
    const sub = carrier.submits.find((s) => s.id === msg.sid)!;
    expect(sub).toMatchObject({
      to: '+447700900100',
      from: '+15550001111',
      body: 'over HTTP',
      idempotencyKey: msg.sid,
    });
    expect(sub.status_callback).toBe(carrier.callbackUrl);
    const fetched = await t.client.messages(msg.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.price).toBe('-0.01000');
    const log = await routing(msg.sid);
    expect(log.map((e) => e.event)).toEqual(['routed', 'sent', 'receipt']);
    expect(log[0]!.provider).toBe('http-cheap');
    expect(log[1]!.detail).toContain(sub.messageId);
  });

  it('classifies failures: 400 permanent, undelivered reports, no answer = unknown outcome', async () => {
    const rejected = await t.client.messages.create({
      to: '+447800000001',
      from: 'ACME',
      body: 'r',
    });
    const undeliv = await t.client.messages.create({
      to: '+447900000001',
      from: 'ACME',
      body: 'u',
    });
    const r = await done(rejected.sid);
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe(30005);
    const u = await done(undeliv.sid);
    expect(u.status).toBe('undelivered');
    expect(u.errorCode).toBe(30003);
    expect((await routing(undeliv.sid)).at(-1)!.detail).toContain('absent_subscriber');

    carrier.behaviour.silent = true;
    try {
      const lost = await t.client.messages.create({
        to: '+447700900101',
        from: 'ACME',
        body: 'lost',
      });
      const l = await done(lost.sid);
      expect(l.status).toBe('failed');
      expect(l.errorCode).toBe(30008);
      const log = await routing(lost.sid);
      expect(log.find((e) => e.event === 'in-doubt')?.detail).toMatch(
        /no HTTP response within 1500 ms.*in doubt: waiting 300 ms/,
      );
      expect(log.at(-1)!.detail).toMatch(/outcome unknown: no receipt within 300 ms.*not resent/);
    } finally {
      carrier.behaviour.silent = false;
    }
  });

  it('verifies callbacks: bad signature and stale timestamp get 401 with a Twilio error', async () => {
    const body = {
      type: 'receipt' as const,
      message_id: 'hc-unknown',
      status: 'delivered' as const,
    };
    const forged = await fetch(carrier.callbackUrl!, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-switchboard-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-switchboard-signature': 'v1=00',
      },
      body: JSON.stringify(body),
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({
      code: 20003,
      status: 401,
      more_info: 'https://www.twilio.com/docs/errors/20003',
    });
    expect(await carrier.post(body, carrier.callbackUrl, 'another-secret-of-16-chars')).toBe(401);
    expect(
      await carrier.post(body, carrier.callbackUrl, carrier.behaviour.secret, Date.now() - 600_000),
    ).toBe(401);
    const garbage = await carrier.post({ type: 'nonsense' } as never);
    expect(garbage).toBe(400);
    // The server keeps serving.
    expect((await request(t, 'GET', `/messaging/v1/Providers/${httpSid}`)).status).toBe(200);
  });

  it('delivers inbound messages from the callback to the service webhook, and runs its TwiML reply', async () => {
    const svc = await t.client.messaging.v1.services.create({
      friendlyName: 'http-inbound',
      inboundRequestUrl: `${hook.url}/http-inbound`,
    });
    await request(t, 'POST', `/messaging/v1/Services/${svc.sid}`, 'Senders=%2B15558880001');
    hook.replies.set(
      '/http-inbound',
      '<?xml version="1.0"?><Response><Message>pong over http</Message></Response>',
    );
    expect(await carrier.sendMo('+447700900555', '+15558880001', 'ping')).toBe(200);
    await waitFor(
      () => hook.calls.some((c) => c.path === '/http-inbound'),
      10_000,
      'inbound webhook',
    );
    const call = hook.calls.find((c) => c.path === '/http-inbound')!;
    expect(call.valid).toBe(true);
    expect(call.params).toMatchObject({
      From: '+447700900555',
      To: '+15558880001',
      Body: 'ping',
      MessagingServiceSid: svc.sid,
    });
    await waitFor(
      () => carrier.submits.some((s) => s.body === 'pong over http'),
      10_000,
      'TwiML reply',
    );
    expect(carrier.submits.find((s) => s.body === 'pong over http')!.to).toBe('+447700900555');
    const stored = await t.client.messages.list({ from: '+447700900555' });
    expect(stored[0]).toMatchObject({ direction: 'inbound', status: 'received', body: 'ping' });
  });
});

describe('MMS', () => {
  it('sends MediaUrl through an HTTP provider that carries MMS, with the Media subresource', async () => {
    const mediaUrl = ['https://cdn.example.com/cat.jpg', 'https://cdn.example.com/chart.png?x=1'];
    const msg = await t.client.messages.create({
      to: '+447700900300',
      from: '+15550001111',
      body: 'look',
      mediaUrl,
    });
    expect(msg.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(msg.numMedia).toBe('2');
    expect(msg.numSegments).toBe('1');
    expect((await done(msg.sid)).status).toBe('delivered');
    const sub = carrier.submits.find((x) => x.id === msg.sid)!;
    expect(sub.media_urls).toEqual(mediaUrl);
    const media = await t.client.messages(msg.sid).media.list();
    expect(media.map((x) => x.contentType)).toEqual(['image/jpeg', 'image/png']);
    expect(media.every((x) => /^ME[0-9a-f]{32}$/.test(x.sid) && x.parentSid === msg.sid)).toBe(
      true,
    );
    const one = await t.client.messages(msg.sid).media(media[0]!.sid).fetch();
    expect(one.uri).toBe(
      `/2010-04-01/Accounts/${t.accountSid}/Messages/${msg.sid}/Media/${media[0]!.sid}.json`,
    );
    // Media only: no Body needed.
    const bare = await t.client.messages.create({
      to: '+447700900301',
      from: '+15550001111',
      mediaUrl: ['https://cdn.example.com/a.gif'],
    });
    expect(bare.numMedia).toBe('1');
  });

  it('refuses MMS that no route can carry, too many files and bad URLs with Twilio codes', async () => {
    // Only the SMPP provider reaches +1: MMS cannot go there.
    const smsOnly = await t.client.messages
      .create({
        to: '+14155550100',
        from: '+15550001111',
        body: 'x',
        mediaUrl: ['https://e.com/a.jpg'],
      })
      .catch((e: { code: number; status: number }) => e);
    expect(smsOnly).toMatchObject({ code: 21612, status: 400 });
    const eleven = await t.client.messages
      .create({
        to: '+447700900302',
        from: '+15550001111',
        body: 'x',
        mediaUrl: Array.from({ length: 11 }, (_, i) => `https://e.com/${i}.jpg`),
      })
      .catch((e: { code: number }) => e);
    expect(eleven).toMatchObject({ code: 21623 });
    const bad = await t.client.messages
      .create({
        to: '+447700900302',
        from: '+15550001111',
        body: 'x',
        mediaUrl: ['ftp://e.com/a.jpg'],
      })
      .catch((e: { code: number }) => e);
    expect(bad).toMatchObject({ code: 21620 });
    // The same text without media goes over SMPP.
    const sms = await t.client.messages.create({
      to: '+14155550100',
      from: '+15550001111',
      body: 'x',
    });
    expect((await done(sms.sid)).status).toBe('delivered');
  });
});

describe('Number-level inbound webhooks', () => {
  it("sends an MO message to the number's SmsUrl, signed, with its media, and runs the TwiML reply and redirect", async () => {
    const number = await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15559990001',
      smsUrl: `${hook.url}/number-sms`,
    });
    expect(number.smsUrl).toBe(`${hook.url}/number-sms`);
    hook.replies.set(
      '/number-sms',
      '<?xml version="1.0"?><Response><Message>ack</Message><Redirect>/number-next</Redirect></Response>',
    );
    hook.replies.set(
      '/number-next',
      '<?xml version="1.0"?><Response><Message><Body>second</Body><Media>https://cdn.example.com/r.png</Media></Message></Response>',
    );
    const status = await carrier.sendMo('+447700900600', '+15559990001', 'hello number', [
      { url: 'https://carrier.example/m/1', contentType: 'image/jpeg' },
    ]);
    expect(status).toBe(200);
    await waitFor(
      () => carrier.submits.some((x) => x.body === 'second'),
      10_000,
      'redirected reply',
    );
    const call = hook.calls.find((c) => c.path === '/number-sms')!;
    expect(call.valid).toBe(true);
    expect(call.params).toMatchObject({
      AccountSid: t.accountSid,
      From: '+447700900600',
      To: '+15559990001',
      Body: 'hello number',
      NumMedia: '1',
      MediaUrl0: 'https://carrier.example/m/1',
      MediaContentType0: 'image/jpeg',
    });
    expect(call.params.MessageSid).toMatch(/^MM/);
    expect(call.params.MessagingServiceSid).toBeUndefined();
    expect(hook.calls.find((c) => c.path === '/number-next')!.valid).toBe(true);
    const ack = carrier.submits.find((x) => x.body === 'ack')!;
    expect(ack).toMatchObject({ to: '+447700900600', from: '+15559990001' });
    expect(carrier.submits.find((x) => x.body === 'second')!.media_urls).toEqual([
      'https://cdn.example.com/r.png',
    ]);
    const stored = await t.client.messages(call.params.MessageSid!).media.list();
    expect(stored.map((x) => x.contentType)).toEqual(['image/jpeg']);
  });

  it("uses the SMS application's SmsUrl, and the number's SmsFallbackUrl when its SmsUrl fails", async () => {
    const app = await t.client.applications.create({
      friendlyName: 'sms-module',
      smsUrl: `${hook.url}/app-sms`,
    });
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15559990002',
      smsApplicationSid: app.sid,
      smsUrl: `${hook.url}/not-used`,
    });
    hook.replies.set(
      '/app-sms',
      '<?xml version="1.0"?><Response><Message>from module</Message></Response>',
    );
    // Over SMPP this time: deliver_sm to the number.
    smsc.sendMo('+14155550777', '+15559990002', 'to the module');
    await waitFor(
      () => smsc.messages().some((x) => x.text === 'from module'),
      10_000,
      'module reply',
    );
    expect(hook.calls.some((c) => c.path === '/not-used')).toBe(false);
    expect(hook.calls.find((c) => c.path === '/app-sms')!.params).toMatchObject({
      To: '+15559990002',
      Body: 'to the module',
    });

    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15559990003',
      smsUrl: 'http://127.0.0.1:9/refused',
      smsFallbackUrl: `${hook.url}/fallback-sms`,
    });
    expect(await carrier.sendMo('+447700900601', '+15559990003', 'fall back')).toBe(200);
    await waitFor(() => hook.calls.some((c) => c.path === '/fallback-sms'), 15_000, 'fallback');
    expect(hook.calls.find((c) => c.path === '/fallback-sms')!.valid).toBe(true);
  });

  it("uses a service's FallbackUrl when its inbound URL fails, and a sender's own SmsUrl with UseInboundWebhookOnNumber", async () => {
    const withSenders = async (sid: string, sender: string) => {
      const res = await request(
        t,
        'POST',
        `/messaging/v1/Services/${sid}`,
        `Senders=${encodeURIComponent(sender)}`,
      );
      expect(res.status, JSON.stringify(res.json)).toBe(200);
    };
    const failing = await t.client.messaging.v1.services.create({
      friendlyName: 'fails over',
      inboundRequestUrl: 'http://127.0.0.1:9/refused',
      fallbackUrl: `${hook.url}/svc-fallback`,
    });
    expect(failing.fallbackUrl).toBe(`${hook.url}/svc-fallback`);
    expect(failing.useInboundWebhookOnNumber).toBe(false);
    await withSenders(failing.sid, '+15559990005');
    expect(await carrier.sendMo('+447700900602', '+15559990005', 'to the service')).toBe(200);
    await waitFor(() => hook.calls.some((c) => c.path === '/svc-fallback'), 15_000, 'fallback');
    const fell = hook.calls.find((c) => c.path === '/svc-fallback')!;
    expect(fell.valid).toBe(true);
    expect(fell.params).toMatchObject({ To: '+15559990005', MessagingServiceSid: failing.sid });

    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15559990006',
      smsUrl: `${hook.url}/sender-own-sms`,
    });
    const onNumber = await t.client.messaging.v1.services.create({
      friendlyName: 'number first',
      inboundRequestUrl: `${hook.url}/svc-inbound`,
      useInboundWebhookOnNumber: true,
    });
    expect(onNumber.useInboundWebhookOnNumber).toBe(true);
    await withSenders(onNumber.sid, '+15559990006');
    expect(await carrier.sendMo('+447700900603', '+15559990006', 'to the number')).toBe(200);
    await waitFor(() => hook.calls.some((c) => c.path === '/sender-own-sms'), 15_000, 'number URL');
    expect(hook.calls.find((c) => c.path === '/sender-own-sms')!.params).toMatchObject({
      To: '+15559990006',
      MessagingServiceSid: onNumber.sid,
    });
    // Turned off, the service's own URL takes the sender's messages again.
    await t.client.messaging.v1.services(onNumber.sid).update({ useInboundWebhookOnNumber: false });
    expect(await carrier.sendMo('+447700900603', '+15559990006', 'to the service')).toBe(200);
    await waitFor(() => hook.calls.some((c) => c.path === '/svc-inbound'), 15_000, 'service URL');
  });
});

// Last: after an outage the worker backs off for up to 30 s before it tries the carrier again.
describe('HTTP provider failover', () => {
  it('moves traffic to another provider when the HTTP carrier answers 503', async () => {
    carrier.behaviour.failStatus = 503;
    const live = async () =>
      (await request(t, 'GET', `/messaging/v1/Providers/${httpSid}`)).json.live as {
        circuit: string;
        errors: number;
      };
    try {
      // Messages routed to the failing carrier are retried, then moved after MaxWaitMs (1 s);
      // five transient failures in a row open its circuit breaker.
      const first: string[] = [];
      for (let i = 0; i < 3; i++) {
        const to = `+4477009002${i}0`;
        first.push(
          (await t.client.messages.create({ to, from: 'ACME', body: `failover ${i}` })).sid,
        );
      }
      await waitFor(async () => (await live()).circuit === 'open', 15_000, 'circuit open');
      // While it is open, new messages go straight to the SMPP provider.
      const later: string[] = [];
      for (let i = 3; i < 6; i++) {
        const to = `+4477009002${i}0`;
        later.push(
          (await t.client.messages.create({ to, from: 'ACME', body: `failover ${i}` })).sid,
        );
      }
      for (const sid of [...first, ...later]) expect((await done(sid)).status).toBe('delivered');
      expect(carrier.refusals.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(5);
      expect(smsc.messages().filter((m) => m.text.startsWith('failover ')).length).toBe(6);
      for (const sid of first) {
        const log = await routing(sid);
        expect(log[0]!.provider).toBe('http-cheap');
        expect(log.map((e) => e.event)).toContain('retry');
        expect(log.find((e) => e.event === 'rerouted')!.provider).toBe('smpp-dear');
      }
      for (const sid of later) expect((await routing(sid))[0]!.provider).toBe('smpp-dear');
      expect((await live()).errors).toBeGreaterThanOrEqual(5);
    } finally {
      carrier.behaviour.failStatus = 0;
    }
  });
});
