// <Dial> with several nouns rings them all at once (Twilio: up to ten <Number>/<Sip>/<Client>).
// The first leg to answer wins; every other leg is cancelled (a SIP CANCEL, 487 on their
// side), and a leg that answers a moment after the winner is hung up (BYE).
import { newSid, type Logger } from '../../core/index.js';
import type { CallStore, CallRow } from '../calls/index.js';
import type { DialNoun, DialVerb, LegOptions } from '../twiml/index.js';
import type { CallChannel, DialOutcome, Dialer } from '../ports/index.js';
import { callParams } from './call-params.js';
import { type CallbackOutbox, StatusCallbacks, type StatusEvent } from '../callbacks/index.js';

export interface RingAllDeps {
  readonly calls: CallStore;
  /** Where the legs' status callbacks are stored and delivered from. */
  readonly outbox: CallbackOutbox;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly onChildCall: (parent: CallRow, child: CallRow) => void;
}

type FailedStatus = 'busy' | 'no-answer' | 'failed' | 'canceled';

export type RingOutcome =
  | {
      readonly ok: true;
      readonly row: CallRow;
      readonly channel: CallChannel;
      readonly answeredAt: number;
      /** The noun that answered: its whisper and DTMF run before the bridge. */
      readonly noun: DialNoun;
      /** The leg's own status callbacks (its noun's statusCallback); completed is still to come. */
      readonly callbacks: StatusCallbacks | undefined;
    }
  | { readonly ok: false; readonly status: FailedStatus; readonly callSid: string | undefined };

/**
 * When every leg fails, DialCallStatus is the outcome closest to success: a leg that rang
 * without an answer (no-answer) over a busy one, over a failure. `canceled` only when the
 * caller hung up while the legs rang.
 */
const RANK: Readonly<Record<FailedStatus, number>> = {
  'no-answer': 3,
  busy: 2,
  failed: 1,
  canceled: 0,
};

function target(noun: DialNoun): string {
  return noun.noun === 'Number'
    ? noun.number
    : noun.noun === 'Sip'
      ? noun.uri
      : noun.noun === 'Client'
        ? `client:${noun.identity}`
        : ''; // a <Conference> is joined (verbs/dial.ts), never rung
}

/** A noun's statusCallback, method and events (Twilio's default: completed only). */
function legStatusCallback(noun: DialNoun) {
  const o: Partial<LegOptions> = noun.noun === 'Conference' ? {} : noun;
  return {
    url: o.statusCallback ?? null,
    method: o.statusCallbackMethod ?? 'POST',
    events: o.statusCallbackEvents ?? (['completed'] as StatusEvent[]),
  };
}

function legCallbacks(deps: RingAllDeps, noun: DialNoun): StatusCallbacks | undefined {
  const c = legStatusCallback(noun);
  if (!c.url) return undefined;
  return new StatusCallbacks(deps.outbox, c.url, c.method, new Set<StatusEvent>(c.events));
}

/**
 * Rings the nouns of `verb` for the caller on `caller` — all at once, or with `sequential`
 * one after another — and resolves with the winner or the best failure.
 */
export async function ringAll(
  deps: RingAllDeps,
  parent: CallRow,
  caller: CallChannel,
  verb: DialVerb,
  signal?: AbortSignal,
): Promise<RingOutcome> {
  if (!verb.sequential || verb.nouns.length < 2)
    return ringTogether(deps, parent, caller, verb, signal);
  let best: RingOutcome | undefined;
  for (const noun of verb.nouns) {
    const one = await ringTogether(deps, parent, caller, { ...verb, nouns: [noun] }, signal);
    if (one.ok || one.status === 'canceled') return one;
    if (!best || (!best.ok && RANK[one.status] > RANK[best.status])) best = one;
  }
  return best ?? { ok: false, status: 'failed', callSid: undefined };
}

