import type { Logger } from '../../core/index.js';
import { callWebhook, type WebhookMethod } from '../../webhook/index.js';

export type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/**
 * Delivers one call's status callbacks exactly once each and in order: events go through a
 * per-call chain, each retried with backoff, and the call never waits for them.
 */
export class StatusCallbacks {
  private chain: Promise<void> = Promise.resolve();
  private sequence = 0;
  private readonly sent = new Set<StatusEvent>();

  constructor(
    private url: string | null,
    private method: WebhookMethod,
    private readonly events: ReadonlySet<StatusEvent>,
    private readonly authToken: string,
    private readonly logger: Logger,
    private readonly attempts = 4,
  ) {}

  /** Calls update with StatusCallback: the events still to come go to the new URL. */
  retarget(url: string, method: WebhookMethod): void {
    this.url = url;
    this.method = method;
  }

  /** Queues `event` with the call's parameters at this moment (a snapshot). */
  emit(event: StatusEvent, params: Readonly<Record<string, string>>): void {
    if (!this.url || !this.events.has(event) || this.sent.has(event)) return;
    this.sent.add(event);
    const { url, method } = this;
    const body = {
      ...params,
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(this.sequence++),
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
    };
    this.chain = this.chain.then(async () => {
      const out = await callWebhook({
        url,
        method,
        params: body,
        authToken: this.authToken,
        attempts: this.attempts,
        retryOnStatus: true,
        timeoutMs: 10_000,
        firstDelayMs: 200,
      });
      if (!out.ok || out.status >= 400) {
        this.logger.warn(
          { url, event, callSid: params.CallSid, outcome: out.ok ? out.status : out.message },
          'status callback failed after retries',
        );
      }
    });
  }

  /** Resolves when every queued callback has been attempted (for shutdown and tests). */
  async drain(): Promise<void> {
    await this.chain;
  }
}
