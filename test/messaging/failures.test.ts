// How messages fare when providers misbehave, against real SMPP servers: a validity period that
// runs out in the queue (30036), queued messages moved off a provider that went down, the
// circuit breaker of a provider whose every submit fails transiently, the window of outstanding
// submits per bind, a full queue (21611, or 30001 through a service), throttling (ESME_RTHROTTLED) and a submit whose
// answer never comes (unknown outcome, 30008, not resent). Each case has its own destination
// prefix, so that their providers do not compete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, startWebhook, waitFor, type Hook } from './support.js';

let t: TestPlatform;
let hook: Hook;
const smscs: TestSmsc[] = [];

interface Routed {
  event: string;
  provider?: string;
  detail: string;
}
interface Msg {
  sid: string;
  status: string;
  error_code: number | null;
  provider_sid: string;
  routing: Routed[];
}

beforeAll(async () => {
  t = await startTestPlatform();
  hook = await startWebhook(() => t.authToken);
  // Price alone decides among healthy providers, so that each case knows where its messages go.
  const weights = await request(
    t,
    'POST',
    '/messaging/v1/Routing',
    'PriceWeight=1&QueueWeight=0&DeliveryWeight=0&LatencyWeight=0&HealthWeight=0&PriorityWeight=0',
  );
  expect(weights.status).toBe(200);
});

afterAll(async () => {
  await t?.cleanup();
  for (const s of smscs) await s.close();
  await hook?.close();
});

async function smsc(b: Parameters<typeof startSmsc>[0] = {}): Promise<TestSmsc> {
  const s = await startSmsc(b);
  smscs.push(s);
  return s;
}

const path = () => `/2010-04-01/Accounts/${t.accountSid}/Messages`;

async function send(to: string, body: string, extra: Record<string, string> = {}) {
  const form = new URLSearchParams({ To: to, From: '+15550009999', Body: body, ...extra });
  return request(t, 'POST', `${path()}.json`, form.toString());
}

async function fetchMsg(sid: string): Promise<Msg> {
  return (await request(t, 'GET', `${path()}/${sid}.json`)).json as unknown as Msg;
}

async function settled(sid: string, ms = 30_000): Promise<Msg> {
  let m: Msg | undefined;
  await waitFor(
    async () => ['delivered', 'undelivered', 'failed'].includes((m = await fetchMsg(sid)).status),
    ms,
    `final status of ${sid}`,
  );
  return m!;
}

async function live(sid: string): Promise<Record<string, unknown>> {
  return (await request(t, 'GET', `/messaging/v1/Providers/${sid}`)).json.live as Record<
    string,
    unknown
  >;
}

