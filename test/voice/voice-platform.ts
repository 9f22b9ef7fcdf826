// The fixture every SIP call test starts from: a platform with SIP and RTP on free local ports
// and a customer web application serving TwiML, torn down (with any sipp left) afterwards.
import { afterAll, beforeAll } from 'vitest';
import { killSipps } from '../sip/sipp.js';
import { startTestPlatform, type Overrides, type TestPlatform } from '../support/platform.js';
import { startTwimlServer, type TwimlServer } from './twiml-server.js';

export interface VoiceFixture {
  t: TestPlatform;
  web: TwimlServer;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in once they ran. */
export function useVoicePlatform(enabled: boolean, overrides: Overrides = {}): VoiceFixture {
  const fixture = {} as VoiceFixture;
  beforeAll(async () => {
    if (!enabled) return;
    fixture.web = await startTwimlServer();
    fixture.t = await startTestPlatform({
      sipEnabled: true,
      sipPort: 0,
      sipHost: '127.0.0.1',
      rtpPorts: '0',
      ...overrides,
    });
    fixture.web.setAuthToken(fixture.t.authToken);
  });
  afterAll(async () => {
    killSipps();
    await fixture.t?.cleanup();
    await fixture.web?.close();
  });
  return fixture;
}

/** Waits (bounded) until the call reaches `status`: the record is written just after the BYE. */
export async function waitForCallStatus(
  fx: VoiceFixture,
  callSid: string,
  status: string,
  ms = 10_000,
): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = (await fx.t.client.calls(callSid).fetch()).status;
    if (last === status) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}
