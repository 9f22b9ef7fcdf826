// Webhooks posted off the event loop: a worker thread of its own signs them, sends them on its
// own keep-alive pool, retries them, and keeps them in order per key (ordered.ts). Status
// callbacks go out at thousands per second, each an HTTP exchange whose client side (request,
// response parsing, HMAC signature, timers) costs tens of microseconds of CPU; on the thread
// that costs the API and the carriers nothing. Webhooks given in the same turn of the event
// loop travel to the thread as one message. Should the thread die, the webhooks still pending
// there are lost (logged) and the next ones are sent from this thread instead.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/index.js';
import { addressPolicy, onAddressPolicy } from './address-policy.js';
import type { WebhookRequest } from './client.js';
import { OrderedWebhooks, type WebhookFailure } from './ordered.js';
import type { FromThread, SenderThreadData, ToThread } from './sender-thread.js';

// Loads the thread's module: through tsx's loader when it is TypeScript (npm start, tests),
// as is once built.
const BOOT = `
const { workerData } = require('node:worker_threads');
const load = workerData.module.endsWith('.ts')
  ? import('tsx/esm/api').then(({ tsImport }) => tsImport(workerData.module, workerData.module))
  : import(workerData.module);
load.catch((err) => {
  console.error('webhook sender thread failed to start:', err);
  process.exit(1);
});
`;

export class WebhookSender {
  private worker: Worker | undefined;
  /** Used once the thread is gone. */
  private here: OrderedWebhooks | undefined;
  private batch: (readonly [string, WebhookRequest])[] = [];
  private scheduled = false;
  private drains = new Map<number, () => void>();
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    /** What the webhooks are, for the log ('status callback'). */
    private readonly what = 'webhook',
    /**
     * Requests sent back to back on one connection before the first is answered (HTTP/1.1
     * pipelining), for the deliveries that are retried anyway (WebhookRequest.retryOnStatus).
     */
    private readonly pipelining = 1,
  ) {}

  /**
   * Starts the thread ahead of the first webhook (it takes a moment to load; webhooks given
   * meanwhile wait in its port, and a burst of them would each open a connection).
   */
  start(): void {
    if (!this.here) this.thread();
  }

  /** Queues a webhook; those with the same key are posted in the order given. */
  send(key: string, req: WebhookRequest): void {
    if (this.here) return this.here.send(key, req);
    this.batch.push([key, req]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Resolves once every webhook given so far has been answered or given up. */
  async drain(): Promise<void> {
    this.flush();
    const worker = this.worker;
    if (worker) {
      const id = ++this.sequence;
      await new Promise<void>((resolve) => {
        this.drains.set(id, resolve);
        worker.ref();
        worker.postMessage({ kind: 'drain', id } satisfies ToThread);
      });
    }
    await this.here?.drain();
  }

  /** Drains, then stops the thread. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.batch.length) return;
    const batch = this.batch;
    this.batch = [];
    if (this.here) {
      for (const [key, req] of batch) this.here.send(key, req);
      return;
    }
    this.thread().postMessage({ kind: 'send', batch } satisfies ToThread);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const module = new URL(
      import.meta.url.endsWith('.ts') ? './sender-thread.ts' : './sender-thread.js',
      import.meta.url,
    ).href;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: {
        module,
        pipelining: this.pipelining,
        policy: addressPolicy().options,
      } satisfies SenderThreadData,
    });
    // Pending webhooks do not keep a process alive that is otherwise done (close() drains them).
    worker.unref();
    // The thread follows the policy (the platform adds its API port once it listens).
    const unfollow = onAddressPolicy((policy) => {
      if (this.worker === worker) worker.postMessage({ kind: 'policy', policy } satisfies ToThread);
    });
    worker.once('exit', unfollow);
    worker.on('message', (m: FromThread) => {
      if (m.kind === 'failed') this.failed(m);
      else {
        this.drains.get(m.id)?.();
        this.drains.delete(m.id);
        if (!this.drains.size) worker.unref();
      }
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.logger.error(`${this.what} thread ${why}; they now go out from the main thread`);
      this.here = new OrderedWebhooks((f) => this.failed(f));
      for (const resolve of this.drains.values()) resolve();
      this.drains.clear();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) lost(`exited (${code})`);
    });
    this.worker = worker;
    return worker;
  }

  private failed(f: WebhookFailure): void {
    this.logger.warn({ key: f.key, url: f.url, outcome: f.outcome }, `${this.what} failed`);
  }
}
