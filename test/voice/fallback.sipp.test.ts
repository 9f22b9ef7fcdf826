// A module whose webhook times out, answers 500, or returns invalid TwiML: the call goes to
// the fallback URL, the error is recorded against the call with Twilio's code, and the
// caller is still handled (hears the fallback, then a clean hang-up).
import twilio from 'twilio';
import { beforeAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { callIn, useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

const fx = useVoicePlatform(TOOLS, { webhookTimeout: 1000 });
beforeAll(() => {
  if (!TOOLS) return;
  const fallback = new VoiceResponse();
  // Long enough for the caller's scenario to reach the point where it waits for our BYE.
  fallback.pause({ length: 4 });
  fallback.hangup();
  fx.web.routes.set('/fallback', fallback.toString());
  fx.web.routes.set('/slow', () => ({ status: 200, body: '<Response/>', delayMs: 4000 }));
  fx.web.routes.set('/broken', () => ({ status: 500, body: 'oops' }));
  fx.web.routes.set('/garbage', '<Response><Say>unclosed</Response>');
});

describe.skipIf(!TOOLS)('webhook failures fall back', () => {
  it.each([
    ['a webhook that times out (11200)', '/slow', 11200, '+15550003001'],
    ['a webhook answering 500 (11200)', '/broken', 11200, '+15550003002'],
    ['invalid TwiML (12100)', '/garbage', 12100, '+15550003003'],
  ])(
    '%s → fallback URL, error recorded, call handled',
    async (_name, path, code, number) => {
      const app = await fx.t.client.applications.create({
        friendlyName: path,
        voiceUrl: fx.web.url + path,
        voiceFallbackUrl: fx.web.url + '/fallback',
      });
      await fx.t.client.incomingPhoneNumbers.create({
        phoneNumber: number,
        voiceApplicationSid: app.sid,
      });
      const before = fx.web.seen.length;
      const run = await callIn(fx, number);
      expect(run.code, run.stdout.slice(-1500)).toBe(0);
      const requests = fx.web.seen.slice(before);
      expect(requests.map((r) => r.path)).toEqual([path, '/fallback']);
      const fallback = requests[1]!;
      expect(fallback.signatureValid).toBe(true);
      expect(fallback.params.ErrorCode).toBe(String(code));
      const callSid = fallback.params.CallSid!;
      const notes = await request(
        fx.t,
        'GET',
        `/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${callSid}/Notifications.json`,
      );
      const codes = (notes.json.notifications as { error_code: string }[]).map((n) => n.error_code);
      expect(codes).toContain(String(code));
      expect(await waitForCallStatus(fx, callSid, 'completed')).toBe('completed');
    },
    60_000,
  );
});
