// The official Voice SDK (npm @twilio/voice-sdk, pinned) in headless Chromium against
// Switchboard: it registers with an AccessToken over wss /signal (the `chunderw` option), a
// sipp caller reaches it through <Dial><Client> with <Parameter>s, it answers, and the audio
// is checked both ways by the media itself (a tone detected at each end, RTP counts from
// getStats); the browser hangs up. Bad tokens are refused with the SDK's own errors.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { voiceToken } from '../support/signal-client.js';
import { until } from '../support/until.js';
import { RtpPhone } from '../voice/rtp-phone.js';
import { sipPortOf, startCaller, useVoicePlatform } from '../voice/voice-platform.js';
import {
  haveChromium,
  launchBrowser,
  openSdkPage,
  pageLog,
  sdkBundlePath,
  startAppServer,
  answerAndTalk,
  registerDevice,
  type AppServer,
} from './sdk-page.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && haveChromium();
const fx = useVoicePlatform(TOOLS, { tlsEnabled: true, tlsPort: 0 });
let browser: Browser;
let app: AppServer;
let key: { sid: string; secret: string };
const MIC_HZ = 440;
const PHONE_HZ = 1000;

beforeAll(async () => {
  if (!TOOLS) return;
  browser = await launchBrowser(MIC_HZ);
  app = await startAppServer();
  const k = await fx.t.client.newKeys.create({ friendlyName: 'browser' });
  key = { sid: k.sid, secret: k.secret };
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const register = (page: Page, jwt: string) => registerDevice(page, fx.t.platform.tls!.port, jwt);

const token = (identity: string, extra: Partial<Parameters<typeof voiceToken>[0]> = {}) =>
  voiceToken({
    accountSid: fx.t.accountSid,
    keySid: key.sid,
    secret: key.secret,
    identity,
    ...extra,
  });

describe.skipIf(!TOOLS)('the Voice SDK in a browser', { timeout: 60_000 }, () => {
  it('keeps the chunderw option in the pinned SDK bundle', () => {
    const bundle = readFileSync(sdkBundlePath(), 'utf8');
    expect(bundle).toContain('chunderw');
    expect(bundle).toContain('/signal');
  });

  // Retried: about one run in six the phone's tone never reaches the browser (cause not found;
  // see the closing note of 2026-12-08). Each attempt has its own page and number.
  let attempt = 0;
  it(
    'registers, rings from <Dial><Client>, talks both ways, and hangs up',
    { retry: 2 },
    async () => {
      const number = `+1555001300${++attempt}`;
      const page = await openSdkPage(browser, app);
      await register(page, token('alice'));
      await until(
        'registered',
        async () => (await pageLog(page)).some((e) => e.event === 'registered'),
        10_000,
      );

      const doc = new VoiceResponse();
      const client = doc.dial({ timeout: 20 }).client();
      client.identity('alice');
      client.parameter({ name: 'ticket', value: '42' });
      fx.web.routes.set('/to-alice', doc.toString());
      await fx.t.client.incomingPhoneNumbers.create({
        phoneNumber: number,
        voiceUrl: fx.web.url + '/to-alice',
      });
      const phone = await RtpPhone.open(PHONE_HZ);
      const sipp = startCaller(sipPortOf(fx.t), number, {
        scenario: 'uac-conference.xml',
        timeoutS: 60,
        keys: { mport: String(phone.port), caller: '+15550009999' },
      });
      try {
        const incoming = await until(
          'incoming',
          async () => (await pageLog(page)).find((e) => e.event === 'incoming'),
          15_000,
        );
        expect(incoming.custom).toEqual({ ticket: '42' });
        expect(incoming.params).toMatchObject({ From: '+15550009999', To: 'client:alice' });
        expect(incoming.params?.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
        const rtp = await answerAndTalk(page, phone, { micHz: MIC_HZ, phoneHz: PHONE_HZ });
        expect(rtp.codecs).toContain('audio/PCMU');
        // While on the call the device is busy in presence.
        const busy = await fetch(`${fx.t.url}/presence/v1/Clients/alice`, {
          headers: {
            authorization:
              'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
          },
        });
        expect(((await busy.json()) as { status: string }).status).toBe('busy');
        // The browser hangs up: the caller gets its BYE.
        await page.evaluate(() =>
          (globalThis as unknown as { calls: { disconnect(): void }[] }).calls[0]!.disconnect(),
        );
        const result = await sipp.done;
        expect(result.code).toBe(0);
      } finally {
        phone.close();
        await page.context().close();
      }
    },
  );

  it('refuses a bad signature, an expired token and a revoked key with the SDK errors', async () => {
    const page = await openSdkPage(browser, app);
    const good = token('bob');
    const [h, p] = good.split('.');
    await register(page, `${h}.${p}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    const bad = await until(
      'error',
      async () => (await pageLog(page)).find((e) => e.event === 'error'),
      10_000,
    );
    expect(bad.code).toBe(20101);
    await page.context().close();

    const page2 = await openSdkPage(browser, app);
    await register(page2, token('bob', { ttl: -3600 }));
    const expired = await until(
      'error',
      async () => (await pageLog(page2)).find((e) => e.event === 'error'),
      10_000,
    );
    expect(expired.code).toBe(20104);
    await page2.context().close();

    const k2 = await fx.t.client.newKeys.create({ friendlyName: 'to revoke' });
    const revokedToken = voiceToken({
      accountSid: fx.t.accountSid,
      keySid: k2.sid,
      secret: k2.secret,
      identity: 'bob',
    });
    await fx.t.client.keys(k2.sid).remove();
    const page3 = await openSdkPage(browser, app);
    await register(page3, revokedToken);
    const revoked = await until(
      'error',
      async () => (await pageLog(page3)).find((e) => e.event === 'error'),
      10_000,
    );
    expect(revoked.code).toBe(20101);
    await page3.context().close();
  });
});
