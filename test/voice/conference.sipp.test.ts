// <Dial><Conference>: real SIP callers (sipp) join a room whose audio the platform mixes; each
// caller's RTP is a test socket sending its own tone, so the test hears what the mixer made.
// The official SDK lists and controls the room: mute silences a speaker for the others, kick
// and end hang callers up, and the status callbacks arrive in order.
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, haveSipp, type SippRun } from '../sip/sipp.js';
import { RtpPhone } from './rtp-phone.js';
import { startTestPlatform } from '../support/platform.js';
import {
  sipPortOf,
  startCallee,
  startCaller,
  useVoicePlatform,
  waitForCallStatus,
} from './voice-platform.js';

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
  const scenario = hangupAfterMs === undefined ? 'uac-conference.xml' : 'uac-conference-bye.xml';
  const sipp = startCaller(sipPortOf(fx.t), number, {
    scenario,
    timeoutS: 100,
    keys: { mport: String(phone.port), caller: from },
    args: hangupAfterMs === undefined ? [] : ['-d', String(hangupAfterMs)],
  });
  return { sipp, phone };
}

function basic(): string {
  return 'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64');
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
    await expect(
      client.conferences(conf.sid).update({ status: 'in-progress' as 'completed' }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
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

    // The time in the room stayed in the call's one segment, closed at the hang-up.
    const res = await fetch(
      `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${speakerSid}/Segments.json`,
      { headers: { authorization: basic() } },
    );
    const { segments } = (await res.json()) as {
      segments: { status: string; duration_ms: number; transition_reason: string }[];
    };
    expect(segments).toHaveLength(1);
    expect(segments[0]).toMatchObject({ status: 'closed', transition_reason: 'hangup' });
    expect(segments[0]!.duration_ms).toBeGreaterThan(4000);

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
    const doc = (await (await fetch(`${fx.t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const participant =
      '/2010-04-01/Accounts/{AccountSid}/Conferences/{ConferenceSid}/Participants/{CallSid}.json';
    expect(Object.keys(doc.paths[participant] ?? {}).sort()).toEqual(['delete', 'get', 'post']);
    expect(
      Object.keys(doc.paths['/2010-04-01/Accounts/{AccountSid}/Conferences.json'] ?? {}),
    ).toEqual(['get']);
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
  });
});

describe.skipIf(!TOOLS)('<Dial><Conference> moderated', () => {
  it('waits with waitUrl, beeps, refuses past maxParticipants, holds, records, ends on the moderator', async () => {
    const { client } = fx.t;
    type ConferenceAttributes = Parameters<
      ReturnType<InstanceType<typeof VoiceResponse>['dial']>['conference']
    >[0];
    const attrs: ConferenceAttributes = {
      beep: 'true',
      maxParticipants: 2,
      record: 'record-from-start',
      waitUrl: '/town-wait',
      statusCallback: '/town-events',
      statusCallbackEvent: ['start', 'end', 'join', 'leave', 'hold'],
    };
    const attendee = new VoiceResponse();
    attendee
      .dial({ action: '/town-after' })
      .conference({ ...attrs, startConferenceOnEnter: false }, 'townhall');
    const host = new VoiceResponse();
    host
      .dial({ action: '/town-after' })
      .conference({ ...attrs, endConferenceOnExit: true }, 'townhall');
    fx.web.routes.set('/town-attendee', attendee.toString());
    fx.web.routes.set('/town-host', host.toString());
    fx.web.routes.set(
      '/town-wait',
      new VoiceResponse().say('Please wait for the host to join.').toString(),
    );
    fx.web.routes.set('/town-after', new VoiceResponse().hangup().toString());
    fx.web.routes.set('/town-events', '<Response/>');
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007002',
      voiceUrl: fx.web.url + '/town-attendee',
    });
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007003',
      voiceUrl: fx.web.url + '/town-host',
    });

    // The attendee waits: the room is init and the attendee hears the waitUrl's <Say>.
    const a = await caller('+15550007002', '+15550007201', 1000);
    const aSid = await callSidFrom('+15550007201');
    const conf = await until(async () => {
      const [c] = await client.conferences.list({ friendlyName: 'townhall' });
      return c;
    });
    expect(conf.status).toBe('init');
    await until(async () => (fx.web.seen.some((s) => s.path === '/town-wait') ? true : undefined));
    await sleep(1200);
    let t = Date.now();
    await sleep(1000);
    expect(a.phone.rms(t, Date.now())).toBeGreaterThan(300);

    // The host starts the room: the attendee hears the entry beep, then the host's voice.
    const hostJoined = Date.now();
    const h = await caller('+15550007003', '+15550007202', 600, 15_000);
    const hSid = await callSidFrom('+15550007202');
    await until(async () =>
      (await client.conferences(conf.sid).fetch()).status === 'in-progress' ? true : undefined,
    );
    await sleep(1200);
    const beep = Math.max(
      a.phone.level(660, hostJoined, Date.now()),
      a.phone.level(880, hostJoined, Date.now()),
    );
    expect(beep).toBeGreaterThan(300);
    t = Date.now();
    await sleep(800);
    expect(a.phone.level(600, t, Date.now())).toBeGreaterThan(3000);
    expect(h.phone.level(1000, t, Date.now())).toBeGreaterThan(3000);

    // A third caller exceeds maxParticipants=2: its Dial ends at once (DialCallStatus failed).
    const intruder = await caller('+15550007002', '+15550007203', 1400);
    const refused = await intruder.sipp.done;
    expect(counts(refused.stdout), refused.stdout.slice(-1200)).toEqual({ ok: 1, failed: 0 });
    const [iCall] = await client.calls.list({ from: '+15550007203' });
    // Notifications are stored without holding the call up: wait for it.
    const notes = await until(async () => {
      const n = await client.calls(iCall!.sid).notifications.list();
      return n.length ? n : undefined;
    });
    expect(notes.map((n) => n.errorCode)).toContain('16020');
    expect(
      fx.web.seen.find((s) => s.path === '/town-after' && s.params.CallSid === iCall!.sid)?.params
        .DialCallStatus,
    ).toBe('failed');
    expect(await client.conferences(conf.sid).participants.list()).toHaveLength(2);

    // Hold: the attendee is neither heard nor hears the room; unhold brings it back.
    const held = await client.conferences(conf.sid).participants(aSid).update({ hold: true });
    expect(held.hold).toBe(true);
    await sleep(400);
    t = Date.now();
    await sleep(1000);
    expect(h.phone.level(1000, t, Date.now())).toBeLessThan(300);
    expect(a.phone.level(600, t, Date.now())).toBeLessThan(300);
    await client.conferences(conf.sid).participants(aSid).update({ hold: false });
    await sleep(400);
    t = Date.now();
    await sleep(800);
    expect(h.phone.level(1000, t, Date.now())).toBeGreaterThan(3000);

    // The host hangs up (endConferenceOnExit): the room ends and the attendee is hung up.
    const hostRun = await h.sipp.done;
    expect(counts(hostRun.stdout), hostRun.stdout.slice(-1200)).toEqual({ ok: 1, failed: 0 });
    const attendeeRun = await a.sipp.done;
    expect(counts(attendeeRun.stdout), attendeeRun.stdout.slice(-1200)).toEqual({
      ok: 1,
      failed: 0,
    });
    const ended = await until(async () => {
      const c = await client.conferences(conf.sid).fetch();
      return c.status === 'completed' ? c : undefined;
    });
    expect(ended.reasonConferenceEnded).toBe('participant-with-end-conference-on-exit-left');
    expect(ended.callSidEndingConference).toBe(hSid);

    // record-from-start: one Recording of the mix, downloadable, with sound in it.
    const recs = await until(async () => {
      const r = await client.conferences(conf.sid).recordings.list();
      return r.length ? r : undefined;
    });
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      conferenceSid: conf.sid,
      status: 'completed',
      source: 'Conference',
    });
    expect(Number(recs[0]!.duration)).toBeGreaterThanOrEqual(4);
    const wav = await fetch(
      `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Recordings/${recs[0]!.sid}.wav`,
      {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
        },
      },
    );
    expect(wav.status).toBe(200);
    const pcm = new Int16Array((await wav.arrayBuffer()).slice(44));
    const loud = pcm.filter((x) => Math.abs(x) > 2000).length;
    expect(loud / pcm.length).toBeGreaterThan(0.2);

    const events = await until(async () => {
      const seen = fx.web.seen.filter((s) => s.path === '/town-events');
      return seen.some((s) => s.params.StatusCallbackEvent === 'conference-end') ? seen : undefined;
    });
    expect(events.map((e) => [e.params.StatusCallbackEvent, e.params.CallSid])).toEqual([
      ['participant-join', aSid],
      ['participant-join', hSid],
      ['conference-start', undefined],
      ['participant-hold', aSid],
      ['participant-unhold', aSid],
      ['participant-leave', hSid],
      ['participant-leave', aSid],
      ['conference-end', undefined],
    ]);
  }, 120_000);

  it('lets a participant leave the room with * (hangupOnStar) and timeLimit', async () => {
    const { client } = fx.t;
    const room = new VoiceResponse();
    room.dial({ hangupOnStar: true, action: '/star-after' }).conference({ beep: 'false' }, 'star');
    fx.web.routes.set('/star', room.toString());
    const limited = new VoiceResponse();
    limited.dial({ timeLimit: 2, action: '/star-after' }).conference({ beep: 'false' }, 'star');
    fx.web.routes.set('/star-limited', limited.toString());
    fx.web.routes.set('/star-after', new VoiceResponse().hangup().toString());
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007006',
      voiceUrl: fx.web.url + '/star',
    });
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007007',
      voiceUrl: fx.web.url + '/star-limited',
    });
    const starrer = await caller('+15550007006', '+15550007501', 1000);
    const starSid = await callSidFrom('+15550007501');
    const limitedCaller = await caller('+15550007007', '+15550007502', 600);
    const limitedSid = await callSidFrom('+15550007502');
    const conf = await until(async () => {
      const [c] = await client.conferences.list({ friendlyName: 'star', status: 'in-progress' });
      return c;
    });
    // timeLimit=2: the second caller leaves the room by itself.
    const limitedRun = await limitedCaller.sipp.done;
    expect(counts(limitedRun.stdout)).toEqual({ ok: 1, failed: 0 });
    expect(
      fx.web.seen.find((s) => s.path === '/star-after' && s.params.CallSid === limitedSid)?.params
        .DialCallDuration,
    ).toMatch(/^[23]$/);
    await until(
      async () =>
        (await client.conferences(conf.sid).participants.list()).length === 1 || undefined,
    );
    await sleep(500);
    await starrer.phone.digit('*');
    const starRun = await starrer.sipp.done;
    expect(counts(starRun.stdout)).toEqual({ ok: 1, failed: 0 });
    const ended = await until(async () => {
      const c = await client.conferences(conf.sid).fetch();
      return c.status === 'completed' ? c : undefined;
    });
    expect(ended.reasonConferenceEnded).toBe('last-participant-left');
    expect(ended.callSidEndingConference).toBe(starSid);
  }, 60_000);

  it('dials a participant in through the SDK (Participants create)', async () => {
    const { client } = fx.t;
    const room = new VoiceResponse();
    room.dial({ action: '/dialin-after' }).conference({ beep: 'false' }, 'dial-in');
    fx.web.routes.set('/dialin', room.toString());
    fx.web.routes.set('/dialin-after', new VoiceResponse().hangup().toString());
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007004',
      voiceUrl: fx.web.url + '/dialin',
    });
    const first = await caller('+15550007004', '+15550007301', 1000);
    const conf = await until(async () => {
      const [c] = await client.conferences.list({ friendlyName: 'dial-in', status: 'in-progress' });
      return c;
    });
    const { uri: guest, run: uas } = await startCallee();
    const added = await client.conferences(conf.sid).participants.create({
      from: '+15550007300',
      to: guest,
      label: 'guest',
      muted: true,
    });
    expect(added).toMatchObject({ conferenceSid: conf.sid, status: 'queued', label: 'guest' });
    const listed = await client.conferences(conf.sid).participants.list();
    expect(listed.map((x) => x.callSid)).toContain(added.callSid);
    const joined = await until(async () => {
      const p = await client
        .conferences(conf.sid)
        .participants('guest')
        .fetch()
        .catch(() => undefined);
      return p?.status === 'connected' ? p : undefined;
    });
    expect(joined).toMatchObject({ callSid: added.callSid, muted: true });
    expect((await client.calls(added.callSid).fetch()).direction).toBe('outbound-api');

    // A dial-in whose call fails (nobody registered as client:nobody) ends as a failed participant.
    const lost = await client.conferences(conf.sid).participants.create({
      from: '+15550007300',
      to: 'client:nobody',
    });
    const failed = await until(async () => {
      const p = await client.conferences(conf.sid).participants(lost.callSid).fetch();
      return p.status === 'failed' ? p : undefined;
    });
    expect(failed.callSid).toBe(lost.callSid);
    expect(
      (await client.conferences(conf.sid).participants.list()).map((x) => x.callSid),
    ).not.toContain(lost.callSid);

    await client.conferences(conf.sid).update({ status: 'completed' });
    const uasRun = await uas.done;
    expect(uasRun.code, uasRun.stdout.slice(-1200)).toBe(0);
    const firstRun = await first.sipp.done;
    expect(counts(firstRun.stdout)).toEqual({ ok: 1, failed: 0 });
  }, 90_000);
});

// Two nodes share PostgreSQL and Redis: the room lives on the node that took the calls (A),
// and an API node without SIP (B) controls it over the state bus.
const SHARED = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
describe.skipIf(!TOOLS || !SHARED)('<Dial><Conference> controlled from another node', () => {
  it('mutes, kicks and ends a room held by node A through node B', async () => {
    const b = await startTestPlatform({
      databaseSchema: fx.t.config.databaseSchema,
      redisPrefix: fx.t.config.redisPrefix,
      redisUrl: fx.t.config.redisUrl,
      accountSid: fx.t.accountSid,
      authToken: fx.t.authToken,
      sipEnabled: false,
    });
    try {
      const room = new VoiceResponse();
      room.dial().conference({ beep: 'false' }, 'cross-node');
      fx.web.routes.set('/cross', room.toString());
      await fx.t.client.incomingPhoneNumbers.create({
        phoneNumber: '+15550007005',
        voiceUrl: fx.web.url + '/cross',
      });
      const listener = await caller('+15550007005', '+15550007401', 1000);
      await callSidFrom('+15550007401');
      const speaker = await caller('+15550007005', '+15550007402', 600);
      const speakerSid = await callSidFrom('+15550007402');
      const conf = await until(async () => {
        const [c] = await b.client.conferences.list({ friendlyName: 'cross-node' });
        const n = c ? (await b.client.conferences(c.sid).participants.list()).length : 0;
        return n === 2 ? c : undefined;
      });
      await sleep(1200);
      let t = Date.now();
      await sleep(800);
      expect(listener.phone.level(600, t, Date.now())).toBeGreaterThan(3000);
      await b.client.conferences(conf!.sid).participants(speakerSid).update({ muted: true });
      await sleep(600);
      t = Date.now();
      await sleep(800);
      expect(listener.phone.level(600, t, Date.now())).toBeLessThan(300);
      await b.client.conferences(conf!.sid).participants(speakerSid).remove();
      expect(counts((await speaker.sipp.done).stdout)).toEqual({ ok: 1, failed: 0 });
      await b.client.conferences(conf!.sid).update({ status: 'completed' });
      expect(counts((await listener.sipp.done).stdout)).toEqual({ ok: 1, failed: 0 });
      const ended = await until(async () => {
        const c = await b.client.conferences(conf!.sid).fetch();
        return c.status === 'completed' ? c : undefined;
      });
      expect(ended.reasonConferenceEnded).toBe('conference-ended-via-api');
    } finally {
      await b.cleanup();
    }
  }, 90_000);
});
