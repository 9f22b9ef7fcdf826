// Calls create and update with every parameter Switchboard runs, through the official SDK and
// real SIP: SendDigits, CallerId and TimeLimit on a call the platform places to itself (its
// own inbound side gathers the digits), SipAuthUsername/Password against a sipp callee that
// checks the digest, cancel and redirect while the callee rings, and a live call's
// FallbackUrl, StatusCallback and TimeLimit changed on the way. Lists follow next_page_uri
// with every filter; notifications and a call's recordings have their own routes.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { sipPortOf, startCallee, useVoicePlatform, waitForCallStatus } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
const fx = useVoicePlatform(TOOLS);

const seen = (path: string) => fx.web.seen.filter((s) => s.path === path);
/** A SIP URI that reaches this platform's own number (the call comes back in as inbound). */
const self = (number: string) => `sip:${number}@127.0.0.1:${sipPortOf(fx.t)}`;
const hold = (seconds: number) => new VoiceResponse().pause({ length: seconds }).toString();

describe.skipIf(!TOOLS)('Calls create and update', () => {
  it('sends SendDigits after the answer, presents CallerId, and ends at TimeLimit', async () => {
    const gather = new VoiceResponse();
    gather.gather({ numDigits: 3, action: '/got', timeout: 8 });
    fx.web.routes.set('/gather', gather.toString());
    fx.web.routes.set('/got', new VoiceResponse().pause({ length: 20 }).toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550009100',
      voiceUrl: fx.web.url + '/gather',
    });
    const started = Date.now();
    const call = await fx.t.client.calls.create({
      to: self('+15550009100'),
      from: '+15550009000',
      callerId: '+15550009999',
      sendDigits: 'ww1w23',
      twiml: hold(30),
      timeLimit: 4,
    });
    const got = await until('the digits', () => seen('/got')[0]);
    expect(got.signatureValid).toBe(true);
    expect(got.params).toMatchObject({ Digits: '123', From: '+15550009999', Direction: 'inbound' });
    expect(await waitForCallStatus(fx, call.sid, 'completed', 15_000)).toBe('completed');
    // TimeLimit 4 s from the answer, far less than the 30 s of <Pause>.
    expect(Date.now() - started).toBeLessThan(12_000);
    const fetched = await fx.t.client.calls(call.sid).fetch();
    expect(Number(fetched.duration)).toBeGreaterThanOrEqual(3);
    expect(Number(fetched.duration)).toBeLessThanOrEqual(6);
  }, 60_000);

  it('answers a digest challenge with SipAuthUsername/SipAuthPassword', async () => {
    const callee = await startCallee('uas-auth.xml');
    const call = await fx.t.client.calls.create({
      to: callee.uri,
      from: '+15550009001',
      sipAuthUsername: 'carrier',
      sipAuthPassword: 'Secret-pass-42',
      twiml: '<Response><Pause length="1"/><Hangup/></Response>',
    });
    const run = await callee.run.done;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
    await expect(
      fx.t.client.calls.create({
        to: '+15551230000',
        from: '+15550009001',
        sipAuthUsername: 'carrier',
        sipAuthPassword: 'x',
        twiml: '<Response/>',
      }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
  }, 60_000);

  it('cancels a call that rings (Status=canceled) and redirects one before it answers', async () => {
    fx.web.routes.set('/status', '<Response/>');
    const ringing = await startCallee('uas-ring-cancel.xml');
    const call = await fx.t.client.calls.create({
      to: ringing.uri,
      from: '+15550009002',
      url: fx.web.url + '/never',
      statusCallback: fx.web.url + '/status',
      statusCallbackEvent: ['ringing', 'completed'],
    });
    await until(
      'ringing',
      async () => (await fx.t.client.calls(call.sid).fetch()).status === 'ringing',
    );
    await fx.t.client.calls(call.sid).update({ status: 'canceled' });
    // sipp's scenario passes only through CANCEL → 200, 487 → ACK.
    const run = await ringing.run.done;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'canceled')).toBe('canceled');
    const callbacks = await until('completed callback', () => {
      const s = seen('/status').filter((r) => r.params.CallSid === call.sid);
      return s.length === 2 ? s : undefined;
    });
    expect(callbacks.map((s) => s.params.CallStatus)).toEqual(['ringing', 'canceled']);
    expect(seen('/never')).toHaveLength(0);

    // Redirected while ringing: the answer runs the new URL, never the first one.
    fx.web.routes.set('/second', hold(1));
    const late = await startCallee('uas-late-answer.xml');
    const other = await fx.t.client.calls.create({
      to: late.uri,
      from: '+15550009002',
      url: fx.web.url + '/first',
    });
    await until(
      'ringing',
      async () => (await fx.t.client.calls(other.sid).fetch()).status === 'ringing',
    );
    await fx.t.client.calls(other.sid).update({ url: fx.web.url + '/second', method: 'GET' });
    expect((await late.run.done).code).toBe(0);
    expect(seen('/first')).toHaveLength(0);
    expect(seen('/second')[0]).toMatchObject({ method: 'GET', signatureValid: true });
  }, 60_000);

  it("changes a live call's FallbackUrl, StatusCallback and TimeLimit", async () => {
    fx.web.routes.set('/live', hold(30));
    fx.web.routes.set('/broken', () => ({ status: 500, body: 'oops' }));
    fx.web.routes.set('/fallback', hold(30));
    fx.web.routes.set('/status-a', '<Response/>');
    fx.web.routes.set('/status-b', '<Response/>');
    const callee = await startCallee();
    const call = await fx.t.client.calls.create({
      to: callee.uri,
      from: '+15550009003',
      url: fx.web.url + '/live',
      statusCallback: fx.web.url + '/status-a',
      statusCallbackEvent: ['answered', 'completed'],
    });
    await until('the first document', () => seen('/live')[0]);
    await fx.t.client.calls(call.sid).update({
      fallbackUrl: fx.web.url + '/fallback',
      statusCallback: fx.web.url + '/status-b',
    });
    await fx.t.client.calls(call.sid).update({ url: fx.web.url + '/broken' });
    const fallback = await until('the fallback', () => seen('/fallback')[0]);
    expect(fallback.params).toMatchObject({ ErrorCode: '11200', CallSid: call.sid });
    const answeredAt = Date.now();
    await fx.t.client.calls(call.sid).update({ timeLimit: 2 });
    expect((await callee.run.done).code).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
    expect(Date.now() - answeredAt).toBeLessThan(8_000);
    const a = await until('answered', () => seen('/status-a')[0]);
    expect(a.params.CallStatus).toBe('in-progress');
    const b = await until('completed', () => seen('/status-b')[0]);
    expect(b.params).toMatchObject({ CallStatus: 'completed', SequenceNumber: '1' });
    const notes = await fx.t.client.calls(call.sid).notifications.list({ log: 0 });
    expect(notes.map((n) => n.errorCode)).toContain('11200');
    const one = await fx.t.client.calls(call.sid).notifications(notes[0]!.sid).fetch();
    expect(one).toMatchObject({ callSid: call.sid, errorCode: '11200', log: '0' });
    const all = await fx.t.client.notifications.list();
    expect(all.map((n) => n.sid)).toContain(one.sid);
    expect(await fx.t.client.calls(call.sid).notifications.list({ log: 1 })).toEqual([]);
  }, 60_000);

  it('lists across pages with every filter, refuses what it does not run, and keeps recordings per call', async () => {
    // Three finished calls from one number: the first before T, two after.
    const number = '+15550009004';
    const place = async () => {
      const c = await startCallee();
      const call = await fx.t.client.calls.create({
        to: c.uri,
        from: number,
        twiml: '<Response><Hangup/></Response>',
        record: true,
      });
      await c.run.done;
      expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
      return call.sid;
    };
    const first = await place();
    await new Promise((r) => setTimeout(r, 1200));
    const t = new Date(Math.ceil(Date.now() / 1000) * 1000);
    await new Promise((r) => setTimeout(r, t.getTime() - Date.now() + 50));
    const second = await place();
    const third = await place();
    const after = await fx.t.client.calls.list({ from: number, startTimeAfter: t, pageSize: 1 });
    expect(after.map((c) => c.sid)).toEqual([third, second]);
    const all = await fx.t.client.calls.list({ from: number, pageSize: 1 });
    expect(all.map((c) => c.sid)).toEqual([third, second, first]);
    const page = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Calls.json?From=${encodeURIComponent(number)}&StartTime%3E=${t.toISOString()}&PageSize=1`,
    );
    const next = String(page.json.next_page_uri);
    expect(next).toContain('StartTime%3E=');
    expect(next).toContain('From=%2B15550009004');

    // A call's own recordings: listed, fetched and deleted under the call.
    const recs = await fx.t.client.calls(second).recordings.list();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ callSid: second, source: 'OutboundAPI', track: 'both' });
    expect(
      (
        await fx.t.client
          .calls(third)
          .recordings(recs[0]!.sid)
          .fetch()
          .catch((e) => e)
      ).status,
    ).toBe(404);
    expect((await fx.t.client.recordings.list({ callSid: second })).map((r) => r.sid)).toEqual([
      recs[0]!.sid,
    ]);
    await fx.t.client.calls(second).recordings(recs[0]!.sid).remove();
    await expect(fx.t.client.recordings(recs[0]!.sid).fetch()).rejects.toMatchObject({
      status: 404,
    });
    const gone = await fetch(
      `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Recordings/${recs[0]!.sid}.wav`,
      {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
        },
      },
    );
    expect(gone.status).toBe(404);

    for (const refused of [
      { machineDetection: 'Enable' },
      { asyncAmd: 'true' },
      { byoc: 'BY' + '0'.repeat(32) },
      { callReason: 'sales' },
    ]) {
      await expect(
        fx.t.client.calls.create({
          to: '+15551230000',
          from: number,
          twiml: '<Response/>',
          ...refused,
        }),
      ).rejects.toMatchObject({
        status: 400,
        code: 20001,
        message: expect.stringMatching(/not supported/),
      });
    }
  }, 90_000);
});