describe('Messages when providers misbehave', () => {
  it('fails a message whose ValidityPeriod runs out in the queue with 30036, and calls back', async () => {
    const s = await smsc();
    await createProvider(t, {
      name: 'gone',
      port: s.port,
      prices: { '351': 0.01 },
      throughput: 10,
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    await s.close(); // down before the message comes: it waits in the queue
    const res = await send('+351910000001', 'too late', {
      ValidityPeriod: '2',
      StatusCallback: `${hook.url}/validity`,
    });
    expect(res.status).toBe(201);
    const m = await settled(String(res.json.sid));
    expect(m).toMatchObject({ status: 'failed', error_code: 30036 });
    expect(m.routing.at(-1)).toMatchObject({ event: 'failed' });
    expect(m.routing.at(-1)!.detail).toMatch(/^30036: expired/);
    await waitFor(
      () => hook.calls.some((c) => c.path === '/validity' && c.params.ErrorCode === '30036'),
      10_000,
      'failed callback',
    );
    const cb = hook.calls.filter((c) => c.path === '/validity');
    expect(cb.map((c) => c.params.MessageStatus)).toEqual(['failed']);
    expect(cb[0]!.valid).toBe(true);
    expect(s.submits).toHaveLength(0);
  });

  it('moves queued messages to another provider once their own has been down MaxWaitMs', async () => {
    const slowSmsc = await smsc();
    const spareSmsc = await smsc();
    const slow = await createProvider(t, {
      name: 'slow',
      port: slowSmsc.port,
      prices: { '352': 0.01 },
      throughput: 1,
      maxWaitMs: 1000,
    });
    await createProvider(t, {
      name: 'spare',
      port: spareSmsc.port,
      prices: { '352': 0.1 },
      throughput: 100,
    });
    await waitFor(
      () => slowSmsc.boundSessions() === 2 && spareSmsc.boundSessions() === 2,
      10_000,
      'binds',
    );
    const sids: string[] = [];
    for (let i = 0; i < 6; i++)
      sids.push(String((await send(`+35291000000${i}`, `q${i}`)).json.sid));
    // At 1/s the cheap one has most of them still queued when it goes down.
    await slowSmsc.close();
    const done = await Promise.all(sids.map((sid) => settled(sid)));
    expect(done.every((m) => m.status === 'delivered')).toBe(true);
    const moved = done.filter((m) => m.routing.some((r) => r.event === 'rerouted'));
    expect(moved.length).toBeGreaterThanOrEqual(3);
    for (const m of moved) {
      const r = m.routing.find((e) => e.event === 'rerouted')!;
      expect(r.provider).toBe('spare');
      expect(r.detail).toMatch(/slow is .* and the message waited \d+ ms/);
      expect(m.routing[0]).toMatchObject({ event: 'routed', provider: 'slow' });
    }
    expect(spareSmsc.submits.length + slowSmsc.submits.length).toBe(6);
    expect((await live(String(slow.sid))).connected).toBe(false);
  });

  it('opens the circuit of a provider whose submits keep failing, and moves its messages', async () => {
    const flakySmsc = await smsc({ failEvery: 1 }); // every submit_sm: ESME_RSYSERR (transient)
    const steadySmsc = await smsc();
    const flaky = await createProvider(t, {
      name: 'flaky',
      port: flakySmsc.port,
      prices: { '353': 0.01 },
      throughput: 100,
      maxWaitMs: 1500,
    });
    await createProvider(t, {
      name: 'steady',
      port: steadySmsc.port,
      prices: { '353': 0.1 },
      throughput: 100,
    });
    await waitFor(
      () => flakySmsc.boundSessions() === 2 && steadySmsc.boundSessions() === 2,
      10_000,
      'binds',
    );
    const sids: string[] = [];
    for (let i = 0; i < 8; i++)
      sids.push(String((await send(`+35391000000${i}`, `c${i}`)).json.sid));
    let opened: Record<string, unknown> | undefined;
    await waitFor(
      async () => (opened = await live(String(flaky.sid))).circuit === 'open',
      10_000,
      'circuit open',
    );
    expect(opened!.state).toBe('circuit-open');
    // Five transient failures in a row open it (the figures are refreshed every 250 ms).
    await waitFor(
      async () => Number((await live(String(flaky.sid))).errors) >= 5,
      5000,
      'errors counted',
    );
    const done = await Promise.all(sids.map((sid) => settled(sid)));
    expect(done.map((m) => m.status)).toEqual(Array(8).fill('delivered'));
    // Each moved to steady: those tried on flaky first say so with a retry; those the open
    // circuit kept from being tried were moved by the sweep.
    for (const m of done) expect(m.routing.map((r) => r.event)).toContain('rerouted');
    const tried = done.filter((m) => m.routing.some((r) => r.event === 'retry'));
    expect(tried.length).toBeGreaterThanOrEqual(1);
    for (const m of tried) {
      expect(m.routing.find((r) => r.event === 'retry')!.detail).toMatch(/flaky/);
    }
    expect(steadySmsc.submits).toHaveLength(8);
    expect(flakySmsc.submits).toHaveLength(0); // refused ones are not recorded as submitted
  });

  it('keeps at most `window` submits outstanding on each of the binds', async () => {
    const s = await smsc({ responseDelayMs: 150 });
    await createProvider(t, {
      name: 'windowed',
      port: s.port,
      prices: { '354': 0.01 },
      throughput: 1000,
      binds: 2,
      window: 3,
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    const sids = await Promise.all(
      Array.from({ length: 24 }, async (_, i) =>
        String((await send(`+3549100000${String(i).padStart(2, '0')}`, `w${i}`)).json.sid),
      ),
    );
    const done = await Promise.all(sids.map((sid) => settled(sid)));
    expect(done.every((m) => m.status === 'delivered')).toBe(true);
    // Both binds carried traffic, each never had more than 3 unanswered (and did reach it).
    expect(new Set(s.submits.map((x) => x.session)).size).toBe(2);
    expect(s.maxOutstanding).toBe(3);
    const first = s.submits[0]!.at;
    const last = s.submits.at(-1)!.at;
    // 24 submits through 2 × 3 slots of 150 ms each take at least 3 rounds.
    expect(last - first).toBeGreaterThanOrEqual(3 * 150 - 50);
  });

  it('refuses a sender past MaxQueue with 21611, and fails a service message with 30001', async () => {
    const s = await smsc();
    const tiny = await createProvider(t, {
      name: 'tiny',
      port: s.port,
      prices: { '355': 0.01 },
      throughput: 10,
      maxQueue: 3,
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    await s.close(); // nothing drains
    await waitFor(async () => (await live(String(tiny.sid))).connected === false, 10_000, 'down');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await send(`+35591000000${i}`, `o${i}`));
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([201, 201, 201]);
    // As Twilio's API does for a From number whose queue is full.
    for (const a of answers.slice(3)) {
      expect(a.status).toBe(400);
      expect(a.json).toMatchObject({ code: 21611, status: 400 });
      expect(String(a.json.message)).toMatch(/tiny has 3 messages waiting \(MaxQueue 3\)/);
    }
    // Through a Messaging Service the message is accepted and fails at once with 30001,
    // called back as failed, never queued (Twilio: "messages will instead fail after creation").
    const svc = await request(
      t,
      'POST',
      '/messaging/v1/Services',
      new URLSearchParams({ FriendlyName: 'overflow', Senders: '+15550009998' }).toString(),
    );
    expect(svc.status).toBe(201);
    const viaService = await request(
      t,
      'POST',
      `${path()}.json`,
      new URLSearchParams({
        To: '+355910000009',
        MessagingServiceSid: String(svc.json.sid),
        Body: 'over',
        StatusCallback: `${hook.url}/overflow`,
      }).toString(),
    );
    expect(viaService.status).toBe(201);
    expect(viaService.json.status).toBe('accepted');
    const m = await fetchMsg(String(viaService.json.sid));
    expect(m).toMatchObject({ status: 'failed', error_code: 30001 });
    expect(m.routing.at(-1)!.detail).toMatch(/^30001: tiny has 3 messages waiting/);
    await waitFor(() => hook.calls.some((c) => c.path === '/overflow'), 10_000, 'failed callback');
    const cb = hook.calls.filter((c) => c.path === '/overflow');
    expect(cb.map((c) => [c.params.MessageStatus, c.params.ErrorCode])).toEqual([
      ['failed', '30001'],
    ]);
    expect(cb[0]!.valid).toBe(true);
    expect((await live(String(tiny.sid))).queue_depth).toBe(3);
  });

  it('refuses a message that would wait in the queue beyond its ValidityPeriod (21611)', async () => {
    const s = await smsc();
    const slow = await createProvider(t, {
      name: 'one-per-second',
      port: s.port,
      prices: { '358': 0.01 },
      throughput: 1,
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    await s.close();
    await waitFor(async () => (await live(String(slow.sid))).connected === false, 10_000, 'down');
    // At 1 segment/s, the third message waits 3 s: over a 2 s validity, under a 10 s one.
    const long = { ValidityPeriod: '10' };
    expect((await send('+358910000001', 'a', long)).status).toBe(201);
    expect((await send('+358910000002', 'b', long)).status).toBe(201);
    const refused = await send('+358910000003', 'c', { ValidityPeriod: '2' });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 21611 });
    expect(String(refused.json.message)).toMatch(/beyond the validity period \(2 s\)/);
    expect((await send('+358910000004', 'd', long)).status).toBe(201);
  });

  it('backs off when the SMSC throttles, and delivers everything without failures', async () => {
    const s = await smsc({ maxPerSecond: 4 });
    await createProvider(t, {
      name: 'throttling',
      port: s.port,
      prices: { '356': 0.01 },
      throughput: 100,
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    const sids = await Promise.all(
      Array.from({ length: 12 }, async (_, i) =>
        String((await send(`+3569100000${String(i).padStart(2, '0')}`, `t${i}`)).json.sid),
      ),
    );
    const done = await Promise.all(sids.map((sid) => settled(sid, 60_000)));
    expect(done.every((m) => m.status === 'delivered')).toBe(true);
    const retried = done.filter((m) =>
      m.routing.some((r) => r.event === 'retry' && /0x58|throttl/i.test(r.detail)),
    );
    expect(retried.length).toBeGreaterThan(0);
    expect(s.submits).toHaveLength(12);
  });

  it('holds a submit whose answer never comes in doubt, then fails it (30008) without resending when the provider says so', async () => {
    const s = await smsc({ silent: true });
    await createProvider(t, {
      name: 'mute',
      port: s.port,
      prices: { '357': 0.01 },
      throughput: 10,
      settings: { inDoubt: 'fail', inDoubtGraceMs: 500 },
    });
    await waitFor(() => s.boundSessions() === 2, 10_000, 'binds');
    const sid = String((await send('+357910000001', 'into the void')).json.sid);
    await waitFor(async () => (await fetchMsg(sid)).status === 'sending', 5000, 'sending');
    const m = await settled(sid, 20_000);
    expect(m).toMatchObject({ status: 'failed', error_code: 30008 });
    const doubt = m.routing.find((r) => r.event === 'in-doubt');
    expect(doubt?.detail).toMatch(/^mute: no submit_sm_resp.*in doubt: waiting 500 ms/);
    expect(m.routing.at(-1)!.detail).toMatch(
      /outcome unknown: no receipt within 500 ms.*not resent/,
    );
    // Still one submit_sm at the SMSC a while later: it was not sent again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(s.maxOutstanding).toBe(1);
  });
});
