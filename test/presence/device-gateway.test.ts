// The device gateway's SIP port takes only INVITEs the nodes signed: one without the
// signature, with a forged one, or signed for another call is refused 403, and one signed
// with the shared secret goes through to the device lookup. The secret itself: configured,
// or made by one node and read by the others from the shared state.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSipEngine, type SipEngine } from '../../src/sip/index.js';
import { openState, type SharedState } from '../../src/state/index.js';
import {
  DEVICE_AUTH_HEADER,
  gatewaySecret,
  startDeviceGateway,
  type StartedDeviceGateway,
} from '../../src/webrtc/index.js';

const logger = pino({ level: 'silent' });
const DEVICE = 'DV' + randomBytes(16).toString('hex');
const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');
let gateway: StartedDeviceGateway;
let caller: SipEngine;

beforeAll(async () => {
  gateway = await startDeviceGateway({
    host: '127.0.0.1',
    advertised: '127.0.0.1',
    port: 0,
    portRange: '40000-40100',
    secret: await gatewaySecret('a secret of the nodes', { kind: 'memory' } as SharedState),
    logger,
  });
  caller = await createSipEngine({ host: '127.0.0.1', port: 0, logger });
});
afterAll(async () => {
  await caller?.close();
  await gateway?.close();
});

async function invite(headers: Record<string, string>): Promise<number> {
  const call = caller.invite(gateway.addressOf(DEVICE), { sdp: SDP, headers, timeoutMs: 5000 });
  const result = await call.result;
  if (result.answered) call.hangup();
  return result.status;
}

describe('the device gateway SIP port', () => {
  it('refuses INVITEs the nodes did not sign', async () => {
    const address = gateway.addressOf(DEVICE);
    const good = gateway.headersFor(address, 'CA' + '1'.repeat(32), {});
    expect(await invite({})).toBe(403);
    const forged = `${Math.floor(Date.now() / 1000) + 60}.${'0'.repeat(64)}`;
    expect(await invite({ ...good, [DEVICE_AUTH_HEADER]: forged })).toBe(403);
    // A signature names its call: it does not ring the device for another one.
    expect(await invite({ ...good, 'X-Switchboard-Call-Sid': 'CA' + '2'.repeat(32) })).toBe(403);
    // Signed: past the check (no device of that id is connected here: 404).
    expect(await invite(good)).toBe(404);
  });

  it('shares one secret between nodes through the shared state', async () => {
    if (!process.env.REDIS_URL) return;
    const prefix = `sbt:${randomBytes(4).toString('hex')}:`;
    const states = await Promise.all(
      [0, 1].map(() => openState({ redisUrl: process.env.REDIS_URL, prefix })),
    );
    const [a, b] = await Promise.all(states.map((s) => gatewaySecret(undefined, s)));
    expect(a!.current().equals(b!.current())).toBe(true);
    a!.close();
    b!.close();
    await Promise.all(states.map((s) => s.close()));
  });
});
