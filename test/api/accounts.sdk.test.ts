// The official twilio SDK drives the accounts and keys API of a running platform.
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { switchboardClient } from '../../src/sdk/index.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('accounts through the official SDK', () => {
  it('fetches the owner account with Twilio field names and RFC 2822 dates', async () => {
    const account = await t.client.api.v2010.accounts(t.accountSid).fetch();
    expect(account.sid).toBe(t.accountSid);
    expect(account.status).toBe('active');
    expect(account.authToken).toBe(t.authToken);
    expect(account.ownerAccountSid).toBe(t.accountSid);
    expect(account.type).toBe('Full');
    expect(account.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(account.dateCreated.getTime())).toBe(false);
    expect(account.uri).toBe(`/2010-04-01/Accounts/${t.accountSid}.json`);
    expect(account.subresourceUris).toMatchObject({
      keys: `/2010-04-01/Accounts/${t.accountSid}/Keys.json`,
    });
  });

  it('updates the friendly name', async () => {
    const updated = await t.client.api.v2010
      .accounts(t.accountSid)
      .update({ friendlyName: 'Acme HQ' });
    expect(updated.friendlyName).toBe('Acme HQ');
    const again = await t.client.api.v2010.accounts(t.accountSid).fetch();
    expect(again.friendlyName).toBe('Acme HQ');
  });

  it('creates subaccounts and lists them across several pages in a stable order', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const sub = await t.client.api.v2010.accounts.create({ friendlyName: `sub ${i}` });
      expect(sub.ownerAccountSid).toBe(t.accountSid);
      expect(sub.sid).toMatch(/^AC[0-9a-f]{32}$/);
      created.push(sub.sid);
    }
    const listed = await t.client.api.v2010.accounts.list({ pageSize: 3 });
    const sids = listed.map((a) => a.sid);
    expect(sids).toHaveLength(8);
    expect(new Set(sids).size).toBe(8);
    for (const sid of created) expect(sids).toContain(sid);

    const page = await t.client.api.v2010.accounts.page({ pageSize: 3 });
    expect(page.instances).toHaveLength(3);
    const next = await page.nextPage();
    expect(next?.instances).toHaveLength(3);
    expect(next?.instances[0]?.sid).toBe(sids[3]);

    const filtered = await t.client.api.v2010.accounts.list({ friendlyName: 'sub 3' });
    expect(filtered.map((a) => a.sid)).toEqual([created[3]]);
  });

  it('creates, lists, fetches and deletes API keys; a key authenticates; its secret is shown once', async () => {
    const key = await t.client.newKeys.create({ friendlyName: 'ci key' });
    expect(key.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect(key.secret.length).toBeGreaterThanOrEqual(32);

    const fetched = await t.client.keys(key.sid).fetch();
    expect(fetched.friendlyName).toBe('ci key');
    expect((fetched as unknown as Record<string, unknown>).secret).toBeUndefined();
    const keys = await t.client.keys.list();
    expect(keys.map((k) => k.sid)).toContain(key.sid);

    const withKey = sdkClient(t.url, key.sid, key.secret, t.accountSid);
    const account = await withKey.api.v2010.accounts(t.accountSid).fetch();
    expect(account.sid).toBe(t.accountSid);

    const wrong = sdkClient(t.url, key.sid, 'not-the-secret', t.accountSid);
    await expect(wrong.api.v2010.accounts(t.accountSid).fetch()).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });

    await t.client.keys(key.sid).remove();
    await expect(withKey.api.v2010.accounts(t.accountSid).fetch()).rejects.toMatchObject({
      status: 401,
    });
    await expect(t.client.keys(key.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it('refuses a wrong AuthToken with RestException 401', async () => {
    const wrong = sdkClient(t.url, t.accountSid, 'f'.repeat(32));
    await expect(wrong.api.v2010.accounts(t.accountSid).fetch()).rejects.toBeInstanceOf(
      twilio.RestException,
    );
    await expect(wrong.api.v2010.accounts(t.accountSid).fetch()).rejects.toMatchObject({
      status: 401,
      code: 20003,
      moreInfo: 'https://www.twilio.com/docs/errors/20003',
    });
  });

  it('suspends a subaccount: its credentials are refused with 20005 until reactivated', async () => {
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'to suspend' });
    const subClient = sdkClient(t.url, sub.sid, sub.authToken);
    await subClient.api.v2010.accounts(sub.sid).fetch();
    await t.client.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    await expect(subClient.api.v2010.accounts(sub.sid).fetch()).rejects.toMatchObject({
      status: 403,
      code: 20005,
    });
    await expect(
      subClient.api.v2010.accounts(sub.sid).update({ status: 'active' }),
    ).rejects.toMatchObject({
      code: 20005,
    });
    await t.client.api.v2010.accounts(sub.sid).update({ status: 'active' });
    expect((await subClient.api.v2010.accounts(sub.sid).fetch()).status).toBe('active');
    await t.client.api.v2010.accounts(sub.sid).update({ status: 'closed' });
    await expect(
      t.client.api.v2010.accounts(sub.sid).update({ status: 'active' }),
    ).rejects.toMatchObject({
      code: 20005,
    });
  });

  it('reaches the platform through the one-line httpClient, paging included', async () => {
    const client = twilio(t.accountSid, t.authToken, { httpClient: switchboardClient(t.url) });
    const account = await client.api.v2010.accounts(t.accountSid).fetch();
    expect(account.sid).toBe(t.accountSid);
    const all = await client.api.v2010.accounts.list({ pageSize: 2 });
    expect(all.length).toBeGreaterThanOrEqual(8);
  });
});
