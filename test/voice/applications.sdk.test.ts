// Applications (modules) through the official SDK, extension fields through raw requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

const apps = () => `/2010-04-01/Accounts/${t.accountSid}/Applications`;
const form = (o: Record<string, string | string[]>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of [v].flat()) q.append(k, x);
  return q.toString();
};

describe('Applications through the official SDK', () => {
  it('creates, fetches, lists across pages, updates and deletes', async () => {
    const created = await t.client.applications.create({
      friendlyName: 'IVR',
      voiceUrl: 'https://example.com/ivr',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'https://example.com/fallback',
      statusCallback: 'https://example.com/status',
      smsUrl: 'https://example.com/sms',
    });
    expect(created.sid).toMatch(/^AP[0-9a-f]{32}$/);
    expect(created.accountSid).toBe(t.accountSid);
    expect(created.voiceUrl).toBe('https://example.com/ivr');
    expect(created.voiceMethod).toBe('GET');
    expect(created.voiceFallbackMethod).toBe('POST');
    expect(created.statusCallbackMethod).toBe('POST');
    expect(created.apiVersion).toBe('2010-04-01');
    expect(created.dateCreated).toBeInstanceOf(Date);
    expect(created.uri).toBe(`${apps()}/${created.sid}.json`);

    const fetched = await t.client.applications(created.sid).fetch();
    expect(fetched.friendlyName).toBe('IVR');

    for (let i = 0; i < 4; i++) await t.client.applications.create({ friendlyName: `app ${i}` });
    const all = await t.client.applications.list({ pageSize: 2 });
    expect(all).toHaveLength(5);
    expect(new Set(all.map((a) => a.sid)).size).toBe(5);
    const byName = await t.client.applications.list({ friendlyName: 'app 2' });
    expect(byName.map((a) => a.friendlyName)).toEqual(['app 2']);

    const updated = await t.client
      .applications(created.sid)
      .update({ voiceUrl: 'https://example.com/ivr2', friendlyName: 'IVR 2' });
    expect(updated.voiceUrl).toBe('https://example.com/ivr2');
    expect(updated.friendlyName).toBe('IVR 2');
    expect(updated.voiceFallbackUrl).toBe('https://example.com/fallback');

    await t.client.applications(created.sid).remove();
    await expect(t.client.applications(created.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it('stores the module extension fields and keeps them across an SDK update', async () => {
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'partner' });
    const res = await request(
      t,
      'POST',
      `${apps()}.json`,
      form({
        FriendlyName: 'Voicemail',
        VoiceUrl: 'https://example.com/vm',
        ModuleCode: 'acme.voicemail',
        Visibility: 'shared',
        SharedWith: [sub.sid],
        PerMinuteRate: '0.02',
        BillingIncrement: '60',
        PerInvocationFee: '0.01',
        Currency: 'usd',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      module_code: 'acme.voicemail',
      visibility: 'shared',
      shared_with: [sub.sid],
      per_minute_rate: '0.02',
      billing_increment: 60,
      per_invocation_fee: '0.01',
      currency: 'USD',
    });
    const sid = String(res.json.sid);
    await t.client.applications(sid).update({ friendlyName: 'Voicemail v2' });
    const after = await request(t, 'GET', `${apps()}/${sid}.json`);
    expect(after.json).toMatchObject({
      friendly_name: 'Voicemail v2',
      module_code: 'acme.voicemail',
      shared_with: [sub.sid],
      per_minute_rate: '0.02',
    });
    // The share list is replaced when given; an empty value clears it.
    const cleared = await request(t, 'POST', `${apps()}/${sid}.json`, form({ SharedWith: '' }));
    expect(cleared.json.shared_with).toEqual([]);
  });

  it('validates ModuleCode (format, platform-wide uniqueness) and the usage plan', async () => {
    const bad = async (body: Record<string, string>, code: number, status = 400) => {
      const res = await request(t, 'POST', `${apps()}.json`, form(body));
      expect(res.status).toBe(status);
      expect(res.json.code).toBe(code);
    };
    await bad({ ModuleCode: 'Voice Mail' }, 20001);
    await bad({ ModuleCode: '1abc' }, 20001);
    await bad({ ModuleCode: 'a..b' }, 20001);
    await bad({ PerMinuteRate: '-0.01' }, 20001);
    await bad({ PerMinuteRate: '0.0000001' }, 20001);
    await bad({ BillingIncrement: '0' }, 20001);
    await bad({ Currency: 'dollars' }, 20001);
    await bad({ Visibility: 'everyone' }, 20001);
    await bad({ SharedWith: 'not-a-sid' }, 20001);
    await bad({ VoiceUrl: 'ftp://example.com/x' }, 20001);

    const first = await request(t, 'POST', `${apps()}.json`, form({ ModuleCode: 'taken.code' }));
    expect(first.status).toBe(201);
    await bad({ ModuleCode: 'taken.code' }, 20409, 409);
    // Unique across accounts too.
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'other' });
    const other = await request(
      { url: t.url, accountSid: sub.sid, authToken: sub.authToken },
      'POST',
      `/2010-04-01/Accounts/${sub.sid}/Applications.json`,
      form({ ModuleCode: 'taken.code' }),
    );
    expect(other.status).toBe(409);
    expect(other.json.code).toBe(20409);
  });

  it("keeps accounts apart: another account's application is a 404", async () => {
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'isolated' });
    const subClient = sdkClient(t.url, sub.sid, sub.authToken);
    const mine = await t.client.applications.create({ friendlyName: 'owner app' });
    await expect(
      subClient.api.v2010.accounts(sub.sid).applications(mine.sid).fetch(),
    ).rejects.toMatchObject({ status: 404, code: 20404 });
    const theirs = await subClient.api.v2010.accounts(sub.sid).applications.list();
    expect(theirs.map((a) => a.sid)).not.toContain(mine.sid);
  });
});
