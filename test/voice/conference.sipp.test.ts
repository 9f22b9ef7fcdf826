// <Dial><Conference>: real SIP callers (sipp) join a room whose audio the platform mixes; each
// caller's RTP is a test socket sending its own tone, so the test hears what the mixer made.
// The official SDK lists and controls the room: mute silences a speaker for the others, kick
// and end hang callers up, and the status callbacks arrive in order.
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, haveSipp, startSipp, type SippRun } from '../sip/sipp.js';
import { RtpPhone } from './rtp-phone.js';
import { useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
const fx = useVoicePlatform(TOOLS);
const phones: RtpPhone[] = [];
afterAll(() => phones.forEach((p) => p.close()));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(150);
  }
}

/** A caller: sipp for SIP, an RtpPhone sending `hz` for media. */
async function caller(
  number: string,
  from: string,
  hz: number | undefined,
  hangupAfterMs?: number,
): Promise<{ sipp: SippRun; phone: RtpPhone }> {
  const phone = await RtpPhone.open(hz);
  phones.push(phone);
  const sipPort = fx.t.platform.telephony!.sip.transport.port;
  const scenario = hangupAfterMs === undefined ? 'uac-conference.xml' : 'uac-conference-bye.xml';
  const sipp = startSipp(
    [
      '-sf',
      join(import.meta.dirname, 'scenarios', scenario),
      '-s',
      number,
      '-key',
      'mport',
      String(phone.port),
      '-key',
      'caller',
      from,
      ...(hangupAfterMs === undefined ? [] : ['-d', String(hangupAfterMs)]),
      '-m',
      '1',
      '-timeout',
      '100s',
      `127.0.0.1:${sipPort}`,
    ],
    110,
  );
  return { sipp, phone };
}

async function callSidFrom(from: string): Promise<string> {
  return until(async () => (await fx.t.client.calls.list({ from, status: 'in-progress' }))[0]?.sid);
}

