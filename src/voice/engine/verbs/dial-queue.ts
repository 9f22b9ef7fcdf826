// <Dial><Queue>: takes the front member of a queue and bridges it to this call. An empty queue
// is watched until someone joins or the Dial timeout passes; a queue that does not exist is
// an error status to the action, as on Twilio.
import { resolveUrl, type Next, type VerbContext } from '../context.js';
import type { DialQueueVerb } from '../../twiml/index.js';
import type { DequeueOutcome, MemberRow, QueueRow } from '../../queues/index.js';

/** How often an empty queue is looked at again (members may join on any node). */
const POLL_MS = 250;

type Dequeued = { member: MemberRow; outcome: DequeueOutcome; at: number };

export async function dialQueue(ctx: VerbContext, verb: DialQueueVerb): Promise<Next | undefined> {
  const { store } = ctx.queues;
  const params = ctx.params();
  const queue = await store.byName(params.AccountSid ?? '', verb.queue);
  if (!queue) {
    ctx.notify(
      20404,
      `<Dial><Queue>: no queue named "${verb.queue}" in this account`,
      ctx.documentUrl,
    );
    return after(ctx, verb, 'failed', undefined, undefined);
  }
  const dequeued = await takeAndBridge(ctx, verb, queue);
  if (!dequeued) {
    // Redirected by the API: the new TwiML runs, not the action.
    if (ctx.signal.aborted && !ctx.channel.isEnded) return undefined;
    return after(ctx, verb, ctx.channel.isEnded ? 'canceled' : 'no-answer', queue, undefined);
  }
  return after(ctx, verb, 'completed', queue, dequeued);
}

async function takeAndBridge(
  ctx: VerbContext,
  verb: DialQueueVerb,
  queue: QueueRow,
): Promise<Dequeued | undefined> {
  const { store } = ctx.queues;
  const deadline = Date.now() + verb.timeoutS * 1000;
  // The dequeuing side stops the bridge: hang-up, API redirect, timeLimit, or `*`.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  void ctx.channel.ended.then(onAbort);
  let limit: NodeJS.Timeout | undefined;
  const unsubscribeStar = verb.hangupOnStar
    ? ctx.channel.onDigit((d) => d === '*' && stop.abort())
    : () => undefined;
  try {
    while (!stop.signal.aborted && Date.now() < deadline) {
      const member = await store.claimFront(queue.sid);
      if (!member) {
        await sleep(POLL_MS, stop.signal);
        continue;
      }
      const at = Date.now();
      limit = setTimeout(() => stop.abort(), verb.timeLimitS * 1000);
      const outcome = await ctx.queues.dequeue(member, {
        agentCallSid: ctx.params().CallSid ?? '',
        agent: ctx.channel,
        url: verb.url ? resolveUrl(ctx, verb.url) : undefined,
        method: verb.urlMethod,
        agentSignal: stop.signal,
      });
      clearTimeout(limit);
      if (outcome.bridged) return { member, outcome, at };
      // The member left or hung up before the bridge: try the next one.
    }
    return undefined;
  } finally {
    clearTimeout(limit);
    unsubscribeStar();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** The Dial action: Twilio's DialCallStatus, plus the queue's SID and the dequeued call. */
function after(
  ctx: VerbContext,
  verb: DialQueueVerb,
  status: 'completed' | 'failed' | 'no-answer' | 'canceled',
  queue: QueueRow | undefined,
  dequeued: Dequeued | undefined,
): Next | undefined {
  if (!verb.action) return undefined;
  const params: Record<string, string> = {
    ...ctx.params(),
    DialCallStatus: status,
    DequeueResult: dequeued
      ? 'bridged'
      : !queue
        ? 'queue-not-found'
        : status === 'canceled'
          ? 'hangup'
          : 'queue-empty',
  };
  if (queue) params.QueueSid = queue.sid;
  if (dequeued) {
    params.DialCallSid = dequeued.member.call_sid;
    params.DialCallDuration = String(dequeued.outcome.durationS);
    params.DequeuedCallSid = dequeued.member.call_sid;
    params.DequeuedCallQueueTime = String(
      Math.floor((dequeued.at - dequeued.member.date_enqueued) / 1000),
    );
    params.DequeuedCallDuration = String(dequeued.outcome.durationS);
  } else params.DialCallDuration = '0';
  return { kind: 'fetch', url: resolveUrl(ctx, verb.action), method: verb.method, params };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
