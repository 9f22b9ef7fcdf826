// The thread behind WebhookSender (sender.ts): receives batches of webhooks and posts them in
// order per key; reports failures, and answers a drain once everything given before it is done.
import { parentPort } from 'node:worker_threads';
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

const port = parentPort;
if (port) {
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
