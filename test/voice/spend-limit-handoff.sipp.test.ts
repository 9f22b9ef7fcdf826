// The calling-card case with a hand-off: when a live call reaches its spend limit it is not
// ended but handed to a configured module ("your credit is exhausted…"). Three modules on
// three plans, real SIP calls (sipp), figures checked by hand:
//
//   card     (account U)   0.01 per invocation, free time   → <Redirect>module:premium
//   premium  (account P)   0.60/min in 1 s increments (0.01 per started second), public
//   topup    (account U)   free                              → the hand-off module
//
// Inbound call, U's SpendLimit 0.06 with HandoffModule=topup: card costs 0.01, so premium
// may spend 0.05; its 5th second starts at 4.0 s and brings U to 0.06 → hand-off at ≈ 4 s.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import {
  callIn,
  publishModule,
  startCallee,
  useVoicePlatform,
  waitForCallStatus,
} from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
const fx = useVoicePlatform(TOOLS);

type Who = { url: string; accountSid: string; authToken: string };
type Json = Record<string, unknown>;

const micros = (amount: unknown) => Math.round(Number(amount) * 1e6);

async function segments(who: Who, callSid: string): Promise<Json[]> {
  const res = await request(
    who,
    'GET',
    `/2010-04-01/Accounts/${who.accountSid}/Calls/${callSid}/Segments.json`,
  );
  return res.json.segments as Json[];
}

async function ledger(who: Who, callSid: string): Promise<Json[]> {
  const res = await request(
    who,
    'GET',
    `/2010-04-01/Accounts/${who.accountSid}/Ledger.json?CallSid=${callSid}`,
  );
  return res.json.entries as Json[];
}

async function notifications(who: Who, callSid: string): Promise<string[]> {
  const res = await request(
    who,
    'GET',
    `/2010-04-01/Accounts/${who.accountSid}/Calls/${callSid}/Notifications.json`,
  );
  return (res.json.notifications as { error_code: string }[]).map((n) => n.error_code);
}

/** Waits (bounded) until every segment of the call is closed and posted. */
async function settled(who: Who, callSid: string): Promise<Json[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const rows = await segments(who, callSid);
    if (rows.length && rows.every((r) => r.status === 'closed' && r.accounted)) return rows;
    if (Date.now() > end) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}

let P: Who;
let premiumSid = '';

