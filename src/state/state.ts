/**
 * The answer of an operation the API's hot path asks on every request (the throttle): given at
 * once by the in-process implementation, later by one over the network. A caller that awaits
 * it works with both; one on the hot path checks for a Promise and saves a microtask turn.
 */
export type Answer<T> = T | Promise<T>;

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
  /**
   * A sliding-window counter, timed by the state's own clock so that every node agrees: two
   * fixed buckets of `windowMs`, the previous one weighted by how much of it the window still
   * covers. In one atomic step it multiplies the counter by `scale` (0 clears it), then adds
   * `add` unless that would take the count past `max`, and returns the estimated count over
   * the last `windowMs` after that. With no add and no scale it only reads and creates nothing.
   * A counter disappears 2 × windowMs after its last change; a clock that goes backwards
   * clears it (fail open). Keys used here are not readable with `get`.
   */
  slide(key: string, windowMs: number, options?: SlideOptions): Answer<SlideResult>;
  /**
   * A counting semaphore with leases: takes a slot named `holder` if fewer than `limit`
   * unexpired slots are held. A slot not released within `leaseMs` (a crashed node) frees
   * itself. Keys used here are not readable with `get`.
   */
  acquire(key: string, holder: string, limit: number, leaseMs: number): Answer<boolean>;
  /**
   * What a rate limiter with a concurrency limit asks for each request, in one step (one round
   * trip on Redis): `slide` on the rate counter with add 1 under its max (when given), a read
   * of another sliding counter, and `acquire` of a slot (when given). The same as the three
   * calls, for the price of one.
   */
  admit(request: AdmitRequest): Answer<AdmitResult>;
  /** Frees the slot `holder` took with `acquire` (nothing if it is not held). */
  release(key: string, holder: string): Answer<void>;
  /**
   * Pacing on a shared timeline (a rate cap that holds across nodes): takes the first free
   * slot at or after now and moves the timeline `intervalMs` past it, unless that slot lies
   * more than `maxAheadMs` ahead (then nothing is taken). Returns how far ahead the slot is.
   * Timed by the state's own clock. Keys used here are not readable with `get`.
   */
  pace(key: string, intervalMs: number, maxAheadMs: number): Promise<PaceResult>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls handler for every message on channel until the returned function is called. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface SlideOptions {
  /** Events to record now (default 0). */
  readonly add?: number;
  /** Refuse the add when the count would exceed this (the count is left unchanged). */
  readonly max?: number;
  /** Multiply the counter by this first (0 clears it; 0.5 halves it). */
  readonly scale?: number;
}

export interface PaceResult {
  /** Whether the slot was taken. */
  readonly taken: boolean;
  /** Milliseconds from now to the slot (0: now). */
  readonly waitMs: number;
}

export interface SlideResult {
  /** Estimated events in the last windowMs, after the operation. */
  readonly count: number;
  /** Whether `add` was recorded (false when it would have passed `max`, or add was 0). */
  readonly added: boolean;
}

export interface AdmitRequest {
  /** A sliding counter to add 1 to, unless that passes `max`. */
  readonly rate?: { readonly key: string; readonly windowMs: number; readonly max: number };
  /** A sliding counter to read. */
  readonly read: { readonly key: string; readonly windowMs: number };
  /** A semaphore slot to take. */
  readonly slot?: {
    readonly key: string;
    readonly holder: string;
    readonly limit: number;
    readonly leaseMs: number;
  };
}

export interface AdmitResult {
  /** Whether the rate counter took the request (true when no rate was asked). */
  readonly rateAdded: boolean;
  /** The count read. */
  readonly count: number;
  /** Whether the slot was taken (false when no slot was asked). */
  readonly slot: boolean;
}
