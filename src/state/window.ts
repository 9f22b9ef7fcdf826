// The arithmetic of SharedState.slide, shared by the in-process implementation and mirrored
// line for line by the Lua script of the Redis one.
import type { SlideOptions, SlideResult } from './state.js';

/** Bucket start index, events in the current bucket, events in the previous one. */
export interface WindowCounter {
  s: number;
  c: number;
  p: number;
}

/**
 * Applies one slide operation at time `now` (ms). Returns the result and the counter to store:
 * `undefined` to delete it, `null` to leave the stored one untouched.
 */
export function slideAt(
  stored: WindowCounter | undefined,
  now: number,
  windowMs: number,
  options: SlideOptions,
): { result: SlideResult; next: WindowCounter | undefined | null } {
  const bucket = Math.floor(now / windowMs);
  let c = 0;
  let p = 0;
  let changed = false;
  if (stored) {
    if (stored.s === bucket) {
      c = stored.c;
      p = stored.p;
    } else if (stored.s === bucket - 1) {
      p = stored.c;
      changed = true;
    } else {
      // Older than the window, or from the future (the clock went back): forget it.
      changed = true;
    }
  }
  const weight = 1 - (now - bucket * windowMs) / windowMs;
  let count = c + p * weight;
  const scale = options.scale;
  if (scale !== undefined && scale !== 1 && count > 0) {
    c *= scale;
    p *= scale;
    count *= scale;
    changed = true;
  }
  const add = options.add ?? 0;
  let added = false;
  if (add > 0 && (options.max === undefined || count + add <= options.max)) {
    c += add;
    count += add;
    added = true;
    changed = true;
  }
  let next: WindowCounter | undefined | null = null;
  if (changed) next = c > 0 || p > 0 ? { s: bucket, c, p } : undefined;
  else if (!stored) next = null;
  return { result: { count, added }, next };
}
