// Webhooks that must reach their receiver in order per key (a message's status callbacks:
// `sent` before `delivered`): each waits until the one before it with the same key has been
// answered or given up (retries included); different keys go out side by side.
import { callWebhook, type WebhookOutcome, type WebhookRequest } from './client.js';

/** A webhook that was not answered with a success after its attempts. */
export interface WebhookFailure {
  readonly key: string;
  readonly url: string;
  /** HTTP status of the last answer, or why there was none. */
  readonly outcome: number | string;
}

export class OrderedWebhooks {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly failed: (f: WebhookFailure) => void) {}

  send(key: string, req: WebhookRequest): void {
    const prev = this.tails.get(key);
    const next = (prev ? prev.then(() => this.call(key, req)) : this.call(key, req)).finally(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    this.tails.set(key, next);
  }

  /** Resolves once every webhook given so far is answered or given up. */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.allSettled([...this.tails.values()]);
  }

  private async call(key: string, req: WebhookRequest): Promise<void> {
    let res: WebhookOutcome;
    try {
      res = await callWebhook(req);
    } catch (e) {
      // callWebhook answers failures as values; anything thrown is a defect, reported the same way.
      this.failed({ key, url: req.url, outcome: (e as Error).message });
      return;
    }
    if (!res.ok || res.status >= 400) {
      this.failed({ key, url: req.url, outcome: res.ok ? res.status : res.message });
    }
  }
}
