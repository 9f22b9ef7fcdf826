// Call queues with real SIP callers (sipp) and real RTP: <Enqueue> with a looping waitUrl,
// <Dial><Queue> bridging an agent to the front member (audio relayed both ways), the SDK
// listing Queues and Members and dequeuing the front member to new TwiML, and the QueueResult
// of every way out (bridged, redirected, leave, hangup, queue-full).
import { existsSync } from 'node:fs';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp, type SippRun } from '../sip/sipp.js';
import { startRtpPeer, type RtpPeer } from './rtp-peer.js';
import type { SeenRequest } from './twiml-server.js';
import { sipPortOf, startCaller, useVoicePlatform, waitForCallStatus } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && (existsSync('/usr/bin/espeak-ng') || process.env.CI === 'true');
if (!TOOLS) console.warn('\n*** sipp or espeak-ng missing: skipping the call queue tests ***\n');

const fx = useVoicePlatform(TOOLS);

// PCMA byte patterns of each caller's "voice": disjoint, and free of the silence codes.
const MEMBER_AUDIO = [0xa1, 0xa2, 0xa3, 0xa4, 0x21, 0x22, 0x23, 0x24];
const AGENT_AUDIO = [0xb1, 0xb2, 0xb3, 0xb4, 0x31, 0x32, 0x33, 0x34];
const SILENCE = [0x00];

const peers: RtpPeer[] = [];

async function call(
  number: string,
  from: string,
  audio: readonly number[],
  hangUpAfterMs?: number,
): Promise<{ sipp: SippRun; rtp: RtpPeer }> {
  const rtp = await startRtpPeer(audio);
  peers.push(rtp);
  const scenario = hangUpAfterMs === undefined ? 'uac-queue-wait.xml' : 'uac-queue-bye.xml';
  const sipp = startCaller(sipPortOf(fx.t), number, {
    scenario,
    timeoutS: 80,
    keys: { rtpport: String(rtp.port), from },
    args: ['-d', String(hangUpAfterMs ?? 0)],
  });
  return { sipp, rtp };
}

const seenAt = (path: string, from?: string): SeenRequest[] =>
  fx.web.seen.filter((s) => s.path === path && (!from || s.params.From === from));

async function number(phoneNumber: string, path: string): Promise<void> {
  await fx.t.client.incomingPhoneNumbers.create({ phoneNumber, voiceUrl: fx.web.url + path });
}

