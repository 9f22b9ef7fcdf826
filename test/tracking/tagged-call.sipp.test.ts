// A tagged call followed through every event it logs: Calls create with Tags places a call to a
// SIP phone (sipp), its TwiML dials a second phone (a child leg), the call ends. The request,
// every status of both legs and every segment carry the tag and name the parent call as their
// interaction; a tracker counts the call (with its child leg) once.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { until } from '../support/until.js';
import { startCallee, useVoicePlatform } from '../voice/voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
if (!TOOLS && process.env.CI) throw new Error('sipp is required under CI');
const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('a tagged call', () => {
  it('carries its tags on the request, both legs, every status and segment', async () => {
    const t = fx.t;
    const tracker = await request(
      t,
      'POST',
      '/tracking/v1/Trackers',
      'Tags=call:tagged&Bucket=minute',
    );
    expect(tracker.status).toBe(201);
    const { uri: first, run: firstRun } = await startCallee();
    const { uri: second, run: secondRun } = await startCallee();
    const dial = new VoiceResponse();
    dial.dial({ timeout: 10, timeLimit: 2 }).sip(second);
    dial.hangup();
    fx.web.routes.set('/tagged', dial.toString());
    await t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007000',
      voiceUrl: fx.web.url + '/tagged',
    });
    const created = await request(
      t,
      'POST',
      `/2010-04-01/Accounts/${t.accountSid}/Calls.json`,
      new URLSearchParams([
        ['To', first],
        ['From', '+15550007000'],
        ['Url', fx.web.url + '/tagged'],
        ['Tags', 'call:tagged'],
      ]).toString(),
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const callSid = String(created.json.sid);
    expect((await firstRun.done).code).toBe(0);
    expect((await secondRun.done).code).toBe(0);
    await until(
      'completed',
      async () => (await t.client.calls(callSid).fetch()).status === 'completed',
    );
    const children = await t.client.calls.list({ parentCallSid: callSid });
    expect(children).toHaveLength(1);
    const childSid = children[0]!.sid;

    let events: Record<string, unknown>[] = [];
    await until('the final events', async () => {
      await t.platform.events.flush();
      const r = await request(
        t,
        'GET',
        `/2010-04-01/Accounts/${t.accountSid}/Events.json?InteractionSid=${callSid}&PageSize=200`,
      );
      events = r.json.events as Record<string, unknown>[];
      const statuses = events
        .filter((e) => e.kind === 'call')
        .map(
          (e) =>
            `${String(e.subject_sid)}:${String((e.data as { status?: string } | null)?.status)}`,
        );
      return (
        statuses.includes(`${callSid}:completed`) && statuses.some((s) => s.startsWith(childSid))
      );
    });
    const kinds = new Set(events.map((e) => e.kind));
    expect(kinds.has('api-request')).toBe(true);
    expect(kinds.has('call')).toBe(true);
    for (const e of events) expect(e.tags, JSON.stringify(e)).toContain('call:tagged');
    // Both legs' events are the parent call's interaction.
    const subjects = new Set(events.map((e) => e.subject_sid));
    expect(subjects.has(callSid)).toBe(true);
    expect(subjects.has(childSid)).toBe(true);
    // Segments, when the call had any, are among them.
    const segments = events.filter((e) => e.kind === 'segment');
    for (const s of segments) expect(s.interaction_sid).toBe(callSid);
    const m = await request(
      t,
      'GET',
      `/tracking/v1/Trackers/${String(tracker.json.sid)}/Measurements`,
    );
    expect(m.json.totals).toMatchObject({ count: 1, events: events.length });
  }, 90_000);
});
