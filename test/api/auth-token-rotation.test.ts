// AuthToken rotation as Twilio's SDK drives it (accounts/v1): a secondary AuthToken works beside
// the primary one, promotion makes it the primary and retires the old one, deletion retires it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('AuthToken rotation', () => {
  it('creates a secondary token, promotes it, and the old primary stops working', async () => {
    const tenant = await t.platform.accounts.createAccount(null, 'rotating tenant');
    const asPrimary = sdkClient(t.url, tenant.sid, tenant.auth_token);
    const secondary = await asPrimary.accounts.v1.secondaryAuthToken().create();
    expect(secondary.accountSid).toBe(tenant.sid);
    expect(secondary.secondaryAuthToken).toMatch(/^[0-9a-f]{32}$/);
    expect(secondary.secondaryAuthToken).not.toBe(tenant.auth_token);
    expect(secondary.dateCreated).toBeInstanceOf(Date);
    expect(secondary.url).toBe(`${t.url}/accounts/v1/AuthTokens/Secondary`);

    // Both authenticate; the primary is still the account's token (webhooks are signed with it).
    const asSecondary = sdkClient(t.url, tenant.sid, secondary.secondaryAuthToken);
    expect((await asSecondary.api.v2010.accounts(tenant.sid).fetch()).authToken).toBe(
      tenant.auth_token,
    );
    expect((await asPrimary.api.v2010.accounts(tenant.sid).fetch()).sid).toBe(tenant.sid);

    const promoted = await asSecondary.accounts.v1.authTokenPromotion().update();
    expect(promoted.accountSid).toBe(tenant.sid);
    expect(promoted.authToken).toBe(secondary.secondaryAuthToken);
    await expect(asPrimary.api.v2010.accounts(tenant.sid).fetch()).rejects.toMatchObject({
      status: 401,
    });
    expect((await asSecondary.api.v2010.accounts(tenant.sid).fetch()).authToken).toBe(
      secondary.secondaryAuthToken,
    );
    // Nothing left to promote.
    await expect(asSecondary.accounts.v1.authTokenPromotion().update()).rejects.toMatchObject({
      status: 404,
    });
  });

  it('deletes a secondary token, and API keys cannot rotate tokens', async () => {
    const tenant = await t.platform.accounts.createAccount(null, 'tenant with a spare');
    const client = sdkClient(t.url, tenant.sid, tenant.auth_token);
    const spare = await client.accounts.v1.secondaryAuthToken().create();
    const asSpare = sdkClient(t.url, tenant.sid, spare.secondaryAuthToken);
    expect((await asSpare.api.v2010.accounts(tenant.sid).fetch()).sid).toBe(tenant.sid);
    expect(await client.accounts.v1.secondaryAuthToken().remove()).toBe(true);
    await expect(asSpare.api.v2010.accounts(tenant.sid).fetch()).rejects.toMatchObject({
      status: 401,
    });
    await expect(client.accounts.v1.secondaryAuthToken().remove()).rejects.toMatchObject({
      status: 404,
    });

    const key = await client.newKeys.create({ friendlyName: 'automation' });
    const asKey = sdkClient(t.url, key.sid, key.secret, tenant.sid);
    await expect(asKey.accounts.v1.secondaryAuthToken().create()).rejects.toMatchObject({
      status: 403,
      code: 20403,
    });
  });
});
