// Calls the official Voice SDK (npm @twilio/voice-sdk, pinned) places from headless Chromium:
// device.connect({params}) runs the AccessToken's outgoing application — its VoiceUrl gets a
// signed request with From=client:<identity> and the params, and its TwiML runs on the
// browser's WebRTC leg: <Dial> to a sipp phone (audio checked both ways by the media itself,
// DTMF from call.sendDigits heard by the phone), <Gather> of the browser's digits. The calls
// are seen through the twilio SDK (Calls, Usage Records' calls-client). Refusals reach the SDK
// as its own errors.
import type { Browser, Page } from 'playwright-core';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { voiceToken } from '../support/signal-client.js';
import { until } from '../support/until.js';
import { RtpPhone } from '../voice/rtp-phone.js';
import { startCallee, useVoicePlatform, waitForCallStatus } from '../voice/voice-platform.js';
import {
  haveChromium,
  launchBrowser,
  openSdkPage,
  pageEvent,
  placeCall,
  registerDevice,
  startAppServer,
  talk,
  type AppServer,
} from './sdk-page.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && haveChromium();
const fx = useVoicePlatform(TOOLS, { tlsEnabled: true, tlsPort: 0 });
let browser: Browser;
let app: AppServer;
let key: { sid: string; secret: string };
let appSid: string;
const MIC_HZ = 440;
const PHONE_HZ = 1000;

