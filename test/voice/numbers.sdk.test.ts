// IncomingPhoneNumbers through the official SDK, and the route an inbound call finds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const createModule = async (
  who: { url: string; accountSid: string; authToken: string },
  fields: Record<string, string>,
) => {
  const res = await request(
    who,
    'POST',
    `/2010-04-01/Accounts/${who.accountSid}/Applications.json`,
    form(fields),
  );
  expect(res.status).toBe(201);
  return String(res.json.sid);
};

describe('IncomingPhoneNumbers through the official SDK', () => {
  it('creates, fetches, lists, updates and deletes numbers and SIP addresses', async () => {
    const app = await t.client.applications.create({
      friendlyName: 'front desk',
      voiceUrl: 'https://example.com/front',
    });
    const pn = await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550001111',
      voiceApplicationSid: app.sid,
      friendlyName: 'Main line',
    });
    expect(pn.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(pn.phoneNumber).toBe('+15550001111');
    expect(pn.voiceApplicationSid).toBe(app.sid);
    expect(pn.capabilities).toMatchObject({ voice: true, sms: true });
    expect(pn.uri).toBe(`/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers/${pn.sid}.json`);

    const sip = await t.client.incomingPhoneNumbers.create({
      phoneNumber: 'sip:Support@Example.com:5060',
      voiceUrl: 'https://example.com/support',
      voiceMethod: 'GET',
    });
    expect(sip.phoneNumber).toBe('sip:Support@example.com');
    expect(sip.friendlyName).toBe('sip:Support@example.com');
    const user = await t.client.incomingPhoneNumbers.create({
      phoneNumber: 'sales',
      voiceUrl: 'https://example.com/sales',
    });

    expect((await t.client.incomingPhoneNumbers(pn.sid).fetch()).friendlyName).toBe('Main line');
    const all = await t.client.incomingPhoneNumbers.list({ pageSize: 2 });
    expect(all.map((n) => n.sid).sort()).toEqual([pn.sid, sip.sid, user.sid].sort());
    const one = await t.client.incomingPhoneNumbers.list({ phoneNumber: '+15550001111' });
    expect(one.map((n) => n.sid)).toEqual([pn.sid]);

    const moved = await t.client
      .incomingPhoneNumbers(pn.sid)
      .update({ voiceApplicationSid: '', voiceUrl: 'https://example.com/direct' });
    expect(moved.voiceApplicationSid).toBeNull();
    expect(moved.voiceUrl).toBe('https://example.com/direct');

    await t.client.incomingPhoneNumbers(user.sid).remove();
    await expect(t.client.incomingPhoneNumbers(user.sid).fetch()).rejects.toMatchObject({
      status: 404,
    });
  });

  it('provisions and lists through the typed collections (Local, Mobile, TollFree)', async () => {
    const local = await t.client.incomingPhoneNumbers.local.create({
      phoneNumber: '+15550005555',
      voiceUrl: 'https://example.com/local',
    });
    expect(local.sid).toMatch(/^PN/);
    const tollFree = await t.client.incomingPhoneNumbers.tollFree.create({
      phoneNumber: '+18005550100',
    });
    const listed = await t.client.incomingPhoneNumbers.local.list();
    expect(listed.map((n) => n.phoneNumber)).toEqual(
      expect.arrayContaining(['+15550005555', '+18005550100']),
    );
    expect(listed.every((n) => n.phoneNumber.startsWith('+'))).toBe(true);
    expect((await t.client.incomingPhoneNumbers(tollFree.sid).fetch()).phoneNumber).toBe(
      '+18005550100',
    );
    await expect(
      t.client.incomingPhoneNumbers.mobile.create({ phoneNumber: 'sip:someone@example.com' }),
    ).rejects.toMatchObject({ status: 400, code: 21421 });
  });

  it('refuses invalid numbers (21421), taken numbers (21422) and inaccessible modules (21420)', async () => {
    await expect(
      t.client.incomingPhoneNumbers.create({ phoneNumber: '+0123' }),
    ).rejects.toMatchObject({ status: 400, code: 21421 });
    await expect(
      t.client.incomingPhoneNumbers.create({ phoneNumber: 'two words' }),
    ).rejects.toMatchObject({ code: 21421 });
    await t.client.incomingPhoneNumbers.create({ phoneNumber: '+15550002222' });
    // Taken platform-wide, also by another account.
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'tenant' });
    const subClient = sdkClient(t.url, sub.sid, sub.authToken);
    await expect(
      subClient.api.v2010
        .accounts(sub.sid)
        .incomingPhoneNumbers.create({ phoneNumber: '+15550002222' }),
    ).rejects.toMatchObject({ code: 21422 });

    // The owner's private module is not the tenant's to route to; a public one is.
    const priv = await createModule(t, {
      ModuleCode: 'owner.private',
      VoiceUrl: 'https://e.com/p',
    });
    await expect(
      subClient.api.v2010
        .accounts(sub.sid)
        .incomingPhoneNumbers.create({ phoneNumber: '+15550003333', voiceApplicationSid: priv }),
    ).rejects.toMatchObject({ code: 21420 });
    await expect(
      t.client.incomingPhoneNumbers.create({
        phoneNumber: '+15550003333',
        voiceApplicationSid: 'AP' + '0'.repeat(32),
      }),
    ).rejects.toMatchObject({ code: 21420 });
    const pub = await createModule(t, {
      ModuleCode: 'owner.public',
      VoiceUrl: 'https://e.com/pub',
      Visibility: 'public',
    });
    const ok = await subClient.api.v2010
      .accounts(sub.sid)
      .incomingPhoneNumbers.create({ phoneNumber: '+15550003333', voiceApplicationSid: pub });
    expect(ok.voiceApplicationSid).toBe(pub);
  });

  it('finds the route of an inbound call from each form of To', async () => {
    const vm = await createModule(t, {
      ModuleCode: 'route.vm',
      VoiceUrl: 'https://example.com/vm',
      VoiceMethod: 'GET',
      VoiceFallbackUrl: 'https://example.com/vm-fallback',
      StatusCallback: 'https://example.com/vm-status',
    });
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550004444',
      voiceApplicationSid: vm,
    });
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: 'helpdesk',
      voiceUrl: 'https://example.com/help',
    });
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: 'sip:helpdesk@vip.example.com',
      voiceUrl: 'https://example.com/vip',
    });
    const numbers = t.platform.numbers;

    for (const to of [
      '+15550004444',
      'tel:+15550004444',
      'sip:+15550004444@10.1.2.3:5060;user=phone',
      '<sip:15550004444@h>',
    ]) {
      const route = await numbers.findRoute(to);
      expect(route, to).toMatchObject({
        accountSid: t.accountSid,
        phoneNumber: '+15550004444',
        url: 'https://example.com/vm',
        method: 'GET',
        fallbackUrl: 'https://example.com/vm-fallback',
        statusCallback: 'https://example.com/vm-status',
      });
      expect(route?.module?.moduleCode).toBe('route.vm');
    }
    expect((await numbers.findRoute('sip:helpdesk@switchboard.local'))?.url).toBe(
      'https://example.com/help',
    );
    expect((await numbers.findRoute('helpdesk'))?.url).toBe('https://example.com/help');
    // The full SIP address wins over the bare user part.
    expect((await numbers.findRoute('sip:helpdesk@VIP.example.com'))?.url).toBe(
      'https://example.com/vip',
    );
    expect(await numbers.findRoute('+15559999999')).toBeUndefined();
    expect(await numbers.findRoute('')).toBeUndefined();

    // Deleting the module detaches the numbers routed to it.
    await t.client.applications(vm).remove();
    const after = await t.client.incomingPhoneNumbers.list({ phoneNumber: '+15550004444' });
    expect(after[0]?.voiceApplicationSid).toBeNull();
  });
});
