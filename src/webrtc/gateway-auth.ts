// Who may ring a device through a device gateway's SIP port: the nodes, and no one else.
// A node's dialer signs each INVITE to a device (X-Switchboard-Device-Auth: an expiry and an
// HMAC-SHA256 of the device, the call SID and that expiry) with a secret every node holds;
// the gateway refuses an INVITE without a valid one (403). The secret is
// SWITCHBOARD_DEVICE_SECRET when set; else one node's random secret shared through the shared
// state (Redis: whoever can read it is trusted with everything already); else, on one node
// with in-process state, a random one per process.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../core/index.js';
import type { SharedState } from '../state/index.js';

export const DEVICE_AUTH_HEADER = 'X-Switchboard-Device-Auth';
/** A signature is good this long (the INVITE crosses from one node to another). */
const VALID_S = 120;
const KEY = 'presence:device-gateway-secret';
/** How often a node re-reads the shared secret (another node may have replaced a lost one). */
const REFRESH_MS = 10_000;

type SecretState = Pick<SharedState, 'kind' | 'get' | 'set' | 'incr'>;

export interface GatewaySecret {
  current(): Buffer;
  close(): void;
}

function mac(secret: Buffer, deviceId: string, callSid: string, expires: number): Buffer {
  return createHmac('sha256', secret).update(`${deviceId}|${callSid}|${expires}`).digest();
}

/** The header value that lets `callSid` ring `deviceId`. */
export function signDeviceCall(secret: Buffer, deviceId: string, callSid: string): string {
  const expires = Math.floor(Date.now() / 1000) + VALID_S;
  return `${expires}.${mac(secret, deviceId, callSid, expires).toString('hex')}`;
}

export function verifyDeviceCall(
  secret: Buffer,
  deviceId: string,
  callSid: string,
  value: string | undefined,
): boolean {
  const m = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(value ?? '');
  if (!m) return false;
  const expires = Number(m[1]);
  const now = Math.floor(Date.now() / 1000);
  if (expires < now || expires > now + VALID_S + 30) return false;
  return timingSafeEqual(Buffer.from(m[2]!, 'hex'), mac(secret, deviceId, callSid, expires));
}

/** The secret the nodes share (see the top of this file). */
export async function gatewaySecret(
  configured: string | undefined,
  state: SecretState,
): Promise<GatewaySecret> {
  if (configured !== undefined) {
    if (configured.length < 16)
      throw new ConfigError('SWITCHBOARD_DEVICE_SECRET: at least 16 characters');
    const fixed = Buffer.from(configured);
    return { current: () => fixed, close: () => undefined };
  }
  if (state.kind === 'memory') {
    const own = randomBytes(32);
    return { current: () => own, close: () => undefined };
  }
  let secret = await sharedSecret(state);
  // A shared state that lost the key (Redis restarted without persistence) gets ours back, and
  // a node that started meanwhile with a new one is followed: the nodes agree again within
  // REFRESH_MS.
  const timer = setInterval(() => {
    void state
      .get(KEY)
      .then(async (have) => {
        if (have) secret = Buffer.from(have, 'hex');
        else await state.set(KEY, secret.toString('hex'));
      })
      .catch(() => undefined);
  }, REFRESH_MS);
  timer.unref();
  return { current: () => secret, close: () => clearInterval(timer) };
}

async function sharedSecret(state: SecretState): Promise<Buffer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const have = await state.get(KEY);
    if (have) return Buffer.from(have, 'hex');
    // One node makes it: the first to count 1 (the others wait for its value).
    if (attempt === 0 && (await state.incr(`${KEY}:maker`, 1, 3_600_000)) === 1) {
      const made = randomBytes(32).toString('hex');
      await state.set(KEY, made);
      return Buffer.from(made, 'hex');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ConfigError(
    'the device gateway secret did not appear in the shared state: set SWITCHBOARD_DEVICE_SECRET on every node',
  );
}
