// The calling-card case: an account with an allotted cost calls a priced module; when the
// live call's metered cost reaches the limit, the platform ends the call.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { callIn, useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('spend limit', () => {
  it('ends a live call when its metered cost reaches the account allotted cost', async () => {
    const long = new VoiceResponse();
    long.pause({ length: 30 });
    fx.web.routes.set('/long', long.toString());
    const created = await request(
      fx.t,
      'POST',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Applications.json`,
      new URLSearchParams({
        FriendlyName: 'premium',
        ModuleCode: 'premium',
        VoiceUrl: fx.web.url + '/long',
        PerMinuteRate: '0.60',
        BillingIncrement: '1',
      }).toString(),
    );
    expect(created.status).toBe(201);
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550005001',
      voiceApplicationSid: String(created.json.sid),
    });
    const limit = await request(
      fx.t,
      'POST',
      `/2010-04-01/Accounts/${fx.t.accountSid}/SpendLimit.json`,
      'Amount=0.06',
    );
    expect(limit.status, JSON.stringify(limit.json)).toBe(200);

    const started = Date.now();
    const run = await callIn(fx, '+15550005001');
    const lasted = Date.now() - started;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    // 0.06 at 0.01/s is 6 s; the check runs every second. Far less than the 30 s script.
    expect(lasted).toBeLessThan(15_000);
    const callSid = fx.web.seen.find((s) => s.path === '/long')!.params.CallSid!;
    const notes = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${callSid}/Notifications.json`,
    );
    expect(
      (notes.json.notifications as { error_code: string }[]).map((n) => n.error_code),
    ).toContain('86002');
    expect(await waitForCallStatus(fx, callSid, 'completed')).toBe('completed');
  }, 60_000);
});
