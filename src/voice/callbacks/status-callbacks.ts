import type { WebhookMethod } from '../../webhook/index.js';
import type { CallbackOutbox } from './outbox.js';

export type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** Twilio's Timestamp of a status callback: RFC 2822 with a numeric zone. */
export function callbackTimestamp(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/**
 * One call's status callbacks: each event asked for, once, numbered in order (SequenceNumber)
 * and handed to the outbox, which stores it and delivers the call's callbacks one after
 * another, retried with backoff; the call never waits for a delivery.
 */
export class StatusCallbacks {
  private readonly sent = new Set<StatusEvent>();

  constructor(
    private readonly outbox: CallbackOutbox,
    private url: string | null,
    private method: WebhookMethod,
    private readonly events: ReadonlySet<StatusEvent>,
    /** The next SequenceNumber (a call recovered after a restart continues its numbering). */
    private sequence = 0,
  ) {}

  /** Calls update with StatusCallback: the events still to come go to the new URL. */
  retarget(url: string, method: WebhookMethod): void {
    this.url = url;
    this.method = method;
  }

  /**
   * Queues `event` with the call's parameters at this moment (a snapshot). Settles once it is
   * stored; `completed` is stored even when not asked for, as the end of the call's chain.
   */
  emit(
    event: StatusEvent,
    params: Readonly<Record<string, string>>,
    sendAfter?: Promise<unknown>,
  ): Promise<void> {
    const send = this.events.has(event);
    const closes = event === 'completed';
    if (!this.url || this.sent.has(event) || (!send && !(closes && this.sequence > 0)))
      return Promise.resolve();
    this.sent.add(event);
    const now = Date.now();
    const seq = send ? this.sequence++ : this.sequence;
    return this.outbox.enqueue({
      chain: params.CallSid ?? '',
      seq,
      accountSid: params.AccountSid ?? '',
      url: this.url,
      method: this.method,
      params: send
        ? {
            ...params,
            CallbackSource: 'call-progress-events',
            SequenceNumber: String(seq),
            Timestamp: callbackTimestamp(now),
          }
        : {},
      send,
      closes,
      createdMs: now,
      ...(sendAfter ? { sendAfter } : {}),
    });
  }

  /**
   * For an event a write records (the call's end): the callback is stored before `write`
   * runs and sent after it settled, so that a crash between the two loses nothing and a
   * receiver that fetches the call on its callback finds the write done.
   */
  async emitAround(
    event: StatusEvent,
    params: Readonly<Record<string, string>>,
    write: () => Promise<void>,
  ): Promise<void> {
    let open!: () => void;
    const written = new Promise<void>((r) => (open = r));
    await this.emit(event, params, written);
    try {
      await write();
    } finally {
      open();
    }
  }
}
