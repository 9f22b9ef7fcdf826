// The Call Recordings API across two nodes sharing PostgreSQL and Redis: a sipp call is up on
// node A, the official SDK talks to node B, whose requests reach A over the bus and answer once
// the recording reflects them. Runs on the scale-out backends only.
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { sipPortOf, startCaller, useVoicePlatform } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const TOOLS = SCALE_OUT && haveSipp();
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: skipping the two-node recordings test ***\n');

const fx = useVoicePlatform(TOOLS);
let nodeB: TestPlatform | undefined;
afterAll(async () => {
  await nodeB?.cleanup();
});

describe.skipIf(!TOOLS)('call recordings across two nodes', () => {
  it("records node A's call through node B's API", async () => {
    const a = fx.t;
    nodeB = await startTestPlatform({
      accountSid: a.accountSid,
      authToken: a.authToken,
      redisPrefix: a.config.redisPrefix,
      ...(a.config.databaseSchema ? { databaseSchema: a.config.databaseSchema } : {}),
    });
    const doc = new VoiceResponse();
    doc.say({ loop: 5 }, 'Recorded from the other node.');
    doc.hangup();
    fx.web.routes.set('/nodes-rec', doc.toString());
    await a.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550015001',
      voiceUrl: fx.web.url + '/nodes-rec',
    });
    const caller = startCaller(sipPortOf(a), '+15550015001', { scenario: 'uac-short.xml' });
    const callSid = (
      await until('the call', () => fx.web.seen.find((s) => s.path === '/nodes-rec'))
    ).params.CallSid!;
    const b = nodeB.client.calls(callSid).recordings;
    for (;;) {
      if ((await nodeB.client.calls(callSid).fetch()).status === 'in-progress') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = await b.create({ recordingChannels: 'dual' });
    expect(started).toMatchObject({ status: 'in-progress', channels: 2, callSid });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await b(started.sid).update({ status: 'paused' })).status).toBe('paused');
    expect((await b('Twilio.CURRENT').update({ status: 'in-progress' })).status).toBe(
      'in-progress',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect((await b(started.sid).update({ status: 'stopped' })).status).toBe('stopped');
    const done = await b(started.sid).fetch();
    expect(done.status).toBe('completed');
    expect(Number(done.duration)).toBeGreaterThanOrEqual(1);
    // Node B serves the audio node A wrote: the store says where the file is, and both nodes
    // run on this machine (on separate machines the data directory must be shared).
    const wav = await fetch(
      `${nodeB.url}/2010-04-01/Accounts/${a.accountSid}/Recordings/${started.sid}.wav`,
      {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${a.accountSid}:${a.authToken}`).toString('base64'),
        },
      },
    );
    expect(wav.status).toBe(200);
    expect(Buffer.from(await wav.arrayBuffer()).readUInt16LE(22)).toBe(2);
    expect((await caller.done).code).toBe(0);
    // Once the call is over, node B refuses at once.
    await expect(b.create({})).rejects.toMatchObject({ status: 400, code: 21220 });
  }, 60_000);
});
