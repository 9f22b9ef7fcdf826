import { resolveUrl, type Next, type PromptContext } from '../context.js';
import type { GatherVerb } from '../../twiml/index.js';
import { runPrompt } from './prompts.js';

/**
 * <Gather input="dtmf">: plays its prompts while listening; the first key stops them (unless
 * bargeIn="false"). Ends on finishOnKey, numDigits, or `timeout` seconds without a key after
 * the prompts (speech input is refused when the document is parsed).
 */
export async function gather(ctx: PromptContext, verb: GatherVerb): Promise<Next | undefined> {
  let digits = '';
  let finishedOnKey = '';
  const stopPrompts = new AbortController();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let timer: NodeJS.Timeout | undefined;
  let promptsOver = false;
  const armTimer = () => {
    clearTimeout(timer);
    if (promptsOver) timer = setTimeout(finish, verb.timeoutS * 1000);
  };
  const unsubscribe = ctx.channel.onDigit((d) => {
    // bargeIn (the default): the first key stops the prompts; without it they play out.
    if (verb.bargeIn) stopPrompts.abort();
    if (verb.finishOnKey && d === verb.finishOnKey) {
      finishedOnKey = d;
      finish();
      return;
    }
    digits += d;
    if (verb.numDigits !== undefined && digits.length >= verb.numDigits) finish();
    else armTimer();
  });
  const onAbort = () => finish();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (const p of verb.prompts) {
      if (stopPrompts.signal.aborted || ctx.signal.aborted) break;
      await runPrompt(ctx, p, stopPrompts.signal);
    }
    promptsOver = true;
    armTimer();
    await finished;
  } finally {
    clearTimeout(timer);
    unsubscribe();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (ctx.signal.aborted) return undefined;
  if (digits === '' && !verb.actionOnEmptyResult) return undefined;
  return {
    kind: 'fetch',
    url: verb.action ? resolveUrl(ctx, verb.action) : ctx.documentUrl,
    method: verb.method,
    params: { ...ctx.params(), Digits: digits, FinishedOnKey: finishedOnKey },
  };
}
