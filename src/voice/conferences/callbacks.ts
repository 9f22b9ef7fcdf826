import { rfc2822, type Logger } from '../../core/index.js';
import { callWebhook, type WebhookMethod } from '../../webhook/index.js';

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
 * A conference's status callbacks: one ordered chain per room (SequenceNumber counts them),
 * each retried with backoff; the room never waits for them.
 */
export class ConferenceCallbacks {
  private chain: Promise<void> = Promise.resolve();
  private sequence = 0;
  private target:
    | { url: string; method: WebhookMethod; events: ReadonlySet<string>; authToken: string }
    | undefined;

  constructor(private readonly logger: Logger) {}

  /** As on Twilio, the first participant whose TwiML names a statusCallback sets it. */
  configure(url: string, method: WebhookMethod, events: readonly string[], authToken: string) {
    this.target ??= { url, method, events: new Set(events), authToken };
  }

  emit(event: ConferenceEvent, params: Readonly<Record<string, string>>): void {
    const t = this.target;
    if (!t || !t.events.has(SELECTED_BY[event])) return;
    const body = {
      ...params,
      StatusCallbackEvent: event,
      SequenceNumber: String(++this.sequence),
      Timestamp: rfc2822(Date.now()) ?? '',
    };
    this.chain = this.chain.then(async () => {
      const out = await callWebhook({
        url: t.url,
        method: t.method,
        params: body,
        authToken: t.authToken,
        attempts: 4,
        retryOnStatus: true,
        timeoutMs: 10_000,
        firstDelayMs: 200,
      });
      if (!out.ok || out.status >= 400)
        this.logger.warn(
          { url: t.url, event, conferenceSid: params.ConferenceSid },
          'conference status callback failed after retries',
        );
    });
  }

  async drain(): Promise<void> {
    await this.chain;
  }
}
