// The calling-card case: an account with an allotted cost calls a priced module; when the
// live call's metered cost reaches the limit, the platform ends the call.
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSipp, killSipps, startSipp } from '../sip/sipp.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { startTwimlServer, type TwimlServer } from './twiml-server.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

let t: TestPlatform;
let web: TwimlServer;

beforeAll(async () => {
  if (!TOOLS) return;
  web = await startTwimlServer();
  t = await startTestPlatform({
    sipEnabled: true,
    sipPort: 0,
    sipHost: '127.0.0.1',
    rtpPorts: '0',
  });
  web.setAuthToken(t.authToken);
});
afterAll(async () => {
  killSipps();
  await t?.cleanup();
  await web?.close();
});

describe.skipIf(!TOOLS)('spend limit', () => {
  it('ends a live call when its metered cost reaches the account allotted cost', async () => {
    const long = new VoiceResponse();
    long.pause({ length: 30 });
    web.routes.set('/long', long.toString());
    const created = await request(
      t,
      'POST',
      `/2010-04-01/Accounts/${t.accountSid}/Applications.json`,
      new URLSearchParams({
        FriendlyName: 'premium',
        ModuleCode: 'premium',
        VoiceUrl: web.url + '/long',
        PerMinuteRate: '0.60',
        BillingIncrement: '1',
      }).toString(),
    );
    expect(created.status).toBe(201);
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550005001',
      voiceApplicationSid: String(created.json.sid),
    });
    const limit = await request(
      t,
      'POST',
      `/2010-04-01/Accounts/${t.accountSid}/SpendLimit.json`,
      'Amount=0.06',
    );
    expect(limit.status, JSON.stringify(limit.json)).toBe(200);

    const sipPort = t.platform.telephony!.sip.transport.port;
    const started = Date.now();
    const run = await startSipp(
      [
        '-sf',
        join(import.meta.dirname, 'scenarios', 'uac-ivr.xml'),
        '-s',
        '+15550005001',
        '-m',
        '1',
        '-timeout',
        '40s',
        `127.0.0.1:${sipPort}`,
      ],
      50,
    ).done;
    const lasted = Date.now() - started;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    // 0.06 at 0.01/s is 6 s; the check runs every second. Far less than the 30 s script.
    expect(lasted).toBeLessThan(15_000);
    const callSid = web.seen.find((s) => s.path === '/long')!.params.CallSid!;
    const notes = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}/Notifications.json`,
    );
    expect(
      (notes.json.notifications as { error_code: string }[]).map((n) => n.error_code),
    ).toContain('86002');
    expect((await t.client.calls(callSid).fetch()).status).toBe('completed');
  }, 60_000);
});
