// TwiML attributes that used to be parsed and then ignored, now run on real calls (a sipp
// caller whose RTP is a test socket that sends tones and digits and measures what it hears):
//   - <Gather bargeIn="false">: a key does not cut the prompt short;
//   - <Say> with a Polly voice and SSML (prosody, break) is spoken (espeak-ng, French);
//   - <Record timeout> ends on silence, trim-silence cuts it, recordingStatusCallbackEvent
//     sends in-progress and completed; a silent recording is not kept (absent, 16102);
//   - <Start><Recording> records the rest of the call;
//   - <Dial sequential> rings one noun after the other; a <Number> (through the configured
//     SIP trunk, a sipp phone here) gets its sendDigits, url (whisper) and statusCallback
//     events; a <Sip> noun's custom header reaches the called side.
import { existsSync } from 'node:fs';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, haveSipp } from '../sip/sipp.js';
import { RtpPhone } from './rtp-phone.js';
import type { SeenRequest } from './twiml-server.js';
import { sipPortOf, startCallee, startCaller, useVoicePlatform } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && (existsSync('/usr/bin/espeak-ng') || process.env.CI === 'true');
// E.164 numbers leave through this trunk: a sipp phone the second test starts on that port.
const trunkPort = await freePort();
const fx = useVoicePlatform(TOOLS, { sipTrunks: `sip:127.0.0.1:${trunkPort}` });
const phones: RtpPhone[] = [];
afterAll(() => phones.forEach((p) => p.close()));

const seen = (path: string): SeenRequest[] => fx.web.seen.filter((s) => s.path === path);
const first = (path: string) => until(path, () => seen(path)[0]);

/** A sipp caller to `number` whose media is an RtpPhone. */
async function call(number: string) {
  const phone = await RtpPhone.open();
  phones.push(phone);
  const sipp = startCaller(sipPortOf(fx.t), number, {
    scenario: 'uac-conference.xml',
    timeoutS: 60,
    keys: { mport: String(phone.port), caller: '+15557650000' },
  });
  return { phone, sipp };
}

async function notifications(callSid: string): Promise<{ code: string; log: string }[]> {
  const list = await fx.t.client.calls(callSid).notifications.list();
  return list.map((n) => ({ code: n.errorCode, log: n.log }));
}

