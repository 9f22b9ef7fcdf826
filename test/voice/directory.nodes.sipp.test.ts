// Two nodes sharing PostgreSQL and Redis keep numbers and modules in memory (the inbound path
// reads them on every call); a change made through one node's API is seen by the other at once:
// real SIP calls to node B follow a number and then a module changed through node A. Runs on the
// scale-out backends only (one SQLite file has one node).
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { publishModule, sipPortOf, startCaller, useVoicePlatform } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const TOOLS = SCALE_OUT && haveSipp();
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: skipping the two-node directory test ***\n');

const fx = useVoicePlatform(TOOLS);
let nodeB: TestPlatform | undefined;
afterAll(async () => {
  await nodeB?.cleanup();
});

describe.skipIf(!TOOLS)('numbers and modules cached on two nodes', () => {
  it('routes calls on node B by the number and module as node A last changed them', async () => {
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
    const hangup = new VoiceResponse().hangup().toString();
    for (const path of ['/d/one', '/d/two', '/d/module-one', '/d/module-two'])
      fx.web.routes.set(path, hangup);
    const callB = async () => {
      const before = fx.web.seen.length;
      const run = startCaller(sipPortOf(nodeB!), '+15550007001', { scenario: 'uac-short.xml' });
      const result = await run.done;
      expect(result.code, result.stdout.slice(-1500) + result.stderr).toBe(0);
      return fx.web.seen.slice(before).map((s) => s.path);
    };

    const number = await a.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007001',
      voiceUrl: fx.web.url + '/d/one',
    });
    expect(await callB()).toEqual(['/d/one']);
    expect(await callB()).toEqual(['/d/one']); // now from node B's memory

    await a.client.incomingPhoneNumbers(number.sid).update({ voiceUrl: fx.web.url + '/d/two' });
    expect(await callB()).toEqual(['/d/two']);

    // The number names a module; then the module's VoiceUrl changes.
    const app = await publishModule(
      { url: a.url, accountSid: a.accountSid, authToken: a.authToken },
      { FriendlyName: 'cached', ModuleCode: 'cache.nodes', VoiceUrl: fx.web.url + '/d/module-one' },
    );
    await a.client.incomingPhoneNumbers(number.sid).update({ voiceApplicationSid: app });
    expect(await callB()).toEqual(['/d/module-one']);
    await a.client.applications(app).update({ voiceUrl: fx.web.url + '/d/module-two' });
    expect(await callB()).toEqual(['/d/module-two']);

    // Deleting the number on node A makes node B answer 404 (sipp's call fails).
    await a.client.incomingPhoneNumbers(number.sid).remove();
    const run = startCaller(sipPortOf(nodeB), '+15550007001', { scenario: 'uac-short.xml' });
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/404/);
  }, 60_000);
});