describe.skipIf(!TOOLS)('spend-limit hand-off', () => {
  it('hands an inbound call at its account limit to the hand-off module; segments and ledger add up', async () => {
    const U: Who = fx.t;
    const sub = await fx.t.client.api.v2010.accounts.create({ friendlyName: 'premium publisher' });
    P = { url: fx.t.url, accountSid: sub.sid, authToken: sub.authToken };

    fx.web.routes.set('/card', new VoiceResponse().redirect('module:premium').toString());
    const premium = new VoiceResponse();
    premium.pause({ length: 30 });
    fx.web.routes.set('/premium', premium.toString());
    const topup = new VoiceResponse();
    topup.say('Your credit is exhausted. Press 1 to top up.');
    topup.hangup();
    fx.web.routes.set('/topup', topup.toString());

    const cardSid = await publishModule(U, {
      FriendlyName: 'card',
      ModuleCode: 'card',
      VoiceUrl: fx.web.url + '/card',
      PerInvocationFee: '0.01',
    });
    premiumSid = await publishModule(P, {
      FriendlyName: 'premium',
      ModuleCode: 'premium',
      VoiceUrl: fx.web.url + '/premium',
      Visibility: 'public',
      PerMinuteRate: '0.60',
      BillingIncrement: '1',
    });
    await publishModule(U, {
      FriendlyName: 'topup',
      ModuleCode: 'topup',
      VoiceUrl: fx.web.url + '/topup',
    });
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007001',
      voiceApplicationSid: cardSid,
    });
    const bad = await request(
      U,
      'POST',
      `/2010-04-01/Accounts/${U.accountSid}/SpendLimit.json`,
      'Amount=0.06&HandoffModule=Not%20a%20code',
    );
    expect(bad.status).toBe(400);
    const limit = await request(
      U,
      'POST',
      `/2010-04-01/Accounts/${U.accountSid}/SpendLimit.json`,
      'Amount=0.06&HandoffModule=topup',
    );
    expect(limit.json).toMatchObject({ amount: '0.06', handoff_module: 'topup' });

    const run = await callIn(fx, '+15550007001');
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    const reached = fx.web.seen.find((s) => s.path === '/topup');
    expect(reached?.signatureValid).toBe(true);
    const callSid = reached!.params.CallSid!;
    expect(await waitForCallStatus(fx, callSid, 'completed')).toBe('completed');

    const rows = await settled(U, callSid);
    expect(rows.map((r) => [r.module_code, r.start_reason, r.transition_reason])).toEqual([
      ['card', 'start', 'redirect'],
      ['premium', 'redirect', 'spend-limit'],
      ['topup', 'spend-limit', 'hangup'],
    ]);
    const [card, prem, top] = rows as [Json, Json, Json];
    // card: 1 invocation × 0.01, no time charge.
    expect(card).toMatchObject({
      invocations: 1,
      price: '0.01',
      publisher_account_sid: U.accountSid,
    });
    // premium: handed off when U's spending reached 0.06 — in its 5th second.
    const ms = Number(prem.duration_ms);
    expect(ms).toBeGreaterThan(4000);
    expect(ms).toBeLessThan(6000);
    const seconds = Math.ceil(ms / 1000);
    expect(prem.billed_seconds).toBe(seconds);
    expect(micros(prem.price)).toBe(seconds * 10_000); // 0.60/min = 0.01 per second
    expect(prem.publisher_account_sid).toBe(P.accountSid);
    // topup: free.
    expect(top).toMatchObject({ invocations: 1, price: '0.00' });

    // Ledger: U is debited card + premium; it credits itself for card, P for premium.
    const u = await ledger(U, callSid);
    const debits = u.filter((e) => e.kind === 'debit').map((e) => micros(e.amount));
    expect(debits.sort((a, b) => a - b)).toEqual(
      [-10_000, -seconds * 10_000].sort((a, b) => a - b),
    );
    expect(u.filter((e) => e.kind === 'credit').map((e) => e.amount)).toEqual(['0.01']);
    const p = await ledger(P, callSid);
    expect(p.map((e) => [e.kind, micros(e.amount), e.module_code])).toEqual([
      ['credit', seconds * 10_000, 'premium'],
    ]);
    const after = await request(U, 'GET', `/2010-04-01/Accounts/${U.accountSid}/SpendLimit.json`);
    expect(micros(after.json.spent)).toBe(10_000 + seconds * 10_000);
    // Not ended for the limit: no 86002 on the call.
    expect(await notifications(U, callSid)).not.toContain('86002');
  }, 90_000);

  it('hands an API call at its own SpendLimit to SpendLimitHandoffModule; a priced one is refused and the call ends', async () => {
    const U: Who = fx.t;
    // The account limit of the previous test no longer applies.
    await request(U, 'POST', `/2010-04-01/Accounts/${U.accountSid}/SpendLimit.json`, 'Amount=');

    const create = async (to: string, handoff: string) => {
      const res = await request(
        U,
        'POST',
        `/2010-04-01/Accounts/${U.accountSid}/Calls.json`,
        new URLSearchParams({
          To: to,
          From: '+15550007002',
          ApplicationSid: premiumSid,
          SpendLimit: '0.03',
          SpendLimitHandoffModule: handoff,
        }).toString(),
      );
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      return String(res.json.sid);
    };
    const badModule = await request(
      U,
      'POST',
      `/2010-04-01/Accounts/${U.accountSid}/Calls.json`,
      new URLSearchParams({
        To: 'sip:x@127.0.0.1:9',
        From: '+15550007002',
        ApplicationSid: premiumSid,
        SpendLimit: '0.03x',
      }).toString(),
    );
    expect(badModule.status).toBe(400);

    // 1. Hand-off to the free topup module after 0.03 (the premium call's 3rd second).
    const callee1 = await startCallee('uas', { timeoutS: 40 });
    const sid1 = await create(callee1.uri, 'topup');
    expect((await callee1.run.done).code).toBe(0);
    expect(await waitForCallStatus(fx, sid1, 'completed')).toBe('completed');
    const rows1 = await settled(U, sid1);
    expect(rows1.map((r) => [r.module_code, r.start_reason, r.transition_reason])).toEqual([
      ['premium', 'start', 'spend-limit'],
      ['topup', 'spend-limit', 'hangup'],
    ]);
    const ms1 = Number(rows1[0]!.duration_ms);
    expect(ms1).toBeGreaterThan(2000);
    expect(ms1).toBeLessThan(4000);
    expect(micros(rows1[0]!.price)).toBe(Math.ceil(ms1 / 1000) * 10_000);
    expect(
      fx.web.seen.filter((s) => s.path === '/topup' && s.params.CallSid === sid1),
    ).toHaveLength(1);

    // 2. A priced hand-off module (card charges per invocation) is refused: the call ends.
    const callee2 = await startCallee('uas', { timeoutS: 40 });
    const sid2 = await create(callee2.uri, 'card');
    expect((await callee2.run.done).code).toBe(0);
    expect(await waitForCallStatus(fx, sid2, 'completed')).toBe('completed');
    const rows2 = await settled(U, sid2);
    expect(rows2.map((r) => [r.module_code, r.transition_reason])).toEqual([['premium', 'hangup']]);
    expect(micros(rows2[0]!.price)).toBe(Math.ceil(Number(rows2[0]!.duration_ms) / 1000) * 10_000);
    expect(await notifications(U, sid2)).toEqual(['86002', '86002']);
  }, 90_000);
});
