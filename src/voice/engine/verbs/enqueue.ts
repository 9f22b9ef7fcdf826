// <Enqueue>: the caller waits in a queue, hearing the waitUrl's TwiML in a loop, until a
// <Dial><Queue> takes it (bridged), the API dequeues it (redirected), the waitUrl says
// <Leave> (leave) or <Hangup>, or the caller hangs up (hangup). Then the action URL is
// requested with QueueResult, QueueSid and QueueTime, as on Twilio.
import { resolveUrl, type Next, type VerbContext } from '../context.js';
import { gather } from './gather.js';
import { runPrompt } from './prompts.js';
import type { EnqueueVerb, Verb } from '../../twiml/index.js';
import type { DequeueOutcome, DequeueRequest, MemberRow, QueueRow } from '../../queues/index.js';

type QueueResult = 'bridged' | 'queue-full' | 'redirected' | 'leave' | 'hangup';

/** A waitUrl document may not end faster than this before it is requested again. */
const MIN_WAIT_CYCLE_MS = 1000;
/** Without a waitUrl the caller hears silence (no hold music ships with Switchboard). */
const DEFAULT_HOLD_MS = 5000;

type WaitEnd =
  | { readonly kind: 'leave' | 'hangup' | 'gone' }
  | { readonly kind: 'dequeued'; readonly request: DequeueRequest };

export async function enqueue(ctx: VerbContext, verb: EnqueueVerb): Promise<Next | undefined> {
  const { store } = ctx.queues;
  const callSid = ctx.params().CallSid ?? '';
  const accountSid = ctx.params().AccountSid ?? '';
  // maxQueueSize sizes a queue this <Enqueue> creates; an existing queue keeps its MaxSize.
  const queue = await store.ensure(accountSid, verb.name, verb.maxQueueSize);
  const joined = await store.join(queue, callSid, ctx.queues.nodeId, Date.now());
  if (joined.kind === 'full') return action(ctx, verb, 'queue-full', undefined, undefined);
  const { member } = joined;
  const waiting = new Waiting();
  const unregister = ctx.queues.register(callSid, (req) => waiting.offer(req));
  try {
    for (;;) {
      const end = await waitInQueue(ctx, verb, queue, member, waiting);
      if (end.kind === 'dequeued') {
        const result = await connect(ctx, queue, member, end.request);
        waiting.finish(result);
        if (result.bridged) return action(ctx, verb, 'bridged', queue, member);
        if (ctx.channel.isEnded) return action(ctx, verb, 'hangup', queue, member);
        if (!ctx.signal.aborted) {
          // The dequeuer went away before the bridge: back to the same place in the queue.
          await store.restore(member);
          waiting.reset();
          continue;
        }
        return redirected(ctx, verb, queue, member);
      }
      waiting.close();
      // Whoever deletes the member row owns the exit; a dequeue may have won the race and is
      // then told the member is gone.
      await store.remove(callSid, queue.sid);
      if (end.kind === 'leave') return action(ctx, verb, 'leave', queue, member);
      if (end.kind === 'hangup' || ctx.channel.isEnded) {
        ctx.channel.hangup();
        return action(ctx, verb, 'hangup', queue, member);
      }
      return redirected(ctx, verb, queue, member);
    }
  } finally {
    waiting.close();
    unregister();
  }
}

/**
 * The API moved the call (Calls or Members update): the action is requested right away and its
 * TwiML ignored, because the call now runs the new URL.
 */
function redirected(
  ctx: VerbContext,
  verb: EnqueueVerb,
  queue: QueueRow,
  member: MemberRow,
): Next | undefined {
  const next = action(ctx, verb, 'redirected', queue, member);
  if (next?.kind === 'fetch') void ctx.fetchTwiml(next.url, next.method, next.params);
  return undefined;
}

/** The waiting member's side of the dequeue handshake. */
class Waiting {
  private controller = new AbortController();
  private request: DequeueRequest | undefined;
  private report: ((o: DequeueOutcome) => void) | undefined;
  private closed = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get current(): DequeueRequest | undefined {
    return this.request;
  }

  /** A dequeuer took this member: stop the wait music; resolves when the bridge is over. */
  offer(req: DequeueRequest): Promise<DequeueOutcome> {
    if (this.closed || this.request) return Promise.resolve({ bridged: false, durationS: 0 });
    this.request = req;
    this.controller.abort();
    return new Promise((r) => (this.report = r));
  }

  finish(outcome: DequeueOutcome): void {
    this.report?.(outcome);
    this.report = undefined;
  }

  reset(): void {
    this.finish({ bridged: false, durationS: 0 });
    this.request = undefined;
    this.controller = new AbortController();
  }

  close(): void {
    this.closed = true;
    this.finish({ bridged: false, durationS: 0 });
  }
}

function action(
  ctx: VerbContext,
  verb: EnqueueVerb,
  result: QueueResult,
  queue: QueueRow | undefined,
  member: MemberRow | undefined,
): Next | undefined {
  if (!verb.action) return undefined;
  const params: Record<string, string> = { ...ctx.params(), QueueResult: result };
  if (queue && member) {
    params.QueueSid = queue.sid;
    params.QueueTime = String(Math.floor((Date.now() - member.date_enqueued) / 1000));
  }
  return { kind: 'fetch', url: resolveUrl(ctx, verb.action), method: verb.method, params };
}

