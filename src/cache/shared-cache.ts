// Read-through caches of rows that change rarely and are read on hot paths (the number and
// module an inbound call goes to, an account's spend limit), kept in each node's memory and
// cleared on every node when one of them writes, through the shared-state bus.
import { LRUCache } from 'lru-cache';
import type { Logger } from '../core/index.js';
import type { SharedState } from '../state/index.js';

export interface SharedCacheOptions {
  /** The bus channel of this cache's invalidations (one per cache). */
  readonly channel: string;
  readonly state: SharedState;
  readonly logger: Logger;
  /** Most entries kept (least recently used go first). */
  readonly max?: number;
  /**
   * Longest an entry is kept (ms). A bus message can be lost (Redis pub/sub drops what is sent
   * while a subscriber reconnects), so another node's change shows here at the latest by then.
   */
  readonly ttlMs?: number;
}

/** A cached answer; `value` may be undefined (a lookup that found nothing is cached too). */
interface Entry {
  readonly value: unknown;
}

/**
 * A read-through cache invalidated as a whole: writes are rare, so a write clears every
 * entry of every node rather than tracking which entries it touched. Rows that depend on
 * each other (a number's route embeds its module) share one cache, each kind under its own
 * key prefix, so that a write to either clears both.
 *
 * A lookup that was running when a write happened (it may have read the old row) stores
 * nothing: each clear moves the generation on, and a lookup stores its answer only if the
 * generation it started in is still current. A node learns of another's write when the bus
 * message arrives; its own writes clear its copy before they return.
 */
export class SharedCache {
  private readonly entries: LRUCache<string, Entry>;
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: SharedCacheOptions) {
    this.entries = new LRUCache({ max: options.max ?? 10_000, ttl: options.ttlMs ?? 60_000 });
  }

  /** Starts listening for other nodes' writes. */
  async start(): Promise<void> {
    this.unsubscribe = await this.options.state.subscribe(this.options.channel, () =>
      this.clearLocal(),
    );
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /**
   * The cached answer for `key`, else `load()`'s (stored unless a write happened meanwhile).
   * One key prefix holds one kind of answer, always loaded by the same function.
   */
  async get<V>(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) return hit.value as V;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) this.entries.set(key, { value });
    return value;
  }

  /** After a write: clears this node's entries at once and every other node's over the bus. */
  async changed(): Promise<void> {
    this.clearLocal();
    try {
      await this.options.state.publish(this.options.channel, '');
    } catch (err) {
      // The write is done; other nodes see it when their entries expire (ttlMs).
      this.options.logger.error(
        { err, channel: this.options.channel },
        'could not tell other nodes of a change; their cached copies expire by themselves',
      );
    }
  }

  private clearLocal(): void {
    this.generation++;
    this.entries.clear();
  }
}
