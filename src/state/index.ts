import { createMemoryState } from './memory.js';
import { createRedisState } from './redis.js';
import type { SharedState } from './state.js';

export type { AdmitResult, Answer, SharedState, SlideOptions, SlideResult } from './state.js';
export { createMemoryState } from './memory.js';
export { createRedisState } from './redis.js';

/** In-process state unless a Redis URL is configured. */
export async function openState(options: {
  redisUrl?: string | undefined;
  prefix: string;
}): Promise<SharedState> {
  if (options.redisUrl) return createRedisState({ url: options.redisUrl, prefix: options.prefix });
  return createMemoryState();
}