/** Plays the waitUrl's TwiML in a loop until something takes the caller out of the queue. */
async function waitInQueue(
  ctx: VerbContext,
  verb: EnqueueVerb,
  queue: QueueRow,
  member: MemberRow,
  waiting: Waiting,
): Promise<WaitEnd> {
  const signal = AbortSignal.any([ctx.signal, waiting.signal]);
  const waitCtx: VerbContext = { ...ctx, signal };
  const ended = (): WaitEnd | undefined => {
    const r = waiting.current;
    if (r) return { kind: 'dequeued', request: r };
    if (ctx.signal.aborted) return { kind: 'gone' };
    return undefined;
  };
  const waitUrl = verb.waitUrl ? resolveUrl(ctx, verb.waitUrl) : undefined;
  const fetchWait = async (url: string, method: 'GET' | 'POST') => {
    const params = {
      ...ctx.params(),
      ...(await ctx.queues.waitParams(queue, member, Date.now())),
    };
    return ctx.fetchTwiml(url, method, params);
  };
  let doc: { verbs: Verb[]; url: string } | undefined;
  let redirected = false;
  for (;;) {
    const cycleStart = Date.now();
    const stop = ended();
    if (stop) return stop;
    if (!redirected) doc = waitUrl ? await fetchWait(waitUrl, verb.waitUrlMethod) : undefined;
    redirected = false;
    if (ended()) return ended() as WaitEnd;
    const docCtx: VerbContext = doc ? { ...waitCtx, documentUrl: doc.url } : waitCtx;
    for (const v of doc?.verbs ?? []) {
      if (signal.aborted) break;
      switch (v.verb) {
        case 'Leave':
          return { kind: 'leave' };
        case 'Hangup':
          return { kind: 'hangup' };
        case 'Say':
        case 'Play':
        case 'Pause':
          await runPrompt(docCtx, v);
          break;
        case 'Gather': {
          const next = await gather(docCtx, v);
          if (next?.kind === 'fetch') {
            doc = await ctx.fetchTwiml(next.url, next.method, next.params);
            redirected = true;
          }
          break;
        }
        case 'Redirect':
          doc = await fetchWait(resolveUrl(docCtx, v.target), v.method);
          redirected = true;
          break;
        default:
          ctx.notify(
            12200,
            `<${v.verb}> is not allowed in a waitUrl document (Play, Say, Pause, Gather, Redirect, Leave, Hangup are)`,
            doc?.url ?? null,
          );
      }
      if (redirected) break;
    }
    if (redirected) continue;
    // An empty or failed document must not turn into a tight loop of webhook requests.
    const rest = doc ? MIN_WAIT_CYCLE_MS - (Date.now() - cycleStart) : DEFAULT_HOLD_MS;
    if (rest > 0 && !signal.aborted)
      await runPrompt(waitCtx, { verb: 'Pause', lengthS: Math.ceil(rest / 1000) });
  }
}

/**
 * The member's half of a dequeue: plays the dequeuer's `url` TwiML to the member, then
 * bridges the two legs until either side ends or moves on.
 */
async function connect(
  ctx: VerbContext,
  queue: QueueRow,
  member: MemberRow,
  req: DequeueRequest,
): Promise<DequeueOutcome> {
  const signal = AbortSignal.any([ctx.signal, req.agentSignal]);
  const gone = () => ctx.channel.isEnded || signal.aborted;
  if (gone()) return { bridged: false, durationS: 0 };
  if (req.url) await whisper(ctx, queue, member, req, signal);
  if (gone()) return { bridged: false, durationS: 0 };
  const leg = await req.connectAgent();
  if (!leg) return { bridged: false, durationS: 0 };
  if (gone() || leg.channel.isEnded) {
    leg.release();
    return { bridged: false, durationS: 0 };
  }
  const start = Date.now();
  const unbridge = ctx.channel.bridge(leg.channel);
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    void ctx.channel.ended.then(() => resolve());
    void leg.channel.ended.then(() => resolve());
  });
  unbridge();
  leg.release();
  return { bridged: true, durationS: Math.round((Date.now() - start) / 1000) };
}

/** Redirects a whisper may follow before it counts as a loop. */
const MAX_WHISPER_REDIRECTS = 10;

/**
 * The `<Queue url>` document, played to the member before the bridge: Play, Say, Pause and
 * Redirect, as on Twilio.
 */
async function whisper(
  ctx: VerbContext,
  queue: QueueRow,
  member: MemberRow,
  req: DequeueRequest,
  signal: AbortSignal,
): Promise<void> {
  const params = {
    ...ctx.params(),
    QueueSid: queue.sid,
    QueueTime: String(Math.floor((Date.now() - member.date_enqueued) / 1000)),
    DequeingCallSid: req.agentCallSid,
  };
  let doc = await ctx.fetchTwiml(req.url ?? '', req.method, params);
  for (let redirects = 0; doc && redirects <= MAX_WHISPER_REDIRECTS; redirects++) {
    const docCtx: VerbContext = { ...ctx, signal, documentUrl: doc.url };
    let next: { url: string; method: 'GET' | 'POST' } | undefined;
    for (const v of doc.verbs) {
      if (signal.aborted) return;
      if (v.verb === 'Say' || v.verb === 'Play' || v.verb === 'Pause') await runPrompt(docCtx, v);
      else if (v.verb === 'Redirect') {
        next = { url: resolveUrl(docCtx, v.target), method: v.method };
        break;
      } else
        ctx.notify(
          12200,
          `<${v.verb}> is not allowed in a <Queue url> document (Play, Say, Pause, Redirect are)`,
          doc.url,
        );
    }
    if (!next || signal.aborted) return;
    doc = await ctx.fetchTwiml(next.url, next.method, params);
  }
}