async function ringTogether(
  deps: RingAllDeps,
  parent: CallRow,
  caller: CallChannel,
  verb: DialVerb,
  signal?: AbortSignal,
): Promise<RingOutcome> {
  if (caller.isEnded || signal?.aborted)
    return { ok: false, status: 'canceled', callSid: undefined };
  const now = Date.now();
  const legs = verb.nouns.map((noun) => {
    const callback = legStatusCallback(noun);
    const row: CallRow = {
      ...parent,
      sid: newSid('CA'),
      parent_call_sid: parent.sid,
      direction: 'outbound-dial',
      from: verb.callerId ?? parent.from,
      to: target(noun),
      status: 'queued',
      start_time: now,
      end_time: null,
      answered_time: null,
      url: null,
      fallback_url: null,
      status_callback: callback.url,
      status_callback_method: callback.method,
      status_callback_events: JSON.stringify(callback.events),
      sip_call_id: null,
      sip_response_code: null,
      sip_headers: '{}',
      // A leg is placed from its parent's caller ID, which no number resource stands for.
      phone_number_sid: null,
      date_created: now,
      date_updated: now,
    };
    return {
      noun,
      row,
      abort: new AbortController(),
      callbacks: legCallbacks(deps, noun),
    };
  });
  for (const leg of legs) {
    await deps.calls.insert(leg.row);
    deps.onChildCall(parent, leg.row);
    void leg.callbacks?.emit('initiated', callParams(leg.row));
  }

  let winner: (typeof legs)[number] | undefined;
  const cancelLosers = () => {
    for (const leg of legs) if (leg !== winner) leg.abort.abort();
  };
  void caller.ended.then(cancelLosers);
  // The call moved on (API redirect, spend-limit hand-off) while the legs rang.
  signal?.addEventListener('abort', cancelLosers, { once: true });

  const attempts = legs.map(async (leg) => {
    const { noun, row, callbacks } = leg;
    const ended = (status: CallRow['status']) => {
      row.status = status;
      void callbacks?.emit('completed', { ...callParams(row), CallDuration: '0' });
    };
    let outcome: DialOutcome;
    try {
      outcome = await deps.dialer.dial({
        to: row.to,
        from: row.from,
        timeoutS: verb.timeoutS,
        accountSid: row.account_sid,
        callSid: row.sid,
        ...(noun.noun === 'Client' && noun.parameters ? { clientParams: noun.parameters } : {}),
        credentials:
          noun.noun === 'Sip' && noun.username && noun.password
            ? { username: noun.username, password: noun.password }
            : undefined,
        headers: noun.noun === 'Sip' ? noun.headers : undefined,
        onRinging: () => {
          row.status = 'ringing';
          void deps.calls.update(row.sid, { status: 'ringing' });
          void callbacks?.emit('ringing', callParams(row));
        },
        signal: leg.abort.signal,
      });
    } catch (err) {
      deps.logger.error({ err, callSid: row.sid, to: row.to }, 'dial leg failed');
      outcome = { ok: false, status: 'failed', sipResponseCode: undefined };
    }
    if (outcome.ok && !winner && !caller.isEnded && !signal?.aborted) {
      winner = leg;
      cancelLosers();
      const answeredAt = Date.now();
      Object.assign(row, { status: 'in-progress', answered_time: answeredAt });
      await deps.calls.update(row.sid, {
        status: 'in-progress',
        answered_time: answeredAt,
        sip_call_id: outcome.sipCallId ?? null,
      });
      void callbacks?.emit('answered', callParams(row));
      return { ok: true as const, row, channel: outcome.channel, answeredAt, noun, callbacks };
    }
    if (outcome.ok) {
      // Answered just after another leg won (or after the caller left): release it.
      outcome.channel.hangup();
      await deps.calls.update(row.sid, {
        status: 'canceled',
        end_time: Date.now(),
        sip_call_id: outcome.sipCallId ?? null,
      });
      ended('canceled');
      return { ok: false as const, status: 'canceled' as const, callSid: row.sid };
    }
    await deps.calls.update(row.sid, {
      status: outcome.status,
      end_time: Date.now(),
      sip_response_code: outcome.sipResponseCode ?? null,
    });
    ended(outcome.status);
    return { ok: false as const, status: outcome.status, callSid: row.sid };
  });

  // The winner is known as soon as its leg answers; the losers settle in the background.
  return new Promise<RingOutcome>((resolve, reject) => {
    let left = attempts.length;
    let best: RingOutcome | undefined;
    for (const attempt of attempts) {
      attempt.then((result) => {
        if (result.ok) return resolve(result);
        if (!best || (!best.ok && RANK[result.status] > RANK[best.status])) best = result;
        if (--left === 0 && !winner)
          resolve(
            caller.isEnded || signal?.aborted
              ? { ok: false, status: 'canceled', callSid: undefined }
              : best,
          );
      }, reject);
    }
  });
}
