// The official SDK places an outbound call to a real SIP phone (a sipp UAS), lists it,
// redirects it live, and hangs it up; status callbacks arrive once each, in order.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { freePort, haveSipp } from '../sip/sipp.js';
import { until } from '../support/until.js';
import { startCallee, useVoicePlatform } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();

const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('outbound calls through the API', () => {
  it('creates a call to a SIP UAS, lists it, redirects it live and hangs it up', async () => {
    const hold = (text: string) => {
      const r = new VoiceResponse();
      r.say(text);
      r.pause({ length: 30 });
      return r.toString();
    };
    fx.web.routes.set('/outbound', hold('Hello from Switchboard.'));
    fx.web.routes.set('/redirected', hold('You were redirected.'));
    fx.web.routes.set('/status', '<Response/>');

    const { uri, run: uas } = await startCallee();
    // Placed from one of the account's numbers: the call names it (phone_number_sid).
    const caller = await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550002000',
      voiceUrl: fx.web.url + '/outbound',
    });

    const call = await fx.t.client.calls.create({
      to: uri,
      from: '+15550002000',
      url: fx.web.url + '/outbound',
      statusCallback: fx.web.url + '/status',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');
    expect(call.direction).toBe('outbound-api');
    expect(call.phoneNumberSid).toBe(caller.sid);
    expect(call.price).toBeNull();

    await until(
      'answer',
      async () => (await fx.t.client.calls(call.sid).fetch()).status === 'in-progress',
    );
    await until('first TwiML fetch', () => fx.web.seen.some((s) => s.path === '/outbound'));
    const listed = await fx.t.client.calls.list({ status: 'in-progress' });
    expect(listed.map((c) => c.sid)).toContain(call.sid);
    // A live call has no price yet.
    expect(listed.find((c) => c.sid === call.sid)?.price).toBeNull();

    await fx.t.client.calls(call.sid).update({ url: fx.web.url + '/redirected', method: 'POST' });
    await until('redirect', () => fx.web.seen.some((s) => s.path === '/redirected'));

    await fx.t.client.calls(call.sid).update({ status: 'completed' });
    const ended = await uas.done;
    expect(ended.code, ended.stdout.slice(-1500)).toBe(0);
    const final = await until('completed', async () => {
      const c = await fx.t.client.calls(call.sid).fetch();
      return c.status === 'completed' ? c : undefined;
    });
    expect(Number(final.duration)).toBeGreaterThanOrEqual(0);
    expect(final.endTime).toBeInstanceOf(Date);
    // No module controlled it (a plain Url): its one segment costs nothing, as Twilio shows it.
    expect([final.price, final.priceUnit]).toEqual(['0.00000', 'USD']);

    await until('completed callback', () =>
      fx.web.seen.some((s) => s.path === '/status' && s.params.CallStatus === 'completed'),
    );
    const statuses = fx.web.seen.filter((s) => s.path === '/status');
    expect(statuses.map((s) => s.params.CallStatus)).toEqual([
      'queued',
      'ringing',
      'in-progress',
      'completed',
    ]);
    expect(statuses.map((s) => s.params.SequenceNumber)).toEqual(['0', '1', '2', '3']);
    for (const s of [...statuses, ...fx.web.seen]) expect(s.signatureValid).toBe(true);

    await expect(
      fx.t.client.calls(call.sid).update({ url: fx.web.url + '/redirected' }),
    ).rejects.toMatchObject({ status: 400, code: 21220 });
  }, 90_000);

  it('reports an unreachable callee as no-answer or failed, and refuses what it cannot do with a clear error', async () => {
    const port = await freePort();
    // Nobody listens on this port: the INVITE times out (no answer) or fails.
    const call = await fx.t.client.calls.create({
      to: `sip:nobody@127.0.0.1:${port}`,
      from: '+15550002000',
      url: fx.web.url + '/outbound',
      timeout: 2,
    });
    const final = await until(
      'final status',
      async () => {
        const c = await fx.t.client.calls(call.sid).fetch();
        return ['no-answer', 'failed', 'busy'].includes(c.status) ? c : undefined;
      },
      40_000,
    );
    expect(['no-answer', 'failed']).toContain(final.status);

    await expect(
      fx.t.client.calls.create({ to: 'not a number', from: '+1555', url: fx.web.url }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
    await expect(
      fx.t.client.calls.create({
        to: '+15551230000',
        from: '+1555',
        url: fx.web.url,
        machineDetection: 'Enable',
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      fx.t.client.calls.create({ to: '+15551230000', from: '+1555' } as never),
    ).rejects.toMatchObject({ status: 400 });
  }, 90_000);
});
