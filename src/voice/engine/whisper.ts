// The `url` of a <Number>, <Sip> or <Client>: TwiML run on the called party once it answers,
// before it is connected to the caller ("call from the support line, press 1 to accept").
// Say, Play, Pause, Gather, Redirect and Hangup run there, as on Twilio; a <Hangup> declines
// the call. Any other verb is skipped with a 12200 notification.
import { resolveUrl, type PromptContext } from './context.js';
import { gather } from './verbs/gather.js';
import { runPrompt } from './verbs/prompts.js';
import type { HttpMethod, Verb } from '../twiml/index.js';

export interface WhisperContext extends PromptContext {
  /** Fetches a document for the called party (signed with its call's parameters). */
  fetchTwiml(
    url: string,
    method: HttpMethod,
    params: Record<string, string>,
  ): Promise<{ verbs: Verb[]; url: string } | undefined>;
}

/** Documents a whisper may go through (Redirect, Gather actions) before it counts as a loop. */
const MAX_DOCUMENTS = 10;

/** Runs the whisper; resolves `accepted` when the parties may be connected. */
export async function whisper(
  ctx: WhisperContext,
  url: string,
  method: HttpMethod,
): Promise<'accepted' | 'declined'> {
  let doc = await ctx.fetchTwiml(url, method, ctx.params());
  for (let n = 0; doc && n < MAX_DOCUMENTS; n++) {
    const docCtx: WhisperContext = { ...ctx, documentUrl: doc.url };
    let next: { url: string; method: HttpMethod; params: Record<string, string> } | undefined;
    for (const v of doc.verbs) {
      if (ctx.signal.aborted || ctx.channel.isEnded) return 'declined';
      if (v.verb === 'Say' || v.verb === 'Play' || v.verb === 'Pause') await runPrompt(docCtx, v);
      else if (v.verb === 'Hangup' || v.verb === 'Reject') return 'declined';
      else if (v.verb === 'Redirect') {
        next = { url: resolveUrl(docCtx, v.target), method: v.method, params: ctx.params() };
        break;
      } else if (v.verb === 'Gather') {
        const got = await gather(docCtx, v);
        if (got?.kind === 'fetch') {
          next = { url: got.url, method: got.method, params: { ...got.params } };
          break;
        }
      } else
        ctx.notify(
          12200,
          `<${v.verb}> cannot run on the called party (Say, Play, Pause, Gather, Redirect, Hangup can)`,
          doc.url,
        );
    }
    if (!next) return ctx.channel.isEnded || ctx.signal.aborted ? 'declined' : 'accepted';
    doc = await ctx.fetchTwiml(next.url, next.method, next.params);
  }
  return doc ? 'declined' : 'accepted';
}
