import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import QuickLRU from 'quick-lru';
import type { SharedState, SlideOptions, SlideResult } from './state.js';
import { slideAt, type WindowCounter } from './window.js';

export interface MemoryStateOptions {
  /** Most keys held at once; the least recently used go first (bounded memory). */
  maxKeys?: number;
  /**
   * Most window counters and semaphores held at once, in their own LRU so that a flood of
   * counters (throttling a million requesters) never evicts other values.
   */
  maxCounters?: number;
  /** Clock of the window counters and leases, in ms (default: monotonic, immune to jumps). */
  clock?: () => number;
}

/** One semaphore: holder → lease end (ms on the state's clock). */
interface Slots {
  readonly holders: Map<string, number>;
}

function isSlots(value: WindowCounter | Slots | undefined): value is Slots {
  return value !== undefined && 'holders' in value;
}

/** A key no caller uses (callers' keys are printable). */
const PLACEHOLDER = '\u0000';

export function createMemoryState(options: MemoryStateOptions = {}): SharedState {
  const cache = new LRUCache<string, string>({
    max: options.maxKeys ?? 1_000_000,
    ttlAutopurge: false,
  });
  // Counters and semaphores need no expiry of their own: a window counter older than its
  // window reads as 0 and a slot past its lease is free, so only their number is bounded, by
  // an LRU cheap enough for every API request (quick-lru keeps up to twice maxSize: half here).
  const maxCounters = options.maxCounters ?? 500_000;
  const counters = new QuickLRU<string, WindowCounter | Slots>({
    maxSize: Math.max(1, Math.floor(maxCounters / 2)),
  });
  // lru-cache empties itself with clear() when its last entry goes, and clear() fills every
  // internal array of `max` slots: O(max) for one delete. A server whose only key comes and
  // goes (one account's concurrency slot, request after request) would pay that each time,
  // so the value cache keeps a placeholder entry that no caller can name.
  const keepNonEmpty = (): void => {
    if (cache.size <= 1 && !cache.has(PLACEHOLDER)) cache.set(PLACEHOLDER, '');
  };
  keepNonEmpty();
  const clock = options.clock ?? (() => performance.now());
  /** pace(): key → the next free slot (ms on the state's clock). */
  const timelines = new QuickLRU<string, number>({
    maxSize: Math.max(1, Math.floor(maxCounters / 2)),
  });
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  const slideNow = (key: string, windowMs: number, opts: SlideOptions): SlideResult => {
    const found = counters.get(key);
    const stored = isSlots(found) ? undefined : found;
    const { result, next } = slideAt(stored, clock(), windowMs, opts);
    if (next === undefined) {
      counters.delete(key);
    } else if (next !== null) {
      if (stored) {
        stored.s = next.s;
        stored.c = next.c;
        stored.p = next.p;
      } else counters.set(key, next);
    }
    return result;
  };

  const acquireNow = (key: string, holder: string, limit: number, leaseMs: number): boolean => {
    const now = clock();
    const found = counters.get(key);
    let slots: Slots;
    if (isSlots(found)) {
      slots = found;
      if (slots.holders.size >= limit) {
        for (const [h, end] of slots.holders) {
          if (end <= now || end > now + leaseMs) slots.holders.delete(h);
        }
      }
    } else {
      slots = { holders: new Map() };
      counters.set(key, slots);
    }
    if (slots.holders.size >= limit) return false;
    slots.holders.set(holder, now + leaseMs);
    return true;
  };

  return {
    kind: 'memory',
    async get(key) {
      return cache.get(key) ?? null;
    },
    async set(key, value, ttlMs) {
      cache.set(key, value, ttlMs ? { ttl: ttlMs } : {});
    },
    async del(key) {
      keepNonEmpty();
      cache.delete(key);
    },
    async incr(key, by, ttlMs) {
      const current = cache.get(key);
      if (current === undefined) {
        cache.set(key, String(by), { ttl: ttlMs });
        return by;
      }
      const next = Number(current) + by;
      // Keep the remaining TTL: like Redis INCRBY, an increment does not extend the life.
      const remaining = cache.getRemainingTTL(key);
      cache.set(
        key,
        String(next),
        Number.isFinite(remaining) && remaining > 0 ? { ttl: remaining } : {},
      );
      return next;
    },
    slide(key, windowMs, opts = {}) {
      return slideNow(key, windowMs, opts);
    },
    acquire(key, holder, limit, leaseMs) {
      return acquireNow(key, holder, limit, leaseMs);
    },
    admit({ rate, read, slot }) {
      return {
        rateAdded: rate ? slideNow(rate.key, rate.windowMs, { add: 1, max: rate.max }).added : true,
        count: slideNow(read.key, read.windowMs, {}).count,
        slot: slot ? acquireNow(slot.key, slot.holder, slot.limit, slot.leaseMs) : false,
      };
    },
    release(key, holder) {
      // An empty semaphore stays until its entry expires: the next request reuses it.
      const slots = counters.peek(key);
      if (isSlots(slots)) slots.holders.delete(holder);
    },
    async pace(key, intervalMs, maxAheadMs) {
      const now = clock();
      const slot = Math.max(now, timelines.get(key) ?? now);
      const waitMs = slot - now;
      if (waitMs > maxAheadMs) return { taken: false, waitMs };
      timelines.set(key, slot + intervalMs);
      return { taken: true, waitMs };
    },
    async publish(channel, message) {
      // Deliver asynchronously, as Redis would: a publisher never runs subscribers inline.
      queueMicrotask(() => bus.emit(channel, message));
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
      return async () => {
        bus.off(channel, handler);
      };
    },
    async close() {
      cache.clear();
      counters.clear();
      timelines.clear();
      bus.removeAllListeners();
    },
  };
}
