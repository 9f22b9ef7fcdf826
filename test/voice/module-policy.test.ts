// The dispatcher and the policy across accounts: a module published by one account and used
// by another (private refused, shared to B allowed, public allowed, suspended user refused,
// spend limit refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PLAN } from '../../src/billing/index.js';
import { canUseModule, dispatch, parseModuleRef } from '../../src/voice/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
type Who = { url: string; accountSid: string; authToken: string };
let publisher: Who;
let userB: Who;
let userC: Who;

beforeAll(async () => {
  t = await startTestPlatform();
  const mk = async (name: string): Promise<Who> => {
    const a = await t.client.api.v2010.accounts.create({ friendlyName: name });
    return { url: t.url, accountSid: a.sid, authToken: a.authToken };
  };
  publisher = await mk('publisher');
  userB = await mk('user B');
  userC = await mk('user C');
});
afterAll(async () => {
  await t?.cleanup();
});

async function publish(fields: Record<string, string | string[]>): Promise<string> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) q.append(k, x);
  const res = await request(
    publisher,
    'POST',
    `/2010-04-01/Accounts/${publisher.accountSid}/Applications.json`,
    q.toString(),
  );
  expect(res.status).toBe(201);
  return String(res.json.sid);
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: number }) => e.code,
  );

describe('module dispatcher and policy across accounts', () => {
  it('parses module references', () => {
    expect(parseModuleRef('module:acme.ivr')).toBe('acme.ivr');
    expect(parseModuleRef(' module:voicemail ')).toBe('voicemail');
    expect(parseModuleRef('https://example.com/x')).toBeUndefined();
  });

  it('private: only the publisher; shared: the share list; public: anyone', async () => {
    await publish({ ModuleCode: 'pub.private', VoiceUrl: 'https://e.com/private' });
    await publish({
      ModuleCode: 'pub.shared',
      VoiceUrl: 'https://e.com/shared',
      Visibility: 'shared',
      SharedWith: [userB.accountSid],
    });
    await publish({
      ModuleCode: 'pub.public',
      VoiceUrl: 'https://e.com/public',
      VoiceMethod: 'GET',
      VoiceFallbackUrl: 'https://e.com/public-fallback',
      Visibility: 'public',
    });
    const m = t.platform.modules;

    expect((await dispatch(m, 'module:pub.private', publisher.accountSid)).url).toBe(
      'https://e.com/private',
    );
    expect(await refusal(dispatch(m, 'module:pub.private', userB.accountSid))).toBe(21218);

    expect((await dispatch(m, 'module:pub.shared', userB.accountSid)).url).toBe(
      'https://e.com/shared',
    );
    expect(await refusal(dispatch(m, 'module:pub.shared', userC.accountSid))).toBe(21218);

    const target = await dispatch(m, 'module:pub.public', userC.accountSid);
    expect(target).toMatchObject({
      url: 'https://e.com/public',
      method: 'GET',
      fallbackUrl: 'https://e.com/public-fallback',
      fallbackMethod: 'POST',
    });
    expect(target.module.accountSid).toBe(publisher.accountSid);

    // Each account's catalogue lists what it may use, without the publisher's webhooks.
    const catalogue = async (who: Who) => {
      const res = await request(
        who,
        'GET',
        `/2010-04-01/Accounts/${who.accountSid}/Modules.json?PageSize=1`,
      );
      const codes: string[] = [];
      let page = res.json;
      for (;;) {
        for (const m of page.modules as Record<string, unknown>[]) {
          expect(m.voice_url).toBeUndefined();
          codes.push(String(m.module_code));
        }
        if (!page.next_page_uri) break;
        page = (await request(who, 'GET', String(page.next_page_uri))).json;
      }
      return codes;
    };
    expect(await catalogue(userB)).toEqual(['pub.public', 'pub.shared']);
    expect(await catalogue(userC)).toEqual(['pub.public']);
    expect(await catalogue(publisher)).toEqual(['pub.private', 'pub.public', 'pub.shared']);

    // Unknown codes and malformed references are refused the same way as invisible ones.
    expect(await refusal(dispatch(m, 'module:no.such', userB.accountSid))).toBe(21218);
    expect(await refusal(dispatch(m, 'module:../etc', userB.accountSid))).toBe(21218);
  });

  it('a module without a VoiceUrl cannot take a call', async () => {
    await publish({ ModuleCode: 'pub.nourl', Visibility: 'public' });
    expect(await refusal(dispatch(t.platform.modules, 'module:pub.nourl', userB.accountSid))).toBe(
      21218,
    );
  });

  it('a suspended user (10001) or publisher (21218) is refused, and allowed again once active', async () => {
    await publish({ ModuleCode: 'pub.status', VoiceUrl: 'https://e.com/s', Visibility: 'public' });
    const m = t.platform.modules;
    await t.client.api.v2010.accounts(userB.accountSid).update({ status: 'suspended' });
    expect(await refusal(dispatch(m, 'module:pub.status', userB.accountSid))).toBe(10001);
    await t.client.api.v2010.accounts(userB.accountSid).update({ status: 'active' });
    expect((await dispatch(m, 'module:pub.status', userB.accountSid)).url).toBe('https://e.com/s');

    await t.client.api.v2010.accounts(publisher.accountSid).update({ status: 'suspended' });
    expect(await refusal(dispatch(m, 'module:pub.status', userB.accountSid))).toBe(21218);
    await t.client.api.v2010.accounts(publisher.accountSid).update({ status: 'active' });
  });

  it('an account that used up its allotted cost is refused (86002)', async () => {
    await publish({
      ModuleCode: 'pub.paid',
      VoiceUrl: 'https://e.com/paid',
      Visibility: 'public',
      PerInvocationFee: '0.25',
    });
    const m = t.platform.modules;
    const module = await m.findByCode('pub.paid');
    if (!module) throw new Error('module missing');
    // The parent sets C's limit; C cannot raise its own.
    const own = await request(
      userC,
      'POST',
      `/2010-04-01/Accounts/${userC.accountSid}/SpendLimit.json`,
      'Amount=100',
    );
    expect(own.status).toBe(403);
    const set = await request(
      t,
      'POST',
      `/2010-04-01/Accounts/${userC.accountSid}/SpendLimit.json`,
      'Amount=0.50&Currency=USD',
    );
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({
      amount: '0.50',
      currency: 'USD',
      spent: '0.00',
      remaining: '0.50',
    });
    expect((await canUseModule(m, module, userC.accountSid)).allowed).toBe(true);

    // Two calls at 0.25 each use up the 0.50.
    for (const call of ['CA' + 'a'.repeat(32), 'CA' + 'b'.repeat(32)]) {
      const seg = await t.platform.billing.openSegment({
        callSid: call,
        moduleSid: module.sid,
        moduleCode: module.moduleCode,
        publisherAccountSid: module.accountSid,
        userAccountSid: userC.accountSid,
        direction: 'inbound',
        plan: module.plan,
        startedMs: Date.now() - 1000,
      });
      await t.platform.billing.closeSegment(seg.sid, Date.now(), 'hangup');
    }
    const decision = await canUseModule(m, module, userC.accountSid);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.error.code).toBe(86002);
    expect(await refusal(dispatch(m, 'module:pub.paid', userC.accountSid))).toBe(86002);
    const after = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${userC.accountSid}/SpendLimit.json`,
    );
    expect(after.json).toMatchObject({ spent: '0.50', remaining: '0.00' });

    // Each closed segment is in C's interaction event log, tagged with its module.
    let events: Record<string, unknown>[] = [];
    for (let i = 0; i < 50 && events.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await request(
        userC,
        'GET',
        `/2010-04-01/Accounts/${userC.accountSid}/Events.json?Kind=segment&Tag=module:pub.paid`,
      );
      events = (res.json.events ?? []) as Record<string, unknown>[];
    }
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      kind: 'segment',
      data: { module_code: 'pub.paid', price: '0.25' },
    });

    // Removing the limit lets C use modules again.
    await request(t, 'POST', `/2010-04-01/Accounts/${userC.accountSid}/SpendLimit.json`, 'Amount=');
    expect((await canUseModule(m, module, userC.accountSid)).allowed).toBe(true);
    expect(FREE_PLAN.perMinuteMicros).toBe(0);
  });
});
