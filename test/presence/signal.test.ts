// The Voice SDK's signalling on wss /signal, spoken by a Node client: tokens made by the
// official `twilio` package, accepted and refused with the codes the SDK turns into its errors;
// registration seen through the presence REST resource; hostile input answered and survived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { SignalClient, voiceToken } from '../support/signal-client.js';
import { until } from '../support/until.js';

let t: TestPlatform;
let key: { sid: string; secret: string };
let wss: string;

async function presenceGet(
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/presence/v1/${path}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}`,
    },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const token = (identity: string, extra: Partial<Parameters<typeof voiceToken>[0]> = {}) =>
  voiceToken({ accountSid: t.accountSid, keySid: key.sid, secret: key.secret, identity, ...extra });

beforeAll(async () => {
  t = await startTestPlatform({ tlsEnabled: true, tlsPort: 0 });
  const k = await t.client.newKeys.create({ friendlyName: 'voice sdk' });
  key = { sid: k.sid, secret: k.secret };
  wss = `wss://127.0.0.1:${t.platform.tls!.port}/signal`;
});
afterAll(async () => {
  await t?.cleanup();
});

describe('presence signalling', () => {
  it('registers a device and shows it online until it leaves', async () => {
    const c = await SignalClient.open(wss);
    c.send('listen', { token: token('alice'), browserinfo: { p: 'browser' } });
    const connected = await c.next('connected');
    expect(connected.payload).toMatchObject({ token: { identity: 'alice' } });
    expect((connected.payload.token as { ttl: number }).ttl).toBeGreaterThan(3500);
    c.send('register', { media: { audio: true } });
    await c.next('ready');
    const listed = await presenceGet('Clients');
    expect(listed.status).toBe(200);
    const clients = listed.body.clients as {
      identity: string;
      status: string;
      devices: unknown[];
    }[];
    expect(clients.map((x) => x.identity)).toEqual(['alice']);
    expect(clients[0]).toMatchObject({
      status: 'available',
      devices: [{ kind: 'sdk', status: 'available' }],
    });
    expect((await presenceGet('Clients/alice')).status).toBe(200);
    // A refreshed token (device.updateToken) on the same socket keeps the device.
    c.send('listen', { token: token('alice') });
    await c.next('connected');
    // Unregister, then close.
    c.send('register', { media: { audio: false } });
    await c.next('offline');
    expect((await presenceGet('Clients/alice')).status).toBe(404);
    c.send('register', { media: { audio: true } });
    await c.next('ready');
    c.close();
    await until('alice offline', async () => (await presenceGet('Clients/alice')).status === 404);
  });

  it('pages and filters the online identities', async () => {
    const clients = await Promise.all(['bob', 'carol', 'dave'].map(() => SignalClient.open(wss)));
    await Promise.all(clients.map((c, i) => c.register(token(['bob', 'carol', 'dave'][i]!))));
    const page1 = await presenceGet('Clients?PageSize=2');
    const ids1 = (page1.body.clients as { identity: string }[]).map((c) => c.identity);
    expect(ids1).toEqual(['bob', 'carol']);
    const next = (page1.body.meta as { next_page_url: string }).next_page_url;
    const page2 = await presenceGet(next.slice(next.indexOf('/v1/') + 4));
    expect((page2.body.clients as { identity: string }[]).map((c) => c.identity)).toEqual(['dave']);
    const filtered = await presenceGet('Clients?IdentityPrefix=ca');
    expect((filtered.body.clients as { identity: string }[]).map((c) => c.identity)).toEqual([
      'carol',
    ]);
    expect((await presenceGet('Clients?Status=nonsense')).status).toBe(400);
    for (const c of clients) c.close();
  });

  it('refuses bad tokens with the codes the SDK maps to its errors', async () => {
    const c = await SignalClient.open(wss);
    const refusal = async (jwt: string) => {
      c.send('listen', { token: jwt });
      return (await c.next('error')).payload.error as { code: number; message: string };
    };
    const good = token('eve');
    const [h, p, s] = good.split('.');
    const badSig = `${h}.${p}.${s!.slice(0, -4)}${s!.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(await refusal(badSig)).toMatchObject({
      code: 31204,
      message: expect.stringContaining('20107'),
    });
    expect(await refusal('not a jwt')).toMatchObject({ code: 31204 });
    // Expired an hour ago (ttl -3600), and beyond any clock skew.
    expect(await refusal(token('eve', { ttl: -3600 }))).toMatchObject({
      code: 31205,
      message: expect.stringContaining('20104'),
    });
    expect(await refusal(token('eve', { ttl: 25 * 3600 }))).toMatchObject({
      code: 31204,
      message: expect.stringContaining('20157'),
    });
    // HS512 is accepted as Twilio does.
    c.send('listen', { token: token('eve', { algorithm: 'HS512' }) });
    await c.next('connected');
    // A revoked (deleted) key signs nothing more.
    const k2 = await t.client.newKeys.create({ friendlyName: 'revoked' });
    const revoked = voiceToken({
      accountSid: t.accountSid,
      keySid: k2.sid,
      secret: k2.secret,
      identity: 'eve',
    });
    await t.client.keys(k2.sid).remove();
    const c2 = await SignalClient.open(wss);
    c2.send('listen', { token: revoked });
    expect((await c2.next('error')).payload.error).toMatchObject({ code: 31204 });
    // A token without incoming.allow cannot register: the identity stays unreachable.
    const c3 = await SignalClient.open(wss);
    expect((await c3.register(token('mallory', { incomingAllow: false }))).type).toBe('error');
    expect((await presenceGet('Clients/mallory')).status).toBe(404);
    for (const x of [c, c2, c3]) x.close();
  });

  it('answers hostile input with errors and keeps serving', async () => {
    const c = await SignalClient.open(wss);
    c.ws.send('{{{ not json');
    expect((await c.next('error')).payload.error).toMatchObject({ code: 31400 });
    c.send('frobnicate', {});
    expect((await c.next('error')).payload.error).toMatchObject({ code: 31400 });
    c.send('answer', { callsid: 'CA00', sdp: 'v=0' });
    expect((await c.next('error')).payload.error).toMatchObject({ code: 31404 });
    c.send('register', { media: { audio: true } });
    expect((await c.next('error')).payload.error).toMatchObject({ code: 31204 });
    // A frame over the limit closes that socket (1009), not the server.
    const big = await SignalClient.open(wss);
    big.ws.send('x'.repeat(200_000));
    expect((await big.closed).code).toBe(1009);
    // Many connections opened and dropped at once.
    const many = await Promise.all(Array.from({ length: 200 }, () => SignalClient.open(wss)));
    for (const m of many) m.ws.terminate();
    // Garbage over and over: the socket is closed after too many errors.
    const noisy = await SignalClient.open(wss);
    for (let i = 0; i < 30; i++) noisy.ws.send('garbage');
    expect((await noisy.closed).code).toBe(1008);
    // Still serving: the first socket registers.
    expect((await c.register(token('zed'))).type).toBe('ready');
    c.close();
  });
});
