import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import type { SharedState } from './state.js';

export interface MemoryStateOptions {
  /** Most keys held at once; the least recently used go first (bounded memory). */
  maxKeys?: number;
}

export function createMemoryState(options: MemoryStateOptions = {}): SharedState {
  const cache = new LRUCache<string, string>({
    max: options.maxKeys ?? 1_000_000,
    ttlAutopurge: false,
  });
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    kind: 'memory',
    async get(key) {
      return cache.get(key) ?? null;
    },
    async set(key, value, ttlMs) {
      cache.set(key, value, ttlMs ? { ttl: ttlMs } : {});
    },
    async del(key) {
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
      bus.removeAllListeners();
    },
  };
}
