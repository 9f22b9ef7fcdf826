// Money is held as integer micro-units (1 unit = 1/1,000,000 of the currency) in bigint
// columns and JS numbers (exact up to 9e9 currency units). Decimal strings from the API are
// parsed digit by digit, never through floating point, and every price is computed in BigInt
// with one rounding step (half up) per segment.
import { Errors, TwilioError } from '../core/index.js';

export const MICROS = 1_000_000;
const DECIMAL = /^(\d{1,12})(?:\.(\d{1,6}))?$/;
const CURRENCY = /^[A-Z]{3}$/;

/** A usage plan: what one module charges while it controls a call. */
export interface UsagePlan {
  /** Price of one minute, in micro-units. */
  readonly perMinuteMicros: number;
  /** Billing increment in seconds: time is billed in whole increments, rounded up. */
  readonly incrementSeconds: number;
  /** Fee per invocation (each time control passes to the module), in micro-units. */
  readonly perInvocationMicros: number;
  /** ISO 4217 code, e.g. USD. */
  readonly currency: string;
}

export const FREE_PLAN: UsagePlan = {
  perMinuteMicros: 0,
  incrementSeconds: 60,
  perInvocationMicros: 0,
  currency: 'USD',
};

/** Parses a non-negative decimal amount ("0.02", "5", "0.008333") into micro-units. */
export function parseMicros(name: string, raw: string): number {
  const m = DECIMAL.exec(raw.trim());
  if (!m) {
    throw new TwilioError(
      Errors.invalidParameter,
      `${name} must be a non-negative decimal with at most 6 decimal places`,
    );
  }
  const whole = Number(m[1]);
  const frac = Number((m[2] ?? '').padEnd(6, '0'));
  return whole * MICROS + frac;
}

export function parseCurrency(name: string, raw: string): string {
  const c = raw.trim().toUpperCase();
  if (!CURRENCY.test(c))
    throw new TwilioError(Errors.invalidParameter, `${name} must be an ISO 4217 code`);
  return c;
}

/** Formats micro-units as a decimal string with 2 to 6 decimals: 20000 -> "0.02", -8333 -> "-0.008333". */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS);
  let frac = String(abs % MICROS).padStart(6, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${sign}${whole}.${frac}`;
}

/** The same amount as a JSON number (for fields the Twilio spec types as number). */
export function microsToNumber(micros: number): number {
  return Number(formatMicros(micros));
}

export interface Rated {
  /** Whole billing increments, rounded up (0 for a zero-length segment). */
  readonly billableUnits: number;
  /** billableUnits x increment. */
  readonly billedSeconds: number;
  /** Time charge + invocation fees, in micro-units. */
  readonly priceMicros: number;
}

/**
 * Rates one segment: time in whole increments (rounded up) at the per-minute rate, rounded
 * half up to a micro-unit once, plus the invocation fees.
 */
export function rate(plan: UsagePlan, durationMs: number, invocations: number): Rated {
  const incMs = plan.incrementSeconds * 1000;
  const billableUnits = durationMs <= 0 ? 0 : Math.ceil(durationMs / incMs);
  const billedSeconds = billableUnits * plan.incrementSeconds;
  // price = billedSeconds * perMinute / 60, half up; exact in BigInt.
  const num = BigInt(billedSeconds) * BigInt(plan.perMinuteMicros);
  const time = (num * 2n + 60n) / 120n;
  const priceMicros = Number(time) + invocations * plan.perInvocationMicros;
  return { billableUnits, billedSeconds, priceMicros };
}

/**
 * How long after a segment starts its price first reaches `budgetMicros` (ms), or undefined
 * if it never does (a free plan). Prices step at the start of each increment.
 */
export function msUntilPrice(
  plan: UsagePlan,
  invocations: number,
  budgetMicros: number,
): number | undefined {
  const fees = invocations * plan.perInvocationMicros;
  if (fees >= budgetMicros) return 0;
  if (plan.perMinuteMicros === 0) return undefined;
  // Smallest unit count u with rate(u) >= budget; that price applies from (u-1)*inc ms + 1 ms.
  const perUnit = (plan.incrementSeconds * plan.perMinuteMicros) / 60;
  let u = Math.max(1, Math.floor((budgetMicros - fees) / perUnit));
  while (
    u > 1 &&
    rate(plan, (u - 1) * plan.incrementSeconds * 1000, invocations).priceMicros >= budgetMicros
  )
    u--;
  while (rate(plan, u * plan.incrementSeconds * 1000, invocations).priceMicros < budgetMicros) u++;
  return (u - 1) * plan.incrementSeconds * 1000 + 1;
}
