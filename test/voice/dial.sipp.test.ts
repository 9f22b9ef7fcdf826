// <Dial><Sip> bridges an inbound SIP call to a second SIP phone (a sipp UAS); timeLimit ends
// the bridged leg, the action gets DialCallStatus, and both legs are recorded as calls.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { callIn, startCallee, useVoicePlatform } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('<Dial>', () => {
  it('bridges the caller to a SIP callee, reports DialCallStatus, and records the child call', async () => {
    const { uri: calleeUri, run: callee } = await startCallee();

    const dial = new VoiceResponse();
    dial
      .dial({ timeout: 10, timeLimit: 4, action: '/dialed', callerId: '+15550004000' })
      .sip(calleeUri);
    fx.web.routes.set('/dial', dial.toString());
    const after = new VoiceResponse();
    after.hangup();
    fx.web.routes.set('/dialed', after.toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550004001',
      voiceUrl: fx.web.url + '/dial',
    });

    const caller = await callIn(fx, '+15550004001');
    expect(caller.code, caller.stdout.slice(-1500)).toBe(0);
    const calleeRun = await callee.done;
    expect(calleeRun.code, calleeRun.stdout.slice(-1500)).toBe(0);

    const dialed = fx.web.seen.find((s) => s.path === '/dialed');
    expect(dialed?.signatureValid).toBe(true);
    expect(dialed?.params.DialCallStatus).toBe('completed');
    expect(Number(dialed?.params.DialCallDuration)).toBeGreaterThanOrEqual(3);
    const parentSid = dialed!.params.CallSid!;
    const children = await fx.t.client.calls.list({ parentCallSid: parentSid });
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({
      direction: 'outbound-dial',
      status: 'completed',
      from: '+15550004000',
      parentCallSid: parentSid,
    });
    expect(children[0]!.sid).toBe(dialed!.params.DialCallSid);
  }, 90_000);
});
