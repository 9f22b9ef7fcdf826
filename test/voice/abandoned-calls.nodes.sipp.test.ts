// A node dies mid-call; another node of the same deployment ends the call. Node A runs as an
// operator runs it (`switchboard serve`, its own process) and is killed with SIGKILL while a
// real sipp call is up on it; node B (sharing PostgreSQL and Redis) notices that the call's
// metering went silent, closes its segment at the last heartbeat, ends the call there and
// sends its `completed` status callback, once; a call node A was still ringing fails, since
// node A stopped saying it is alive. Runs on the scale-out backends only.
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { haveSipp, killSipps } from '../sip/sipp.js';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { serveSwitchboard, type Served } from '../support/serve.js';
import { until } from '../support/until.js';
import { startTwimlServer, type TwimlServer } from './twiml-server.js';
import { startCallee, startCaller } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const TOOLS = SCALE_OUT && haveSipp();
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: skipping the dead-node call test ***\n');

/** Short, so that the test need not wait a minute: a node is dead after 3 s of silence. */
const STALE_MS = 3000;
let nodeA: Served | undefined;
let nodeB: TestPlatform | undefined;
let web: TwimlServer | undefined;
afterAll(async () => {
  killSipps();
  await nodeA?.cleanup();
  await nodeB?.cleanup();
  await web?.close();
});

describe.skipIf(!TOOLS)('calls of a node that died', () => {
  it('are ended by another node at their last heartbeat, with one completed callback', async () => {
    const redisPrefix = `sbt:${randomBytes(4).toString('hex')}:`;
    const a = await serveSwitchboard({
      rtpPorts: '42000-42999',
      redisPrefix,
      env: { SWITCHBOARD_NODE_STALE_MS: String(STALE_MS) },
    });
    nodeA = a;
    await a.start();
    const b = await startTestPlatform({
      accountSid: a.accountSid,
      authToken: a.authToken,
      redisPrefix,
      nodeStaleMs: STALE_MS,
      ...(a.schema ? { databaseSchema: a.schema } : {}),
    });
    nodeB = b;
    web = await startTwimlServer();
    web.setAuthToken(a.authToken);
    web.routes.set('/hold', new VoiceResponse().pause({ length: 60 }).toString());
    web.routes.set('/status', '');

    const app = await b.client.applications.create({
      friendlyName: 'hold',
      voiceUrl: `${web.url}/hold`,
      statusCallback: `${web.url}/status`,
    });
    await b.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550012001',
      voiceApplicationSid: app.sid,
    });

    const phone = startCaller(a.sipPort, '+15550012001', {
      scenario: 'uac-conference.xml',
      timeoutS: 60,
      keys: { mport: '9', caller: '+15557650002' },
    });
    const held = await until('the call on node A', () => web?.seen.find((s) => s.path === '/hold'));
    const callSid = held.params.CallSid!;
    await until('the call answered', async () => {
      const c = await b.client.calls(callSid).fetch();
      return c.status === 'in-progress' ? c : undefined;
    });
    // An outbound call node A places through its own API: the callee rings and never answers.
    const callee = await startCallee('uas-ring-cancel.xml', { timeoutS: 60 });
    const ringing = await sdkClient(a.url, a.accountSid, a.authToken).calls.create({
      to: callee.uri,
      from: '+15550012001',
      url: `${web.url}/never`,
      statusCallback: `${web.url}/ringing-status`,
      statusCallbackEvent: ['ringing', 'completed'],
      timeout: 60,
    });
    await until('the outbound call ringing', async () => {
      const c = await b.client.calls(ringing.sid).fetch();
      return c.status === 'ringing' ? c : undefined;
    });
    // A few heartbeats (every STALE_MS / 6) of the call's segment.
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    await a.crash();
    phone.child.kill('SIGTERM');
    callee.run.child.kill('SIGTERM');

    const ended = await until(
      'node B to end the call',
      async () => {
        const c = await b.client.calls(callSid).fetch();
        return c.status === 'completed' ? c : undefined;
      },
      20_000,
    );
    const endMs = ended.endTime.getTime();
    // At its last heartbeat: after it was answered, not after the crash (RFC 2822: whole seconds).
    expect(endMs).toBeLessThanOrEqual(killedAt);
    expect(endMs).toBeGreaterThan(ended.startTime.getTime());
    expect(Number(ended.duration)).toBeGreaterThanOrEqual(1);

    const segments = await request(
      b,
      'GET',
      `/2010-04-01/Accounts/${a.accountSid}/Calls/${callSid}/Segments.json`,
    );
    const rows = segments.json.segments as Record<string, unknown>[];
    expect(rows.map((s) => [s.status, s.transition_reason])).toEqual([['closed', 'recovered']]);

    const completed = await until('the completed callback', () =>
      web?.seen.find((s) => s.path === '/status' && s.params.CallStatus === 'completed'),
    );
    expect(completed.params.CallSid).toBe(callSid);
    expect(completed.signatureValid).toBe(true);
    expect(Number(completed.params.CallDuration)).toBe(Number(ended.duration));
    // Once, numbered after those node A sent, and nothing more (B's next sweeps find it over).
    await new Promise((r) => setTimeout(r, STALE_MS));
    const sent = web.seen.filter((s) => s.path === '/status');
    expect(sent.map((s) => [s.params.CallStatus, s.params.SequenceNumber])).toEqual([
      ['ringing', '0'],
      ['in-progress', '1'],
      ['completed', '2'],
    ]);

    // The call that was ringing: failed, its completed callback after its ringing one.
    const gone = await until(
      'node B to fail the ringing call',
      async () => {
        const c = await b.client.calls(ringing.sid).fetch();
        return c.status === 'failed' ? c : undefined;
      },
      20_000,
    );
    expect(gone.endTime.getTime()).toBeGreaterThanOrEqual(killedAt - 1000);
    const ringingCallbacks = await until('the ringing call callbacks', () => {
      const got = web?.seen.filter((s) => s.path === '/ringing-status') ?? [];
      return got.length >= 2 ? got : undefined;
    });
    expect(ringingCallbacks.map((s) => [s.params.CallStatus, s.params.SequenceNumber])).toEqual([
      ['ringing', '0'],
      ['failed', '1'],
    ]);
    expect(web.seen.some((s) => s.path === '/never')).toBe(false);
  });
});
