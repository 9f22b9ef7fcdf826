import type { ChannelPlayback } from '../../ports/index.js';
import { until, type PromptContext } from '../context.js';
import type { Prompt } from '../../twiml/index.js';

/**
 * Plays one Say/Play/Pause; resolves when done, stopped, or the call moved on. A prompt that
 * cannot be made (no voice for the language, audio that cannot be fetched or decoded) is a
 * call notification — 13511 for a voice, 11200 for audio, as Twilio's warnings — and the
 * document goes on with its next verb.
 */
export async function runPrompt(
  ctx: PromptContext,
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
    try {
      if (prompt.verb === 'Say')
        playback = await until(
          ctx,
          channel.say(prompt.text, {
            voice: prompt.voice,
            language: prompt.language,
            ssml: prompt.ssml,
          }),
        );
      else if (prompt.verb === 'Play' && prompt.url)
        playback = await until(ctx, channel.play(resolveMediaUrl(ctx, prompt.url)));
      else if (prompt.verb === 'Pause') playback = channel.silence(prompt.lengthS * 1000);
    } catch (err) {
      const what =
        prompt.verb === 'Say' ? 'Say' : `Play ${prompt.verb === 'Play' ? prompt.url : ''}`;
      ctx.notify(
        prompt.verb === 'Say' ? 13511 : 11200,
        `<${what}>: ${(err as Error).message}`,
        ctx.documentUrl,
        'warning',
      );
      return;
    }
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

function resolveMediaUrl(ctx: PromptContext, url: string): string {
  return new URL(url, ctx.documentUrl).toString();
}