describe.skipIf(!TOOLS)('TwiML attributes on real calls', () => {
  it('Gather bargeIn=false, Say with a Polly voice and SSML, Record timeout/trim/events, a silent Record', async () => {
    const g1 = new VoiceResponse();
    g1.gather({ numDigits: 1, bargeIn: false, action: '/g2', timeout: 5 }).pause({ length: 3 });
    fx.web.routes.set('/g1', g1.toString());
    const g2 = new VoiceResponse();
    const say = g2.say({ voice: 'Polly.Celine' }, '');
    say.prosody({ rate: 'slow' }, 'Bonjour');
    say.break({ time: '300ms' });
    say.addText('et bienvenue.');
    g2.record({
      timeout: 2,
      maxLength: 20,
      trim: 'trim-silence',
      action: '/rec',
      recordingStatusCallback: '/rec-status',
      recordingStatusCallbackEvent: ['in-progress', 'completed'],
    });
    fx.web.routes.set('/g2', g2.toString());
    const silent = new VoiceResponse();
    silent.record({
      timeout: 1,
      maxLength: 10,
      playBeep: false,
      action: '/rec2',
      recordingStatusCallback: '/rec-status2',
      recordingStatusCallbackEvent: ['absent'],
    });
    silent.hangup();
    fx.web.routes.set('/rec', silent.toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550010001',
      voiceUrl: fx.web.url + '/g1',
    });

    const { phone, sipp } = await call('+15550010001');
    const g1Seen = await first('/g1');
    await until('media', () => phone.packetsReceived > 5);
    await new Promise((r) => setTimeout(r, 500));
    await phone.digit('5');
    const g2Seen = await first('/g2');
    expect(g2Seen.params.Digits).toBe('5');
    // The key came ~0.7 s in; without barge-in the 3 s prompt still played out.
    expect(g2Seen.at - g1Seen.at).toBeGreaterThanOrEqual(2800);

    // The French <Say> is heard (its SSML rendered, not refused), then the beep.
    const inProgress = await first('/rec-status');
    expect(inProgress.params).toMatchObject({
      RecordingStatus: 'in-progress',
      RecordingSource: 'RecordVerb',
    });
    expect(phone.rms(g2Seen.at + 200, inProgress.at - 500)).toBeGreaterThan(300);
    // Two seconds of tone, then silence: timeout="2" ends the recording, not maxLength 20.
    phone.frequency = 440;
    await new Promise((r) => setTimeout(r, 2000));
    phone.frequency = undefined;
    const rec = await first('/rec');
    expect(rec.at - inProgress.at).toBeLessThan(8000);
    const seconds = Number(rec.params.RecordingDuration);
    // Trimmed to the tone (the beep and the silence after it are cut).
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(3);
    const completed = await until('completed event', () => seen('/rec-status')[1]);
    expect(completed.params).toMatchObject({
      RecordingStatus: 'completed',
      RecordingSid: rec.params.RecordingSid,
    });

    // The second <Record> hears only silence: not kept, `absent`, and no action request.
    const absent = await first('/rec-status2');
    expect(absent.params.RecordingStatus).toBe('absent');
    const run = await sipp.done;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    expect(seen('/rec2')).toHaveLength(0);
    const callSid = g1Seen.params.CallSid!;
    expect(await fx.t.client.recordings.list({ callSid })).toHaveLength(1);
    const notes = await notifications(callSid);
    expect(notes).toContainEqual({ code: '16102', log: '1' });
    expect(notes.map((n) => n.code)).not.toContain('13511');
  }, 90_000);

  it('Start Recording; Dial sequential; a Number leg with sendDigits, a whisper and its own callbacks; a Sip header', async () => {
    const busy = await startCallee('uas-busy.xml');
    const phone = await RtpPhone.open();
    phones.push(phone);
    const carrier = await startCallee('uas-phone.xml', {
      port: trunkPort,
      keys: { mport: String(phone.port) },
    });
    const doc = new VoiceResponse();
    doc.start().recording({
      recordingStatusCallback: '/start-rec',
      recordingStatusCallbackEvent: ['completed'],
    });
    const dial = doc.dial({ sequential: true, timeLimit: 3, action: '/dialed', timeout: 10 });
    dial.sip(busy.uri);
    dial.number(
      {
        url: '/whisper',
        sendDigits: 'w9',
        statusCallback: '/leg',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      },
      '+15550010009',
    );
    fx.web.routes.set('/caller', doc.toString());
    const next = new VoiceResponse();
    next.dial({ timeLimit: 2 }).sip(`sip:+15550010003@127.0.0.1:${sipPortOf(fx.t)}?X-Trace=abc123`);
    next.hangup();
    fx.web.routes.set('/dialed', next.toString());
    fx.web.routes.set('/leg', '<Response/>');
    fx.web.routes.set('/start-rec', '<Response/>');
    const whisper = new VoiceResponse();
    whisper.say('A call for you.');
    fx.web.routes.set('/whisper', whisper.toString());
    fx.web.routes.set('/callee', new VoiceResponse().pause({ length: 20 }).toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550010002',
      voiceUrl: fx.web.url + '/caller',
    });
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550010003',
      voiceUrl: fx.web.url + '/callee',
    });

    const { sipp } = await call('+15550010002');
    const run = await sipp.done;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    expect((await busy.run.done).code).toBe(0);
    expect((await carrier.run.done).code).toBe(0);

    const dialed = await first('/dialed');
    expect(dialed.params.DialCallStatus).toBe('completed');
    const parent = dialed.params.CallSid!;
    const children = (await fx.t.client.calls.list({ parentCallSid: parent })).reverse();
    expect(children.map((c) => [c.to, c.status])).toEqual([
      [busy.uri, 'busy'],
      ['+15550010009', 'completed'],
      [`sip:+15550010003@127.0.0.1:${sipPortOf(fx.t)}`, 'completed'],
    ]);
    // One after the other: the second leg was placed once the first had failed.
    expect(children[1]!.startTime!.getTime()).toBeGreaterThanOrEqual(
      children[0]!.endTime!.getTime() - 1000,
    );
    const leg = children[1]!.sid;
    expect(dialed.params.DialCallSid).toBe(leg);

    // The called phone got the digit and heard the whisper before the bridge.
    expect(phone.digitsReceived).toEqual(['9']);
    const whispered = await first('/whisper');
    expect(whispered.params).toMatchObject({ CallSid: leg, ParentCallSid: parent });
    expect(whispered.signatureValid).toBe(true);
    expect(phone.rms(whispered.at, whispered.at + 1500)).toBeGreaterThan(300);
    const events = await until('leg callbacks', () => {
      const s = seen('/leg');
      return s.length === 4 ? s : undefined;
    });
    expect(events.map((e) => [e.params.CallStatus, e.params.SequenceNumber])).toEqual([
      ['queued', '0'],
      ['ringing', '1'],
      ['in-progress', '2'],
      ['completed', '3'],
    ]);
    expect(events.every((e) => e.params.CallSid === leg && e.signatureValid)).toBe(true);

    const calleeSeen = await first('/callee');
    expect(calleeSeen.params['SipHeader_X-Trace']).toBe('abc123');

    const rec = await first('/start-rec');
    expect(rec.params).toMatchObject({
      RecordingStatus: 'completed',
      RecordingSource: 'StartCallRecordingTwiML',
      CallSid: parent,
    });
    expect(Number(rec.params.RecordingDuration)).toBeGreaterThanOrEqual(4);
  }, 90_000);
});
