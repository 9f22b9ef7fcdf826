import { rfc2822 } from '../../core/index.js';
import type { WebhookMethod } from '../../webhook/index.js';
import type { CallbackOutbox } from '../callbacks/index.js';

/** Twilio's StatusCallbackEvent values for conferences, by the TwiML event that selects them. */
export type ConferenceEvent =
  | 'conference-start'
  | 'conference-end'
  | 'participant-join'
  | 'participant-leave'
  | 'participant-mute'
  | 'participant-unmute'
  | 'participant-hold'
  | 'participant-unhold';

const SELECTED_BY: Readonly<Record<ConferenceEvent, string>> = {
  'conference-start': 'start',
  'conference-end': 'end',
  'participant-join': 'join',
  'participant-leave': 'leave',
  'participant-mute': 'mute',
  'participant-unmute': 'mute',
  'participant-hold': 'hold',
  'participant-unhold': 'hold',
};

/**
 * A conference's status callbacks: one ordered chain per room (SequenceNumber counts them)
 * in the durable outbox, which stores each before its first attempt and retries it with
 * backoff; the room never waits for them. The room's end closes the chain, sent or not.
 */
export class ConferenceCallbacks {
  private sequence = 0;
  private target: { url: string; method: WebhookMethod; events: ReadonlySet<string> } | undefined;

  constructor(
    private readonly outbox: CallbackOutbox,
    private readonly accountSid: string,
  ) {}

  /** As on Twilio, the first participant whose TwiML names a statusCallback sets it. */
  configure(url: string, method: WebhookMethod, events: readonly string[]) {
    this.target ??= { url, method, events: new Set(events) };
  }

  emit(event: ConferenceEvent, params: Readonly<Record<string, string>>): void {
    const t = this.target;
    if (!t) return;
    const send = t.events.has(SELECTED_BY[event]);
    const closes = event === 'conference-end';
    if (!send && !(closes && this.sequence > 0)) return;
    const now = Date.now();
    const seq = send ? ++this.sequence : this.sequence + 1;
    void this.outbox.enqueue({
      chain: params.ConferenceSid ?? '',
      seq,
      accountSid: this.accountSid,
      url: t.url,
      method: t.method,
      params: send
        ? {
            ...params,
            StatusCallbackEvent: event,
            SequenceNumber: String(seq),
            Timestamp: rfc2822(now) ?? '',
          }
        : {},
      send,
      closes,
      createdMs: now,
    });
  }
}
