// The fixture every SIP call test starts from: a platform with SIP and RTP on free local ports
// and a customer web application serving TwiML, torn down (with any sipp left) afterwards.
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort, killSipps, startSipp, type SippResult, type SippRun } from '../sip/sipp.js';
import {
  request,
  startTestPlatform,
  type Overrides,
  type TestPlatform,
} from '../support/platform.js';
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

/** The voice tests' own sipp scenarios (test/voice/scenarios). */
export const VOICE_SCENARIOS = join(import.meta.dirname, 'scenarios');

/** The SIP port of a test platform (its telephony is on in every voice fixture). */
export function sipPortOf(t: TestPlatform): number {
  return t.platform.telephony!.sip.transport.port;
}

export interface CallerOptions {
  /** A file in VOICE_SCENARIOS; default the IVR caller (an X- header, digit 1, speech). */
  readonly scenario?: string;
  /** sipp's own -timeout for the whole call, seconds (default 40). */
  readonly timeoutS?: number;
  /** Scenario variables (`-key name value`): media ports, caller numbers. */
  readonly keys?: Readonly<Record<string, string>>;
  /** More sipp arguments (e.g. `-d` for a scenario's pause). */
  readonly args?: readonly string[];
}

/** Starts a sipp UAC that calls `number` on the platform listening on `sipPort`. */
export function startCaller(sipPort: number, number: string, options: CallerOptions = {}): SippRun {
  const timeoutS = options.timeoutS ?? 40;
  const keys = Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]);
  return startSipp(
    [
      '-sf',
      join(VOICE_SCENARIOS, options.scenario ?? 'uac-ivr.xml'),
      '-s',
      number,
      ...keys,
      ...(options.args ?? []),
      '-m',
      '1',
      '-timeout',
      `${timeoutS}s`,
      `127.0.0.1:${sipPort}`,
    ],
    timeoutS + 10,
  );
}

/** Calls `number` on the fixture's platform from a sipp UAC and waits for the call to end. */
export function callIn(
  fx: VoiceFixture,
  number: string,
  options: CallerOptions = {},
): Promise<SippResult> {
  return startCaller(sipPortOf(fx.t), number, options).done;
}

/**
 * A sipp UAS for one call (or `calls`) on a free port, running `scenario` (a file in VOICE_SCENARIOS, or
 * sipp's built-in `uas`), ready once this resolves; `uri` reaches it.
 */
export async function startCallee(
  scenario = 'uas',
  options: {
    timeoutS?: number;
    calls?: number;
    /** Listen on this port (default a free one). */
    port?: number;
    /** Scenario variables (`-key name value`), e.g. the media port of an RtpPhone. */
    keys?: Readonly<Record<string, string>>;
  } = {},
): Promise<{ uri: string; port: number; run: SippRun }> {
  const port = options.port ?? (await freePort());
  const script = scenario === 'uas' ? ['-sn', 'uas'] : ['-sf', join(VOICE_SCENARIOS, scenario)];
  const calls = String(options.calls ?? 1);
  const keys = Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]);
  const run = startSipp(
    [...script, ...keys, '-p', String(port), '-m', calls],
    options.timeoutS ?? 60,
  );
  // sipp needs a moment to bind its port before the platform's INVITE arrives.
  await new Promise((r) => setTimeout(r, 300));
  return { uri: `sip:callee@127.0.0.1:${port}`, port, run };
}

/** Publishes an Application (a module, with its extension fields) for `who`; its SID. */
export async function publishModule(
  who: { url: string; accountSid: string; authToken: string },
  fields: Record<string, string>,
): Promise<string> {
  const res = await request(
    who,
    'POST',
    `/2010-04-01/Accounts/${who.accountSid}/Applications.json`,
    new URLSearchParams(fields).toString(),
  );
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return String(res.json.sid);
}
