// Account isolation: a subaccount never sees its parent or a sibling; another account's
// resources are 404s that do not reveal they exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('isolation between accounts', () => {
  it('a subaccount cannot read its parent or a sibling, and a parent can act on its subaccounts', async () => {
    const a = await t.client.api.v2010.accounts.create({ friendlyName: 'a' });
    const b = await t.client.api.v2010.accounts.create({ friendlyName: 'b' });
    const asA = sdkClient(t.url, a.sid, a.authToken);

    await expect(asA.api.v2010.accounts(t.accountSid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(asA.api.v2010.accounts(b.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(asA.api.v2010.accounts(b.sid).update({ friendlyName: 'x' })).rejects.toMatchObject(
      { status: 404 },
    );

    const bKey = await sdkClient(t.url, b.sid, b.authToken).newKeys.create({
      friendlyName: 'b key',
    });
    const bKeyPath = `/2010-04-01/Accounts/${b.sid}/Keys/${bKey.sid}.json`;
    expect(
      (await request({ url: t.url, accountSid: a.sid, authToken: a.authToken }, 'GET', bKeyPath))
        .status,
    ).toBe(404);
    const aKeyPath = `/2010-04-01/Accounts/${a.sid}/Keys/${bKey.sid}.json`;
    expect(
      (await request({ url: t.url, accountSid: a.sid, authToken: a.authToken }, 'GET', aKeyPath))
        .status,
    ).toBe(404);

    const listedByA = await asA.api.v2010.accounts.list();
    expect(listedByA.map((x) => x.sid)).toEqual([a.sid]);

    expect((await t.client.api.v2010.accounts(a.sid).fetch()).sid).toBe(a.sid);
    expect(
      (await t.client.api.v2010.accounts(a.sid).update({ friendlyName: 'renamed' })).friendlyName,
    ).toBe('renamed');
    const parentKey = await t.client.api.v2010.accounts(a.sid).keys.list();
    expect(parentKey).toEqual([]);
  });

  it('a subaccount cannot create subaccounts of its own, and an API key cannot manage keys', async () => {
    const a = await t.client.api.v2010.accounts.create({ friendlyName: 'c' });
    await expect(
      sdkClient(t.url, a.sid, a.authToken).api.v2010.accounts.create({}),
    ).rejects.toMatchObject({
      status: 403,
      code: 20403,
    });
    const key = await t.client.newKeys.create({ friendlyName: 'k' });
    const asKey = sdkClient(t.url, key.sid, key.secret, t.accountSid);
    await expect(asKey.newKeys.create({})).rejects.toMatchObject({ status: 403, code: 20403 });
  });
});