beforeAll(async () => {
  if (!TOOLS) return;
  browser = await launchBrowser(MIC_HZ);
  app = await startAppServer();
  const k = await fx.t.client.newKeys.create({ friendlyName: 'browser' });
  key = { sid: k.sid, secret: k.secret };
  const application = await fx.t.client.applications.create({
    friendlyName: 'browser calls',
    voiceUrl: fx.web.url + '/app',
    voiceMethod: 'POST',
  });
  appSid = application.sid;
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const token = (identity: string, extra: Partial<Parameters<typeof voiceToken>[0]> = {}) =>
  voiceToken({
    accountSid: fx.t.accountSid,
    keySid: key.sid,
    secret: key.secret,
    identity,
    outgoingApplicationSid: appSid,
    ...extra,
  });

async function device(identity: string, extra: Parameters<typeof token>[1] = {}): Promise<Page> {
  const page = await openSdkPage(browser, app);
  await registerDevice(page, fx.t.platform.tls!.port, token(identity, extra));
  await pageEvent(page, 'registered', 10_000);
  return page;
}

const evaluate = (page: Page, script: string) => page.evaluate(script);

describe.skipIf(!TOOLS)('calls the Voice SDK places', { timeout: 90_000 }, () => {
  it('runs the application: <Dial> to a SIP phone, audio both ways, digits, hang-up', async () => {
    const phone = await RtpPhone.open(PHONE_HZ);
    const callee = await startCallee('uas-phone.xml', { keys: { mport: String(phone.port) } });
    fx.web.routes.set('/app', () => {
      const doc = new VoiceResponse();
      doc.dial({ timeout: 20 }).sip(callee.uri);
      return doc.toString();
    });
    const page = await device('alice', { outgoingParams: { tier: 'gold' } });
    try {
      // The page tries to override the token's own param: the token's wins.
      await placeCall(page, { To: '+15550013002', ticket: '7', tier: 'free' });
      const ringing = await pageEvent(page, 'ringing');
      const callSid = String(ringing.params?.CallSid);
      expect(callSid).toMatch(/^CA[0-9a-f]{32}$/);
      await pageEvent(page, 'accept');

      // The application's webhook: signed, From=client:alice, the params.
      const hook = fx.web.seen.find((r) => r.path === '/app' && r.params.CallSid === callSid);
      expect(hook?.signatureValid).toBe(true);
      expect(hook?.params).toMatchObject({
        From: 'client:alice',
        Caller: 'client:alice',
        To: '+15550013002',
        ApplicationSid: appSid,
        Direction: 'inbound',
        AccountSid: fx.t.accountSid,
        ticket: '7',
        tier: 'gold',
      });

      const rtp = await talk(page, phone, { micHz: MIC_HZ, phoneHz: PHONE_HZ });
      expect(rtp.codecs).toContain('audio/PCMU');
      // call.sendDigits: RFC 4733 from the browser, carried through the <Dial> to the phone.
      await evaluate(page, 'window.calls[0].sendDigits("1#")');
      await until('the digits at the phone', () => phone.digitsReceived.join('') === '1#', 10_000);

      // While on the call the device is busy in presence.
      const busy = await fetch(`${fx.t.url}/presence/v1/Clients/alice`, {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
        },
      });
      expect(((await busy.json()) as { status: string }).status).toBe('busy');

      // The browser hangs up: the phone gets its BYE.
      await evaluate(page, 'window.calls[0].disconnect()');
      expect((await callee.run.done).code).toBe(0);
      expect(await waitForCallStatus(fx, callSid, 'completed')).toBe('completed');

      const call = await fx.t.client.calls(callSid).fetch();
      expect(call).toMatchObject({
        from: 'client:alice',
        to: '+15550013002',
        direction: 'inbound',
        status: 'completed',
      });
      const legs = await fx.t.client.calls.list({ parentCallSid: callSid });
      expect(legs.map((l) => [l.direction, l.to])).toEqual([['outbound-dial', callee.uri]]);
      // Metered as a Client call.
      const client = await until('the calls-client usage', async () => {
        const records = await fx.t.client.usage.records.list({ category: 'calls-client' });
        return records.find((r) => r.count === '1');
      });
      expect(client).toMatchObject({ category: 'calls-client', countUnit: 'calls' });
      expect(Number(client.usage)).toBeGreaterThanOrEqual(1);
      const inbound = await fx.t.client.usage.records.list({ category: 'calls-inbound' });
      expect(inbound.map((r) => r.count)).toEqual(['0']);
    } finally {
      phone.close();
      await page.context().close();
    }
  });

  it('gathers the digits the browser sends, and ends the call with the TwiML', async () => {
    fx.web.routes.set('/app', () => {
      const doc = new VoiceResponse();
      const g = doc.gather({ numDigits: 2, timeout: 10, action: fx.web.url + '/gathered' });
      g.pause({ length: 5 });
      return doc.toString();
    });
    fx.web.routes.set('/gathered', () => new VoiceResponse().hangup().toString());
    const page = await device('bob');
    try {
      await placeCall(page, { To: 'menu' });
      await pageEvent(page, 'accept');
      // The tone each way proves the media is up before the keys are pressed.
      await until('RTP from the browser', async () => {
        const r = (await evaluate(page, 'window.rtp()')) as { sent: number };
        return r.sent > 25;
      });
      await evaluate(page, 'window.calls[0].sendDigits("42")');
      const gathered = await until(
        'the <Gather> action',
        () => fx.web.seen.find((r) => r.path === '/gathered'),
        15_000,
      );
      expect(gathered.params).toMatchObject({ Digits: '42', From: 'client:bob' });
      // <Hangup>: the SDK hears the platform's hang-up.
      await pageEvent(page, 'disconnect');
    } finally {
      await page.context().close();
    }
  });

  it('refuses an unknown application and a token without one with the SDK errors', async () => {
    const page = await device('carol', { outgoingApplicationSid: 'AP' + '0'.repeat(32) });
    await placeCall(page, { To: 'x' });
    const err = await pageEvent(page, 'call-error');
    // The SDK's default surfaces a gateway's precise code as 31005 with it inside.
    expect([err.code, err.original]).toEqual([31005, 31001]);
    await page.context().close();

    const page2 = await device('dave', { outgoingApplicationSid: undefined });
    await placeCall(page2, { To: 'x' });
    const err2 = await pageEvent(page2, 'call-error');
    expect([err2.code, err2.original]).toEqual([31005, 31204]);
    await page2.context().close();
  });
});
