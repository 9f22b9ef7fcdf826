import type { ChannelPlayback } from '../channel.js';
import { until, type VerbContext } from '../context.js';
import type { Prompt } from '../../twiml/verbs.js';

/** Plays one Say/Play/Pause; resolves when done, stopped, or the call moved on. */
export async function runPrompt(
  ctx: VerbContext,
  prompt: Prompt,
  stopSignal?: AbortSignal,
): Promise<void> {
  const { channel } = ctx;
  if (prompt.verb === 'Play' && prompt.digits !== undefined) {
    await until(ctx, channel.sendDigits(prompt.digits));
    return;
  }
  // loop="0" means "until the call moves on"; bound it so a lost hang-up cannot spin forever.
  const times = prompt.verb === 'Pause' ? 1 : prompt.loop === 0 ? 1000 : prompt.loop;
  for (let i = 0; i < times; i++) {
    if (ctx.signal.aborted || stopSignal?.aborted) return;
    let playback: ChannelPlayback | undefined;
    if (prompt.verb === 'Say')
      playback = await until(
        ctx,
        channel.say(prompt.text, { voice: prompt.voice, language: prompt.language }),
      );
    else if (prompt.verb === 'Play' && prompt.url)
      playback = await until(ctx, channel.play(resolveMediaUrl(ctx, prompt.url)));
    else if (prompt.verb === 'Pause') playback = channel.silence(prompt.lengthS * 1000);
    if (!playback) return;
    const stop = () => playback?.stop();
    ctx.signal.addEventListener('abort', stop, { once: true });
    stopSignal?.addEventListener('abort', stop, { once: true });
    const how = await playback.done;
    ctx.signal.removeEventListener('abort', stop);
    stopSignal?.removeEventListener('abort', stop);
    if (how === 'stopped') return;
  }
}

function resolveMediaUrl(ctx: VerbContext, url: string): string {
  return new URL(url, ctx.documentUrl).toString();
}
