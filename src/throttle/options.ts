// The throttle's settings, read from the platform configuration (SWITCHBOARD_THROTTLE_*).
import type { Config } from '../core/index.js';

export type DelayCurve = 'constant' | 'linear' | 'exponential';

export interface ThrottleOptions {
  /** Errors per (requester, resource) are counted over this sliding window. */
  readonly windowMs: number;
  /** Errors in the window tolerated before requests are delayed. */
  readonly threshold: number;
  /** First delay past the threshold, and the cap. */
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly curve: DelayCurve;
  /** Fraction of the error count kept after a success (0 resets it). */
  readonly successKeep: number;
  /** Which response statuses count as errors. */
  readonly isError: (status: number) => boolean;
  /** In-flight requests per account (0: no limit). */
  readonly concurrency: number;
  /** Requests per requester per rateWindowMs (0: no limit). */
  readonly rate: number;
  readonly rateWindowMs: number;
  /** Route templates (exact, or prefix with a trailing `*`) never throttled. */
  readonly exemptRoutes: readonly string[];
  /** AccountSids or credential SIDs never throttled. */
  readonly exemptAccounts: readonly string[];
  /** Addresses or CIDRs whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** Bound of each in-process cache (verified identities, tracked keys). */
  readonly maxKeys: number;
  /** Lease of a concurrency slot: a node that dies mid-request frees it after this. */
  readonly leaseMs: number;
}

export const DEFAULT_OPTIONS: ThrottleOptions = {
  windowMs: 60_000,
  threshold: 5,
  delayMs: 100,
  maxDelayMs: 10_000,
  curve: 'exponential',
  successKeep: 0,
  isError: (status) => status >= 400 && status <= 599,
  concurrency: 100,
  rate: 10_000,
  rateWindowMs: 1000,
  exemptRoutes: ['/healthz', '/metrics', '/openapi.json'],
  exemptAccounts: [],
  trustedProxies: [],
  maxKeys: 100_000,
  leaseMs: 120_000,
};

/** Parses a status list such as `400-499,500,502-504` into a predicate. */
export function statusMatcher(list: readonly string[]): (status: number) => boolean {
  const ranges: [number, number][] = [];
  for (const item of list) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item.trim());
    if (!m)
      throw new Error(`SWITCHBOARD_THROTTLE_ERROR_STATUSES: "${item}" is not a status or range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    ranges.push([Math.min(lo, hi), Math.max(lo, hi)]);
  }
  return (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

const CURVES: readonly DelayCurve[] = ['constant', 'linear', 'exponential'];

export function throttleOptionsFrom(config: Config): ThrottleOptions {
  const curve = config.throttleCurve as DelayCurve;
  if (!CURVES.includes(curve))
    throw new Error(
      `SWITCHBOARD_THROTTLE_CURVE must be one of ${CURVES.join(', ')}, got "${curve}"`,
    );
  return {
    ...DEFAULT_OPTIONS,
    windowMs: Math.max(1, config.throttleWindowMs),
    threshold: config.throttleThreshold,
    delayMs: config.throttleDelayMs,
    maxDelayMs: config.throttleMaxDelayMs,
    curve,
    successKeep: Math.min(100, config.throttleSuccessKeep) / 100,
    isError: statusMatcher(config.throttleErrorStatuses),
    concurrency: config.throttleConcurrency,
    rate: config.throttleRate,
    rateWindowMs: Math.max(1, config.throttleRateWindowMs),
    exemptRoutes: config.throttleExemptRoutes,
    exemptAccounts: config.throttleExemptAccounts ?? [],
    trustedProxies: config.trustedProxies ?? [],
    maxKeys: Math.max(1, config.throttleMaxKeys),
  };
}

/** Delay for a request whose (requester, resource) has `errors` errors in the window. */
export function delayFor(errors: number, o: ThrottleOptions): number {
  if (errors < o.threshold || o.delayMs <= 0) return 0;
  const n = Math.floor(errors - o.threshold) + 1;
  let ms: number;
  switch (o.curve) {
    case 'constant':
      ms = o.delayMs;
      break;
    case 'linear':
      ms = o.delayMs * n;
      break;
    default:
      ms = o.delayMs * 2 ** Math.min(n - 1, 40);
  }
  return Math.min(ms, o.maxDelayMs);
}
