import type { Verb } from '../twiml/index.js';
import { resolveUrl, type Next, type VerbContext } from './context.js';
import { dial } from './verbs/dial.js';
import { dialQueue } from './verbs/dial-queue.js';
import { enqueue } from './verbs/enqueue.js';
import { gather } from './verbs/gather.js';
import { runPrompt } from './verbs/prompts.js';
import { record } from './verbs/record.js';

const MODULE_PREFIX = 'module:';

/**
 * Runs one TwiML document on a call. Returns where control goes next; a document that runs
 * out ends the call, as on Twilio.
 */
export async function runDocument(ctx: VerbContext, verbs: readonly Verb[]): Promise<Next> {
  for (const verb of verbs) {
    if (ctx.signal.aborted) return { kind: 'hangup' };
    let next: Next | undefined;
    switch (verb.verb) {
      case 'Say':
      case 'Play':
      case 'Pause':
        await runPrompt(ctx, verb);
        break;
      case 'Gather':
        next = await gather(ctx, verb);
        break;
      case 'Record':
        next = await record(ctx, verb);
        break;
      case 'Dial':
        next = await dial(ctx, verb);
        break;
      case 'Redirect':
        next = verb.target.startsWith(MODULE_PREFIX)
          ? { kind: 'module', code: verb.target.slice(MODULE_PREFIX.length).trim() }
          : {
              kind: 'fetch',
              url: resolveUrl(ctx, verb.target),
              method: verb.method,
              params: ctx.params(),
            };
        break;
      // ---- call queues ----
      case 'Enqueue':
        next = await enqueue(ctx, verb);
        break;
      case 'DialQueue':
        next = await dialQueue(ctx, verb);
        break;
      case 'Leave':
        // Outside a waitUrl document the call is in no queue: nothing to leave (as on Twilio).
        break;
      // ---- end call queues ----
      case 'StartRecording':
        ctx.startCallRecording(verb);
        break;
      case 'Hangup':
        return { kind: 'hangup' };
      case 'Reject':
        return { kind: 'reject', reason: verb.reason };
    }
    if (next) return next;
  }
  return { kind: 'hangup' };
}
