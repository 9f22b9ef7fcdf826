import type { WebhookMethod } from '../../webhook/index.js';
import type { CallbackOutbox } from './outbox.js';

export type RecordingEventName = 'in-progress' | 'completed' | 'absent' | 'failed';

/**
 * Recording status callbacks (recordingStatusCallback of <Record>, <Dial record>, <Conference
 * record> and the Call Recordings API) through the durable outbox: one chain per recording,
 * in order, each stored before its first attempt and retried with backoff. The recording's
 * end (completed, absent, failed) closes its chain, whether or not that event was asked for.
 */
export class RecordingCallbacks {
  /** Next seq per recording whose chain is open. */
  private readonly open = new Map<string, number>();

  constructor(private readonly outbox: CallbackOutbox) {}

  /** `selected`: the event is one the recordingStatusCallbackEvent list asked for. */
  event(
    target: { accountSid: string; url: string; method: WebhookMethod },
    params: Readonly<Record<string, string>> & { RecordingSid: string; RecordingStatus: string },
    selected: boolean,
  ): void {
    const sid = params.RecordingSid;
    const closes = params.RecordingStatus !== 'in-progress';
    const seq = this.open.get(sid);
    if (!selected && !(closes && seq !== undefined)) return;
    if (closes) this.open.delete(sid);
    else this.open.set(sid, (seq ?? 0) + 1);
    void this.outbox.enqueue({
      chain: sid,
      seq: seq ?? 0,
      accountSid: target.accountSid,
      url: target.url,
      method: target.method,
      params: selected ? params : {},
      send: selected,
      closes,
      createdMs: Date.now(),
    });
  }
}
