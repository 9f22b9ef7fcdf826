import { Redis } from 'ioredis';
import type { SharedState } from './state.js';

export interface RedisStateOptions {
  url: string;
  /** Prefix of every key and channel, so deployments (and test runs) can share a server. */
  prefix: string;
}

const INCR_WITH_TTL = `
local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if tonumber(v) == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

export async function createRedisState(options: RedisStateOptions): Promise<SharedState> {
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  const p = options.prefix;

  async function subscriberConnection(): Promise<Redis> {
    if (subscriber) return subscriber;
    const s = redis.duplicate();
    s.on('message', (channel: string, message: string) => {
      for (const h of handlers.get(channel) ?? []) h(message);
    });
    subscriber = s;
    return s;
  }

  return {
    kind: 'redis',
    async get(key) {
      return redis.get(p + key);
    },
    async set(key, value, ttlMs) {
      if (ttlMs) await redis.set(p + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
      else await redis.set(p + key, value);
    },
    async del(key) {
      await redis.del(p + key);
    },
    async incr(key, by, ttlMs) {
      const v = await redis.eval(
        INCR_WITH_TTL,
        1,
        p + key,
        String(by),
        String(Math.max(1, Math.round(ttlMs))),
      );
      return Number(v);
    },
    async publish(channel, message) {
      await redis.publish(p + channel, message);
    },
    async subscribe(channel, handler) {
      const s = await subscriberConnection();
      const full = p + channel;
      let set = handlers.get(full);
      if (!set) {
        set = new Set();
        handlers.set(full, set);
        await s.subscribe(full);
      }
      set.add(handler);
      return async () => {
        const current = handlers.get(full);
        if (!current) return;
        current.delete(handler);
        if (current.size === 0) {
          handlers.delete(full);
          await s.unsubscribe(full);
        }
      };
    },
    async close() {
      subscriber?.disconnect();
      await redis.quit();
    },
  };
}
