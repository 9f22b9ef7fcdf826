/**
 * The shared-state port: small keyed values with expiry, counters and pub/sub. In process on
 * the embedded default; Redis when REDIS_URL is set so that several nodes share it.
 */
export interface SharedState {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** Sets a value; ttlMs bounds its life (omitted: until deleted or evicted). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Adds `by` to a counter (created at 0) and returns the new value; ttlMs is set on creation. */
  incr(key: string, by: number, ttlMs: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls handler for every message on channel until the returned function is called. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
