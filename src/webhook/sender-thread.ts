// The thread behind WebhookSender (sender.ts): receives batches of webhooks and posts them in
// order per key; reports failures, and answers a drain once everything given before it is done.
import { parentPort, workerData } from 'node:worker_threads';
import { setAddressPolicy, type AddressPolicyOptions } from './address-policy.js';
import { webhookAgent, type WebhookRequest } from './client.js';
import { OrderedWebhooks } from './ordered.js';

export interface SenderThreadData {
  readonly module: string;
  readonly pipelining: number;
  /** The address policy of the process that started the thread. */
  readonly policy: AddressPolicyOptions;
}

export type ToThread =
  | { readonly kind: 'send'; readonly batch: readonly (readonly [string, WebhookRequest])[] }
  | { readonly kind: 'drain'; readonly id: number }
  | { readonly kind: 'policy'; readonly policy: AddressPolicyOptions };

export type FromThread =
  | {
      readonly kind: 'failed';
      readonly key: string;
      readonly url: string;
      readonly outcome: number | string;
    }
  | { readonly kind: 'drained'; readonly id: number };

/**
 * Requests in flight to one origin. Callbacks come in bursts (every status a commit stored),
 * and without a bound each burst opened as many connections as it had callbacks: over two
 * thousand to one receiver in a benchmark of ten thousand messages, each set up and torn down
 * at a cost. 128 in flight carry thousands of callbacks a second even to a receiver tens of
 * milliseconds away; beyond that they wait their turn here. With pipelining they share fewer
 * connections: a write and a read then carry several callbacks, on both ends (bench/messaging,
 * three alternating pairs: 16 connections x 8 against 128 x 1, end to end +6–12%, platform CPU
 * per message -6–13%, the receiver's too; 16 x 1 was slower than both).
 */
const IN_FLIGHT_PER_ORIGIN = 128;

const port = parentPort;
if (port) {
  // This thread's own pool (a worker thread has its own module state), under the same policy.
  const data = workerData as SenderThreadData;
  setAddressPolicy(data.policy);
  const pipelining = Math.max(1, data.pipelining);
  webhookAgent({ connections: Math.ceil(IN_FLIGHT_PER_ORIGIN / pipelining), pipelining });
  const webhooks = new OrderedWebhooks((f) =>
    port.postMessage({ kind: 'failed', ...f } satisfies FromThread),
  );
  port.on('message', (m: ToThread) => {
    if (m.kind === 'send') {
      for (const [key, req] of m.batch) webhooks.send(key, req);
    } else if (m.kind === 'policy') {
      setAddressPolicy(m.policy);
    } else {
      void webhooks
        .drain()
        .then(() => port.postMessage({ kind: 'drained', id: m.id } satisfies FromThread));
    }
  });
}
