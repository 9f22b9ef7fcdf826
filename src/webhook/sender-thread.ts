// The thread behind WebhookSender (sender.ts): receives batches of webhooks and posts them in
// order per key; reports failures, and answers a drain once everything given before it is done.
import { parentPort } from 'node:worker_threads';
import { Agent, setGlobalDispatcher } from 'undici';
import type { WebhookRequest } from './client.js';
import { OrderedWebhooks } from './ordered.js';

export type ToThread =
  | { readonly kind: 'send'; readonly batch: readonly (readonly [string, WebhookRequest])[] }
  | { readonly kind: 'drain'; readonly id: number };

export type FromThread =
  | {
      readonly kind: 'failed';
      readonly key: string;
      readonly url: string;
      readonly outcome: number | string;
    }
  | { readonly kind: 'drained'; readonly id: number };

/**
 * Connections kept to one origin. Callbacks come in bursts (every status a commit stored), and
 * without a bound each burst opened as many connections as it had callbacks: over two
 * thousand to one receiver in a benchmark of ten thousand messages, each set up and torn down
 * at a cost. 128 keep-alive connections carry thousands of callbacks a second even to a
 * receiver tens of milliseconds away; beyond that they wait their turn here.
 */
const CONNECTIONS_PER_ORIGIN = 128;

const port = parentPort;
if (port) {
  // This thread's own dispatcher (a worker thread has its own undici globals).
  setGlobalDispatcher(new Agent({ connections: CONNECTIONS_PER_ORIGIN }));
  const webhooks = new OrderedWebhooks((f) =>
    port.postMessage({ kind: 'failed', ...f } satisfies FromThread),
  );
  port.on('message', (m: ToThread) => {
    if (m.kind === 'send') {
      for (const [key, req] of m.batch) webhooks.send(key, req);
    } else {
      void webhooks
        .drain()
        .then(() => port.postMessage({ kind: 'drained', id: m.id } satisfies FromThread));
    }
  });
}