describe.skipIf(!TOOLS)('call queues', () => {
  it('enqueues callers, bridges the front one to an agent, and dequeues the next through the SDK', async () => {
    const enq = new VoiceResponse();
    enq.enqueue({ waitUrl: '/q/wait', action: '/q/member-done' }, 'support');
    fx.web.routes.set('/q/member', enq.toString());
    const wait = new VoiceResponse();
    wait.say('Please hold.');
    wait.pause({ length: 1 });
    fx.web.routes.set('/q/wait', wait.toString());
    const agent = new VoiceResponse();
    agent.dial({ action: '/q/agent-done', timeout: 10 }).queue({ url: '/q/whisper' }, 'support');
    fx.web.routes.set('/q/agent', agent.toString());
    const whisper = new VoiceResponse();
    whisper.redirect('/q/whisper2');
    fx.web.routes.set('/q/whisper', whisper.toString());
    const whisper2 = new VoiceResponse();
    whisper2.say('Connecting you.');
    fx.web.routes.set('/q/whisper2', whisper2.toString());
    const hangup = new VoiceResponse();
    hangup.hangup();
    fx.web.routes.set('/q/member-done', hangup.toString());
    fx.web.routes.set('/q/agent-done', hangup.toString());
    const dequeued = new VoiceResponse();
    dequeued.say('You were taken out of the queue.');
    dequeued.hangup();
    fx.web.routes.set('/q/dequeued', dequeued.toString());
    await number('+15550005001', '/q/member');
    await number('+15550005002', '/q/agent');

    // Two callers wait; the waitUrl sees each one's position and the queue's size.
    const first = await call('+15550005001', '+15557770001', MEMBER_AUDIO);
    const w1 = await until('first waitUrl', () => seenAt('/q/wait', '+15557770001')[0]);
    expect(w1.signatureValid).toBe(true);
    expect(w1.params).toMatchObject({ QueuePosition: '1', CurrentQueueSize: '1' });
    expect(w1.params.QueueSid).toMatch(/^QU[0-9a-f]{32}$/);
    expect(w1.params.MaxQueueSize).toBe('1000');
    expect(w1.params.CallSid).toMatch(/^CA/);
    const second = await call('+15550005001', '+15557770002', SILENCE);
    const w2 = await until('second waitUrl', () => seenAt('/q/wait', '+15557770002')[0]);
    expect(w2.params).toMatchObject({ QueuePosition: '2', CurrentQueueSize: '2' });
    // The wait document loops while the caller waits.
    await until('waitUrl requested again', () => seenAt('/q/wait', '+15557770001').length >= 2);
    const again = seenAt('/q/wait', '+15557770001')[1]!;
    expect(again.params).toMatchObject({ QueuePosition: '1', CurrentQueueSize: '2' });

    // The SDK sees the queue (created by <Enqueue>) and its members in order.
    const queues = await fx.t.client.queues.list();
    const support = queues.find((q) => q.friendlyName === 'support');
    expect(support).toMatchObject({ sid: w1.params.QueueSid, currentSize: 2, maxSize: 1000 });
    const members = await fx.t.client.queues(support!.sid).members.list();
    expect(members.map((m) => [m.callSid, m.position])).toEqual([
      [w1.params.CallSid, 1],
      [w2.params.CallSid, 2],
    ]);
    const front = await fx.t.client.queues(support!.sid).members('Front').fetch();
    expect(front.callSid).toBe(w1.params.CallSid);
    await expect(fx.t.client.queues(support!.sid).remove()).rejects.toMatchObject({
      status: 409,
    });

    // An agent dials the queue: the whisper plays to the first caller, then they talk.
    const agentCall = await call('+15550005002', '+15557770009', AGENT_AUDIO, 6000);
    const whispered = await until('whisper', () => seenAt('/q/whisper')[0]);
    expect(whispered.params).toMatchObject({
      CallSid: w1.params.CallSid,
      QueueSid: support!.sid,
    });
    expect(whispered.params.DequeingCallSid).toMatch(/^CA/);
    // A whisper may <Redirect>; the next document gets the same parameters.
    const whispered2 = await until('redirected whisper', () => seenAt('/q/whisper2')[0]);
    expect(whispered2.params.DequeingCallSid).toBe(whispered.params.DequeingCallSid);
    const agentRun = await agentCall.sipp.done;
    expect(agentRun.code, agentRun.stdout.slice(-1500)).toBe(0);

    // Audio went both ways through the bridge.
    expect(agentCall.rtp.framesOf(MEMBER_AUDIO)).toBeGreaterThan(50);
    expect(first.rtp.framesOf(AGENT_AUDIO)).toBeGreaterThan(50);
    expect(second.rtp.framesOf(AGENT_AUDIO)).toBe(0);

    const agentDone = await until('agent Dial action', () => seenAt('/q/agent-done')[0]);
    expect(agentDone.params).toMatchObject({
      DialCallStatus: 'completed',
      DialCallSid: w1.params.CallSid,
      QueueSid: support!.sid,
      DequeueResult: 'bridged',
      CallSid: whispered.params.DequeingCallSid,
    });
    expect(Number(agentDone.params.DialCallDuration)).toBeGreaterThanOrEqual(2);
    const memberDone = await until('member action', () =>
      seenAt('/q/member-done', '+15557770001').at(0),
    );
    expect(memberDone.params).toMatchObject({ QueueResult: 'bridged', QueueSid: support!.sid });
    expect(Number(memberDone.params.QueueTime)).toBeGreaterThanOrEqual(1);
    const firstRun = await first.sipp.done;
    expect(firstRun.code, firstRun.stdout.slice(-1500)).toBe(0);

    // The SDK dequeues the remaining caller to new TwiML.
    const updated = await fx.t.client
      .queues(support!.sid)
      .members('Front')
      .update({ url: fx.web.url + '/q/dequeued', method: 'POST' });
    expect(updated.callSid).toBe(w2.params.CallSid);
    const redirected = await until('dequeued TwiML', () => seenAt('/q/dequeued')[0]);
    expect(redirected.params.CallSid).toBe(w2.params.CallSid);
    const secondRun = await second.sipp.done;
    expect(secondRun.code, secondRun.stdout.slice(-1500)).toBe(0);
    const secondDone = await until('second member action', () =>
      seenAt('/q/member-done', '+15557770002').at(0),
    );
    expect(secondDone.params.QueueResult).toBe('redirected');

    expect(await fx.t.client.queues(support!.sid).members.list()).toEqual([]);
    expect((await fx.t.client.queues(support!.sid).fetch()).currentSize).toBe(0);
    expect(await waitForCallStatus(fx, w1.params.CallSid!, 'completed')).toBe('completed');
    // Waiting and talking were part of the member's one segment.
    const segments = await fx.t.client.request({
      method: 'get',
      uri: `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${w1.params.CallSid}/Segments.json`,
    });
    const rows = (segments.body as { segments: { duration: string | number }[] }).segments;
    expect(rows).toHaveLength(1);
    for (const p of peers.splice(0)) p.close();
  }, 120_000);

  it('reports queue-full, leave and hangup to the Enqueue action', async () => {
    const tiny = await fx.t.client.queues.create({ friendlyName: 'tiny', maxSize: 1 });
    expect(tiny.maxSize).toBe(1);
    const enq = new VoiceResponse();
    enq.enqueue({ waitUrl: '/t/wait', action: '/t/done' }, 'tiny');
    fx.web.routes.set('/t/member', enq.toString());
    let leaveNow = false;
    fx.web.routes.set('/t/wait', () => {
      const r = new VoiceResponse();
      if (leaveNow) r.leave();
      else r.pause({ length: 1 });
      return r.toString();
    });
    fx.web.routes.set('/t/done', () => {
      const r = new VoiceResponse();
      r.hangup();
      return r.toString();
    });
    await number('+15550005011', '/t/member');

    const waiting = await call('+15550005011', '+15557771001', SILENCE);
    await until('tiny waitUrl', () => seenAt('/t/wait', '+15557771001')[0]);
    const refused = await call('+15550005011', '+15557771002', SILENCE);
    const full = await until('queue-full action', () => seenAt('/t/done', '+15557771002')[0]);
    expect(full.params.QueueResult).toBe('queue-full');
    expect((await refused.sipp.done).code).toBe(0);

    // An agent that hangs up during the whisper leaves the member where it was.
    const agent = new VoiceResponse();
    agent.dial({ action: '/t/agent-done' }).queue({ url: '/t/whisper' }, 'tiny');
    fx.web.routes.set('/t/agent', agent.toString());
    const longWhisper = new VoiceResponse();
    longWhisper.pause({ length: 5 });
    fx.web.routes.set('/t/whisper', longWhisper.toString());
    fx.web.routes.set('/t/agent-done', '<Response/>');
    await number('+15550005012', '/t/agent');
    const impatient = await call('+15550005012', '+15557771009', SILENCE, 1500);
    await until('whisper', () => seenAt('/t/whisper')[0]);
    expect((await impatient.sipp.done).code).toBe(0);
    const agentDone = await until('agent action', () => seenAt('/t/agent-done')[0]);
    expect(agentDone.params).toMatchObject({
      DialCallStatus: 'canceled',
      DequeueResult: 'hangup',
      QueueSid: tiny.sid,
    });
    const waitsBefore = seenAt('/t/wait', '+15557771001').length;
    await until('waitUrl again after the whisper', () =>
      seenAt('/t/wait', '+15557771001').length > waitsBefore ? true : undefined,
    );
    const still = await fx.t.client.queues(tiny.sid).members.list();
    expect(still.map((m) => m.position)).toEqual([1]);

    leaveNow = true;
    const left = await until('leave action', () => seenAt('/t/done', '+15557771001')[0]);
    expect(left.params).toMatchObject({ QueueResult: 'leave', QueueSid: tiny.sid });
    expect((await waiting.sipp.done).code).toBe(0);

    leaveNow = false;
    const quitter = await call('+15550005011', '+15557771003', SILENCE, 2500);
    const gone = await until('hangup action', () => seenAt('/t/done', '+15557771003')[0]);
    expect(gone.params).toMatchObject({ QueueResult: 'hangup', QueueSid: tiny.sid });
    expect((await quitter.sipp.done).code).toBe(0);
    expect((await fx.t.client.queues(tiny.sid).fetch()).currentSize).toBe(0);
    await fx.t.client.queues(tiny.sid).remove();
    await expect(fx.t.client.queues(tiny.sid).fetch()).rejects.toMatchObject({ status: 404 });
    for (const p of peers.splice(0)) p.close();
  }, 90_000);
});