describe.skipIf(!TOOLS)('<Dial><Conference>', () => {
  it('mixes callers, mutes, kicks and ends through the SDK, with ordered callbacks', async () => {
    const { client } = fx.t;
    const room = new VoiceResponse();
    room.dial({ action: '/conf-after' }).conference(
      {
        beep: 'false',
        statusCallback: '/conf-events',
        statusCallbackEvent: ['start', 'end', 'join', 'leave', 'mute'],
      },
      'standup',
    );
    fx.web.routes.set('/conf', room.toString());
    fx.web.routes.set('/conf-after', new VoiceResponse().hangup().toString());
    fx.web.routes.set('/conf-events', '<Response/>');
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007001',
      voiceUrl: fx.web.url + '/conf',
    });

    // Listener (1000 Hz) joins first, then the speaker (600 Hz).
    const listener = await caller('+15550007001', '+15550007101', 1000);
    const listenerSid = await callSidFrom('+15550007101');
    const conf = await until(async () => {
      const [c] = await client.conferences.list({ friendlyName: 'standup', status: 'in-progress' });
      return c;
    });
    expect(conf.sid).toMatch(/^CF[0-9a-f]{32}$/);
    const speaker = await caller('+15550007001', '+15550007102', 600);
    const speakerSid = await callSidFrom('+15550007102');
    await until(async () => {
      const list = await client.conferences(conf.sid).participants.list();
      return list.length === 2 ? list : undefined;
    });
    const p = await client.conferences(conf.sid).participants(speakerSid).fetch();
    expect(p).toMatchObject({
      callSid: speakerSid,
      conferenceSid: conf.sid,
      muted: false,
      hold: false,
      status: 'connected',
      startConferenceOnEnter: true,
      endConferenceOnExit: false,
    });

    // Each hears the other, never itself.
    await sleep(1500);
    let t = Date.now();
    await sleep(1000);
    expect(listener.phone.level(600, t, Date.now())).toBeGreaterThan(3000);
    expect(listener.phone.level(1000, t, Date.now())).toBeLessThan(300);
    expect(speaker.phone.level(1000, t, Date.now())).toBeGreaterThan(3000);

    // Muting the speaker silences it for the listener; the speaker still hears the room.
    const muted = await client
      .conferences(conf.sid)
      .participants(speakerSid)
      .update({ muted: true });
    expect(muted.muted).toBe(true);
    await sleep(400);
    t = Date.now();
    await sleep(1000);
    expect(listener.phone.level(600, t, Date.now())).toBeLessThan(300);
    expect(speaker.phone.level(1000, t, Date.now())).toBeGreaterThan(3000);
    expect(
      (await client.conferences(conf.sid).participants.list({ muted: true })).map((x) => x.callSid),
    ).toEqual([speakerSid]);
    await client.conferences(conf.sid).participants(speakerSid).update({ muted: false });
    await sleep(400);
    t = Date.now();
    await sleep(800);
    expect(listener.phone.level(600, t, Date.now())).toBeGreaterThan(3000);

    // Kick: the listener's Dial ends, its action hangs up (BYE to sipp); the room goes on.
    await client.conferences(conf.sid).participants(listenerSid).remove();
    const kicked = await listener.sipp.done;
    expect(counts(kicked.stdout), kicked.stdout.slice(-1200)).toEqual({ ok: 1, failed: 0 });
    expect(await waitForCallStatus(fx, listenerSid, 'completed')).toBe('completed');
    expect((await client.conferences(conf.sid).fetch()).status).toBe('in-progress');

    // End: every remaining caller is hung up and the room is completed.
    const ended = await client.conferences(conf.sid).update({ status: 'completed' });
    expect(ended.sid).toBe(conf.sid);
    const last = await speaker.sipp.done;
    expect(counts(last.stdout), last.stdout.slice(-1200)).toEqual({ ok: 1, failed: 0 });
    const done = await until(async () => {
      const c = await client.conferences(conf.sid).fetch();
      return c.status === 'completed' ? c : undefined;
    });
    expect(done.reasonConferenceEnded).toBe('conference-ended-via-api');
    expect(await client.conferences(conf.sid).participants.list()).toEqual([]);

    // The Dial's action got DialCallStatus for both legs.
    const after = fx.web.seen.filter((s) => s.path === '/conf-after');
    expect(after.map((s) => s.params.DialCallStatus)).toEqual(['completed', 'completed']);

    // Conference callbacks: signed, numbered, in order.
    const events = await until(async () => {
      const seen = fx.web.seen.filter((s) => s.path === '/conf-events');
      return seen.some((s) => s.params.StatusCallbackEvent === 'conference-end') ? seen : undefined;
    });
    expect(events.every((e) => e.signatureValid)).toBe(true);
    expect(events.map((e) => Number(e.params.SequenceNumber))).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => [e.params.StatusCallbackEvent, e.params.CallSid])).toEqual([
      ['participant-join', listenerSid],
      ['conference-start', undefined],
      ['participant-join', speakerSid],
      ['participant-mute', speakerSid],
      ['participant-unmute', speakerSid],
      ['participant-leave', listenerSid],
      ['participant-leave', speakerSid],
      ['conference-end', undefined],
    ]);
    expect(events[0]!.params).toMatchObject({
      ConferenceSid: conf.sid,
      FriendlyName: 'standup',
      AccountSid: fx.t.accountSid,
      Muted: 'false',
      Hold: 'false',
    });
    expect(events.at(-1)!.params.ReasonConferenceEnded).toBe('conference-ended-via-api');
  }, 120_000);

  it('refuses an unknown conference (20404) and a bad Status (validation error)', async () => {
    const { client } = fx.t;
    await expect(client.conferences('CF' + '0'.repeat(32)).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(
      client
        .conferences('CF' + '0'.repeat(32))
        .participants('CA' + '0'.repeat(32))
        .fetch(),
    ).rejects.toMatchObject({ code: 20404 });
    const [any] = await client.conferences.list({ limit: 1 });
    await expect(
      client.conferences(any!.sid).update({ status: 'in-progress' as 'completed' }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
  });
});
