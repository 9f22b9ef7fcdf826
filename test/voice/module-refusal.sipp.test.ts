// A <Redirect> to a module the policy refuses does not drop the call: the refusal (a Twilio
// error) goes to the module in control — its fallback URL, or else its own document — which
// decides what the caller hears; no segment opens for the refused module. And a status
// callback endpoint that fails gets each event again, in order, without holding the call.
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

async function segments(callSid: string): Promise<Record<string, unknown>[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const res = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${callSid}/Segments.json`,
    );
    const rows = res.json.segments as Record<string, unknown>[];
    if (rows.every((r) => r.status === 'closed') || Date.now() > end) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!TOOLS)('module refusals and status callback retries', () => {
  it("sends a refused hand-off to the module's fallback, or its own document, with the Twilio error", async () => {
    const other = await fx.t.client.api.v2010.accounts.create({ friendlyName: 'other publisher' });
    const otherWho = { url: fx.t.url, accountSid: other.sid, authToken: other.authToken };
    await publishModule(otherWho, {
      FriendlyName: 'theirs',
      ModuleCode: 'theirs.private',
      VoiceUrl: fx.web.url + '/theirs',
    });
    fx.web.routes.set('/a', new VoiceResponse().redirect('module:theirs.private').toString());
    const sorry = new VoiceResponse();
    sorry.say('That service is not available.');
    sorry.hangup();
    fx.web.routes.set('/a-fallback', sorry.toString());
    const a = await publishModule(fx.t, {
      FriendlyName: 'a',
      ModuleCode: 'mine.a',
      VoiceUrl: fx.web.url + '/a',
      VoiceFallbackUrl: fx.web.url + '/a-fallback',
    });
    // Without a fallback the module's own document is asked again, told what went wrong.
    fx.web.routes.set('/c', (p) =>
      p.ErrorCode
        ? new VoiceResponse().hangup().toString()
        : new VoiceResponse().redirect('module:no.such.module').toString(),
    );
    const c = await publishModule(fx.t, {
      FriendlyName: 'c',
      ModuleCode: 'mine.c',
      VoiceUrl: fx.web.url + '/c',
    });
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550012001',
      voiceApplicationSid: a,
    });
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550012002',
      voiceApplicationSid: c,
    });

    for (const [number, module, path] of [
      ['+15550012001', a, '/a-fallback'],
      ['+15550012002', c, '/c'],
    ] as const) {
      const run = await callIn(fx, number, {
        scenario: 'uac-conference.xml',
        keys: { mport: '9', caller: '+15557650002' },
      });
      expect(run.code, run.stdout.slice(-1500)).toBe(0);
      const told = fx.web.seen.find((s) => s.path === path && s.params.ErrorCode);
      expect(told?.signatureValid).toBe(true);
      expect(told?.params.ErrorCode).toBe('21218');
      expect(told?.params.ErrorMessage).toMatch(/not available|no module/);
      const callSid = told!.params.CallSid!;
      expect(await waitForCallStatus(fx, callSid, 'completed')).toBe('completed');
      // Control never left the module: one segment, and the refused module saw nothing.
      const rows = await segments(callSid);
      expect(rows.map((r) => [r.module_sid, r.transition_reason])).toEqual([[module, 'hangup']]);
      const notes = await fx.t.client.calls(callSid).notifications.list();
      expect(notes.map((n) => n.errorCode)).toContain('21218');
    }
    expect(fx.web.seen.filter((s) => s.path === '/theirs')).toHaveLength(0);
  }, 60_000);

  it('retries a failing status callback, keeps the events in order, and never holds the call', async () => {
    const attempts = new Map<string, number>();
    fx.web.routes.set('/flaky', (p) => {
      const n = (attempts.get(p.SequenceNumber ?? '') ?? 0) + 1;
      attempts.set(p.SequenceNumber ?? '', n);
      // The first delivery of every event fails.
      return n === 1 ? { status: 503, body: 'busy' } : '<Response/>';
    });
    const callee = await startCallee();
    const started = Date.now();
    const call = await fx.t.client.calls.create({
      to: callee.uri,
      from: '+15550012003',
      twiml: '<Response><Pause length="1"/><Hangup/></Response>',
      statusCallback: fx.web.url + '/flaky',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    expect((await callee.run.done).code).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
    // The call ran its one-second script although every callback was being retried.
    expect(Date.now() - started).toBeLessThan(8000);
    const end = Date.now() + 15_000;
    while ((attempts.get('3') ?? 0) < 2 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const delivered = fx.web.seen.filter((s) => s.path === '/flaky');
    expect(delivered.map((s) => s.params.SequenceNumber)).toEqual([
      '0',
      '0',
      '1',
      '1',
      '2',
      '2',
      '3',
      '3',
    ]);
    expect(delivered.filter((_, i) => i % 2 === 1).map((s) => s.params.CallStatus)).toEqual([
      'queued',
      'ringing',
      'in-progress',
      'completed',
    ]);
    expect(delivered.every((s) => s.signatureValid)).toBe(true);
  }, 60_000);
});
