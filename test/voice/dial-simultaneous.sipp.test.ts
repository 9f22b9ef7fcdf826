// <Dial> with several nouns rings them all at once: the first sipp UAS to answer is bridged,
// the other (which never answers) receives a real CANCEL and answers 487; when every leg
// fails, DialCallStatus is the outcome closest to success.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { callIn, startCallee, useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('<Dial> rings several nouns at once', () => {
  it('bridges the first to answer and CANCELs the others', async () => {
    const late = await startCallee('uas-late-answer.xml');
    const never = await startCallee('uas-ring-cancel.xml');

    const doc = new VoiceResponse();
    const dial = doc.dial({ timeout: 15, timeLimit: 3, action: '/sim-dialed' });
    dial.sip(never.uri);
    dial.sip(late.uri);
    fx.web.routes.set('/sim', doc.toString());
    fx.web.routes.set('/sim-dialed', new VoiceResponse().hangup().toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550006001',
      voiceUrl: fx.web.url + '/sim',
    });

    const started = Date.now();
    const caller = await callIn(fx, '+15550006001');
    expect(caller.code, caller.stdout.slice(-1500)).toBe(0);
    const lateRun = await late.run.done;
    expect(lateRun.code, lateRun.stdout.slice(-1500)).toBe(0);
    // The never-answering callee's scenario completes only through CANCEL → 200, 487 → ACK.
    const neverRun = await never.run.done;
    expect(neverRun.code, neverRun.stdout.slice(-1500)).toBe(0);

    const dialed = fx.web.seen.find((s) => s.path === '/sim-dialed')!;
    expect(dialed.signatureValid).toBe(true);
    // Both rang together: one after the other would have waited out the 15 s ring timeout.
    expect(dialed.at - started).toBeLessThan(12_000);
    expect(dialed.params.DialCallStatus).toBe('completed');
    const parentSid = dialed.params.CallSid!;
    const children = await fx.t.client.calls.list({ parentCallSid: parentSid });
    expect(children).toHaveLength(2);
    const winner = children.find((c) => c.to === late.uri)!;
    const loser = children.find((c) => c.to === never.uri)!;
    expect(dialed.params.DialCallSid).toBe(winner.sid);
    expect(winner.status).toBe('completed');
    expect(loser.status).toBe('canceled');
    // The winner answered after its 2 s of ringing, and the bridge lasted the 3 s timeLimit.
    expect(Number(dialed.params.DialCallDuration)).toBeGreaterThanOrEqual(2);
    expect(await waitForCallStatus(fx, parentSid, 'completed')).toBe('completed');
  }, 90_000);

  it('reports the best failure: no-answer over busy, busy over failed', async () => {
    const never = await startCallee('uas-ring-cancel.xml');
    const busy = await startCallee('uas-busy.xml', { calls: 2 });
    const missing = await startCallee('uas-not-found.xml');

    const first = new VoiceResponse();
    const d1 = first.dial({ timeout: 5, action: '/fail-1' });
    d1.sip(busy.uri);
    d1.sip(never.uri);
    const second = new VoiceResponse();
    const d2 = second.dial({ timeout: 5, action: '/fail-2' });
    d2.sip(missing.uri);
    d2.sip(busy.uri);
    fx.web.routes.set('/fail', first.toString());
    fx.web.routes.set('/fail-1', second.toString());
    fx.web.routes.set('/fail-2', new VoiceResponse().hangup().toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550006002',
      voiceUrl: fx.web.url + '/fail',
    });

    const started = Date.now();
    const caller = await callIn(fx, '+15550006002');
    expect(caller.code, caller.stdout.slice(-1500)).toBe(0);
    // The ring timeout applies to all legs: the never-answering one is CANCELled after ~5 s.
    const neverRun = await never.run.done;
    expect(neverRun.code, neverRun.stdout.slice(-1500)).toBe(0);
    const busyRun = await busy.run.done;
    expect(busyRun.code, busyRun.stdout.slice(-2500) + busyRun.stderr.slice(-1000)).toBe(0);
    expect((await missing.run.done).code).toBe(0);

    const one = fx.web.seen.find((s) => s.path === '/fail-1')!;
    const two = fx.web.seen.find((s) => s.path === '/fail-2')!;
    expect(one.params.DialCallStatus).toBe('no-answer');
    expect(one.at - started).toBeGreaterThanOrEqual(4500);
    expect(two.params.DialCallStatus).toBe('busy');
    const children = await fx.t.client.calls.list({ parentCallSid: one.params.CallSid! });
    expect(children.map((c) => c.status).sort()).toEqual(['busy', 'busy', 'failed', 'no-answer']);
    expect(one.params.DialCallSid).toBe(children.find((c) => c.status === 'no-answer')!.sid);
  }, 90_000);

  it('cancels every ringing leg when the caller hangs up', async () => {
    const a = await startCallee('uas-ring-cancel.xml');
    const b = await startCallee('uas-ring-cancel.xml');
    const doc = new VoiceResponse();
    const dial = doc.dial({ timeout: 30 });
    dial.sip(a.uri);
    dial.sip(b.uri);
    fx.web.routes.set('/gone', doc.toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550006003',
      voiceUrl: fx.web.url + '/gone',
    });
    const started = Date.now();
    const caller = await callIn(fx, '+15550006003', { scenario: 'uac-hangup.xml', timeoutS: 30 });
    expect(caller.code, caller.stdout.slice(-1500)).toBe(0);
    // Both callees see a CANCEL soon after the caller's BYE (3 s), not at the 30 s timeout.
    for (const leg of [a, b]) {
      const run = await leg.run.done;
      expect(run.code, run.stdout.slice(-1500)).toBe(0);
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    const parentSid = fx.web.seen.find((s) => s.path === '/gone')!.params.CallSid!;
    expect(await waitForCallStatus(fx, parentSid, 'completed')).toBe('completed');
    const children = await fx.t.client.calls.list({ parentCallSid: parentSid });
    expect(children.map((c) => c.status)).toEqual(['canceled', 'canceled']);
  }, 60_000);
});
