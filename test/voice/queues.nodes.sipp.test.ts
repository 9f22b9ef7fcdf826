// Two nodes sharing PostgreSQL and Redis: a caller waits in a queue on node A, an agent on
// node B dials the queue; B takes the member from the shared store, A places a SIP leg to B,
// and the two callers hear each other (RTP checked both ways). Runs on the scale-out backends
// only (one SQLite file has one node).
import { existsSync } from 'node:fs';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { startRtpPeer, type RtpPeer } from './rtp-peer.js';
import { sipPortOf, startCaller, useVoicePlatform } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const TOOLS =
  SCALE_OUT && haveSipp() && (existsSync('/usr/bin/espeak-ng') || process.env.CI === 'true');
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: skipping the two-node queue test ***\n');

const fx = useVoicePlatform(TOOLS);
let nodeB: TestPlatform | undefined;
const peers: RtpPeer[] = [];
afterAll(async () => {
  for (const p of peers) p.close();
  await nodeB?.cleanup();
});

const MEMBER_AUDIO = [0xa1, 0xa2, 0xa3, 0xa4, 0x21, 0x22, 0x23, 0x24];
const AGENT_AUDIO = [0xb1, 0xb2, 0xb3, 0xb4, 0x31, 0x32, 0x33, 0x34];

describe.skipIf(!TOOLS)('call queues across two nodes', () => {
  it('bridges a member waiting on node A to an agent dialing the queue on node B, and dequeues through the API of node B', async () => {
    const a = fx.t;
    nodeB = await startTestPlatform({
      sipEnabled: true,
      sipPort: 0,
      sipHost: '127.0.0.1',
      rtpPorts: '0',
      accountSid: a.accountSid,
      authToken: a.authToken,
      redisPrefix: a.config.redisPrefix,
      ...(a.config.databaseSchema ? { databaseSchema: a.config.databaseSchema } : {}),
    });
    const enq = new VoiceResponse();
    enq.enqueue({ waitUrl: '/n/wait', action: '/n/member-done' }, 'nodes');
    fx.web.routes.set('/n/member', enq.toString());
    const wait = new VoiceResponse();
    wait.pause({ length: 1 });
    fx.web.routes.set('/n/wait', wait.toString());
    const agent = new VoiceResponse();
    agent.dial({ action: '/n/agent-done', timeout: 10 }).queue({ url: '/n/whisper' }, 'nodes');
    fx.web.routes.set('/n/agent', agent.toString());
    const whisper = new VoiceResponse();
    whisper.say('Connecting.');
    fx.web.routes.set('/n/whisper', whisper.toString());
    const hangup = new VoiceResponse();
    hangup.hangup();
    fx.web.routes.set('/n/member-done', hangup.toString());
    fx.web.routes.set('/n/agent-done', hangup.toString());
    await a.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550006001',
      voiceUrl: fx.web.url + '/n/member',
    });
    await a.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550006002',
      voiceUrl: fx.web.url + '/n/agent',
    });

    const sipp = (node: TestPlatform, to: string, from: string, rtp: RtpPeer, byeMs?: number) =>
      startCaller(sipPortOf(node), to, {
        scenario: byeMs ? 'uac-queue-bye.xml' : 'uac-queue-wait.xml',
        timeoutS: 60,
        keys: { rtpport: String(rtp.port), from },
        args: ['-d', String(byeMs ?? 0)],
      });
    const memberRtp = await startRtpPeer(MEMBER_AUDIO);
    const agentRtp = await startRtpPeer(AGENT_AUDIO);
    peers.push(memberRtp, agentRtp);

    const member = sipp(a, '+15550006001', '+15557772001', memberRtp);
    const waited = await until('waitUrl', () => fx.web.seen.find((s) => s.path === '/n/wait'));
    // Node B sees the member that node A holds.
    const queue = (await nodeB.client.queues.list()).find((q) => q.friendlyName === 'nodes')!;
    const members = await nodeB.client.queues(queue.sid).members.list();
    expect(members.map((m) => m.callSid)).toEqual([waited.params.CallSid]);

    const agentCall = sipp(nodeB, '+15550006002', '+15557772009', agentRtp, 6000);
    const agentRun = await agentCall.done;
    expect(agentRun.code, agentRun.stdout.slice(-1500)).toBe(0);
    expect(agentRtp.framesOf(MEMBER_AUDIO)).toBeGreaterThan(50);
    expect(memberRtp.framesOf(AGENT_AUDIO)).toBeGreaterThan(50);

    const whispered = await until('whisper', () =>
      fx.web.seen.find((s) => s.path === '/n/whisper'),
    );
    expect(whispered.params.CallSid).toBe(waited.params.CallSid);
    const agentDone = await until('agent action', () =>
      fx.web.seen.find((s) => s.path === '/n/agent-done'),
    );
    expect(agentDone.params).toMatchObject({
      DialCallStatus: 'completed',
      DialCallSid: waited.params.CallSid,
      QueueSid: queue.sid,
    });
    const memberDone = await until('member action', () =>
      fx.web.seen.find((s) => s.path === '/n/member-done'),
    );
    expect(memberDone.params.QueueResult).toBe('bridged');
    const memberRun = await member.done;
    expect(memberRun.code, memberRun.stdout.slice(-1500)).toBe(0);
    expect((await a.client.queues(queue.sid).fetch()).currentSize).toBe(0);

    // The API on node B dequeues a caller that waits on node A: A runs the new TwiML.
    const dequeued = new VoiceResponse();
    dequeued.hangup();
    fx.web.routes.set('/n/dequeued', dequeued.toString());
    const secondRtp = await startRtpPeer(MEMBER_AUDIO);
    peers.push(secondRtp);
    const second = sipp(a, '+15550006001', '+15557772002', secondRtp);
    const waited2 = await until('second waitUrl', () =>
      fx.web.seen.find((s) => s.path === '/n/wait' && s.params.From === '+15557772002'),
    );
    const front = await nodeB.client
      .queues(queue.sid)
      .members('Front')
      .update({ url: fx.web.url + '/n/dequeued' });
    expect(front.callSid).toBe(waited2.params.CallSid);
    const ran = await until('dequeued TwiML', () =>
      fx.web.seen.find((s) => s.path === '/n/dequeued'),
    );
    expect(ran.params.CallSid).toBe(waited2.params.CallSid);
    const secondRun = await second.done;
    expect(secondRun.code, secondRun.stdout.slice(-1500)).toBe(0);
  }, 90_000);
});
