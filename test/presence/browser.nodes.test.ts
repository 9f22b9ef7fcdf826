// Two nodes on PostgreSQL + Redis: the Voice SDK (headless Chromium) registers on node A, a
// sipp caller enters node B, whose <Dial><Client> finds the device in the shared presence and
// reaches node A's device gateway; the browser rings, answers and talks both ways. Runs on
// the scale-out backends only.
import type { Browser } from 'playwright-core';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { voiceToken } from '../support/signal-client.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';
import { RtpPhone } from '../voice/rtp-phone.js';
import { sipPortOf, startCaller, useVoicePlatform } from '../voice/voice-platform.js';
import {
  answerAndTalk,
  haveChromium,
  launchBrowser,
  openSdkPage,
  pageLog,
  registerDevice,
  startAppServer,
  type AppServer,
} from './sdk-page.js';

const { VoiceResponse } = twilio.twiml;
const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const TOOLS = SCALE_OUT && haveSipp() && haveChromium();
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: skipping the two-node browser test ***\n');

const fx = useVoicePlatform(TOOLS, { tlsEnabled: true, tlsPort: 0 });
let nodeB: TestPlatform | undefined;
let browser: Browser | undefined;
let app: AppServer | undefined;
beforeAll(async () => {
  if (!TOOLS) return;
  browser = await launchBrowser(440);
  app = await startAppServer();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await nodeB?.cleanup();
});

describe.skipIf(!TOOLS)('presence across two nodes', { timeout: 60_000 }, () => {
  it('rings a browser registered on node A for a call entering node B', async () => {
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
    const key = await a.client.newKeys.create({ friendlyName: 'two nodes' });
    const page = await openSdkPage(browser!, app!);
    await registerDevice(
      page,
      a.platform.tls!.port,
      voiceToken({
        accountSid: a.accountSid,
        keySid: key.sid,
        secret: key.secret,
        identity: 'ann',
      }),
    );
    await until('registered', async () =>
      (await pageLog(page)).some((e) => e.event === 'registered'),
    );
    // Node B knows ann is online on node A.
    const auth = 'Basic ' + Buffer.from(`${a.accountSid}:${a.authToken}`).toString('base64');
    await until('ann seen from node B', async () => {
      const res = await fetch(`${nodeB!.url}/presence/v1/Clients/ann`, {
        headers: { authorization: auth },
      });
      return res.status === 200 && ((await res.json()) as { devices: { node: string }[] });
    });

    const doc = new VoiceResponse();
    doc.dial({ timeout: 20 }).client('ann');
    fx.web.routes.set('/to-ann', doc.toString());
    await a.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550013002',
      voiceUrl: fx.web.url + '/to-ann',
    });
    const phone = await RtpPhone.open(1000);
    const sipp = startCaller(sipPortOf(nodeB), '+15550013002', {
      scenario: 'uac-conference.xml',
      timeoutS: 60,
      keys: { mport: String(phone.port), caller: '+15550008888' },
    });
    try {
      await until(
        'incoming on node A',
        async () => (await pageLog(page)).some((e) => e.event === 'incoming'),
        15_000,
      );
      const rtp = await answerAndTalk(page, phone, { micHz: 440, phoneHz: 1000 });
      expect(rtp.codecs).toContain('audio/PCMU');
      await page.evaluate(() =>
        (globalThis as unknown as { calls: { disconnect(): void }[] }).calls[0]!.disconnect(),
      );
      expect((await sipp.done).code).toBe(0);
    } finally {
      phone.close();
      await page.context().close();
    }
  });
});
