// A small typed event emitter. Listener exceptions are caught and reported, never thrown
// back into the socket handler that triggered the event.

import { EventEmitter } from 'node:events';

type Listener<A extends unknown[]> = (...args: A) => void;
type EventMap<E> = { [K in keyof E]: unknown[] };

export class Emitter<E extends EventMap<E>> {
  private readonly ee = new EventEmitter();
  /** Receives exceptions thrown by listeners. */
  protected listenerError: (err: unknown) => void = () => {};

  on<K extends keyof E & string>(event: K, fn: Listener<E[K]>): this {
    this.ee.on(event, fn as Listener<unknown[]>);
    return this;
  }

  once<K extends keyof E & string>(event: K, fn: Listener<E[K]>): this {
    this.ee.once(event, fn as Listener<unknown[]>);
    return this;
  }

  off<K extends keyof E & string>(event: K, fn: Listener<E[K]>): this {
    this.ee.off(event, fn as Listener<unknown[]>);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.ee.listenerCount(event);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      return this.ee.emit(event, ...args);
    } catch (err) {
      this.listenerError(err);
      return true;
    }
  }
}
