// Verifies Twilio-format AccessTokens (what the `twilio` package's jwt.AccessToken makes with a
// VoiceGrant): a JWT signed with an API key's secret, `iss` the key SID, `sub` the account SID,
// header `cty: twilio-fpa;v=1`, grants.identity and grants.voice. `jose` does the JOSE work
// (algorithm allow-list, constant-time HMAC check, exp/nbf with a clock tolerance): it is the
// maintained, dependency-free JWT library, ESM-native and typed, where jsonwebtoken needs a
// CommonJS shim and @types.
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { AccountDirectory } from '../plugin/index.js';

/** Twilio signs with HS256 by default and accepts HS384 and HS512 (AccessToken.ALGORITHMS). */
const ALGORITHMS = ['HS256', 'HS384', 'HS512'];
/** Twilio refuses a token living longer than 24 hours (error 20157). */
const MAX_TTL_S = 24 * 3600;
/** Clocks of the token's maker and ours may differ a little. */
export const CLOCK_SKEW_S = 30;
/** Twilio's limit on a Client identity. */
const MAX_IDENTITY = 256;

export interface VoiceGrant {
  readonly incomingAllow: boolean;
  readonly outgoingApplicationSid: string | undefined;
  readonly outgoingParams: Readonly<Record<string, string>>;
}

export interface VerifiedToken {
  readonly accountSid: string;
  readonly keySid: string;
  readonly identity: string;
  readonly voice: VoiceGrant;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Why a token was refused: Twilio's code (20101 invalid, 20104 expired, 20107 bad signature,
 * 20151 authentication failed, 20157 TTL too long, …) and the signalling code the Voice SDK
 * turns into its error (31204 → AccessTokenInvalid, 31205 → AccessTokenExpired, 31201 →
 * AuthenticationFailed); the SDK knows only those three, so the precise code goes in the text.
 */
export class TokenRefusal extends Error {
  constructor(
    readonly code: number,
    readonly signallingCode: 31201 | 31204 | 31205,
    message: string,
  ) {
    super(`${message} (${code})`);
  }
}

const invalid = (code: number, message: string) => new TokenRefusal(code, 31204, message);

export type KeyLookup = Pick<AccountDirectory, 'signingKey' | 'status'>;

function voiceGrant(raw: unknown): VoiceGrant {
  const g = (typeof raw === 'object' && raw !== null ? raw : {}) as {
    incoming?: { allow?: unknown };
    outgoing?: { application_sid?: unknown; params?: unknown };
  };
  const params: Record<string, string> = {};
  const p = g.outgoing?.params;
  if (typeof p === 'object' && p !== null)
    for (const [k, v] of Object.entries(p))
      if (v !== undefined && v !== null) params[k] = String(v);
  const app = g.outgoing?.application_sid;
  return {
    incomingAllow: g.incoming?.allow === true,
    outgoingApplicationSid: typeof app === 'string' ? app : undefined,
    outgoingParams: params,
  };
}

/** Verifies `jwt` at `nowS`; throws a TokenRefusal naming what is wrong. */
export async function verifyAccessToken(
  jwt: unknown,
  keys: KeyLookup,
  nowS = Math.floor(Date.now() / 1000),
): Promise<VerifiedToken> {
  if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > 16_384)
    throw invalid(20101, 'Invalid Access Token');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(jwt);
    claims = decodeJwt(jwt);
  } catch {
    throw invalid(20101, 'Invalid Access Token');
  }
  if (header.cty !== 'twilio-fpa;v=1') throw invalid(20102, 'Invalid Access Token header');
  if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg))
    throw invalid(20102, `Invalid Access Token header: algorithm ${String(header.alg)}`);
  const keySid = claims.iss;
  const accountSid = claims.sub;
  if (typeof keySid !== 'string' || typeof accountSid !== 'string')
    throw invalid(20103, 'Invalid Access Token issuer/subject');
  const key = await keys.signingKey(keySid);
  // A deleted (revoked) key and a key of another account are the same refusal.
  if (!key || key.accountSid !== accountSid)
    throw invalid(20103, 'Invalid Access Token issuer/subject');
  if (key.secret === null)
    throw invalid(20103, 'Invalid Access Token issuer/subject: the key predates token signing');
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(jwt, new TextEncoder().encode(key.secret), {
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_S,
      currentDate: new Date(nowS * 1000),
      requiredClaims: ['exp'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired)
      throw new TokenRefusal(20104, 31205, 'Access Token expired or expiration date invalid');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed)
      throw invalid(20107, 'Invalid Access Token signature');
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf')
      throw invalid(20105, 'Access Token not yet valid');
    throw invalid(20101, 'Invalid Access Token');
  }
  const exp = payload.exp ?? 0;
  const iat = typeof payload.iat === 'number' ? payload.iat : nowS;
  if (exp - iat > MAX_TTL_S || exp - nowS > MAX_TTL_S + CLOCK_SKEW_S)
    throw invalid(20157, 'Expiration Time exceeds maximum of 86400 seconds');
  const status = await keys.status(accountSid);
  if (status !== 'active')
    throw new TokenRefusal(20151, 31201, `Authentication Failed: account ${status ?? 'unknown'}`);
  const grants = (payload.grants ?? {}) as { identity?: unknown; voice?: unknown };
  const identity = grants.identity;
  if (typeof identity !== 'string' || identity === '' || identity.length > MAX_IDENTITY)
    throw invalid(20106, 'Invalid Access Token grants: identity');
  if (grants.voice === undefined)
    throw invalid(20106, 'Invalid Access Token grants: no voice grant');
  return { accountSid, keySid, identity, voice: voiceGrant(grants.voice), expiresAt: exp };
}
