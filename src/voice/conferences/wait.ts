// What a participant hears while the room has not started (waitUrl) or while on hold
// (HoldUrl): a TwiML document whose Say/Play/Pause repeat until the signal, an audio file
// played in a loop, silence (an empty URL), or the default: a short tone every few seconds,
// standing in for Twilio's hold music (which Switchboard does not ship).
import type { Logger } from '../../core/index.js';
import type { CallChannel, ChannelPlayback } from '../ports/index.js';
import { fetchTwiml, type HttpMethod, type Prompt } from '../twiml/index.js';

const AUDIO_FILE = /\.(wav|mp3|ogg|aiff?|gsm|ulaw|alaw)(\?.*)?$/i;
const DEFAULT_GAP_MS = 4600;

export interface WaitRequest {
  readonly channel: CallChannel;
  /** undefined = default tone loop; '' = silence. */
  readonly url: string | undefined;
  readonly method: HttpMethod;
  readonly params: Record<string, string>;
  readonly authToken: string;
  readonly logger: Logger;
  readonly timeoutMs: number;
  notify(code: number, message: string, url: string): void;
}

/** Plays until `signal` aborts (or the call ends); never rejects. */
export async function playWhileWaiting(req: WaitRequest, signal: AbortSignal): Promise<void> {
  const { channel } = req;
  const until = async (start: () => ChannelPlayback | Promise<ChannelPlayback>) => {
    if (signal.aborted || channel.isEnded) return false;
    const playback = await start();
    const stop = () => playback.stop();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) playback.stop();
    const how = await playback.done;
    signal.removeEventListener('abort', stop);
    return how === 'finished';
  };
  try {
    if (req.url === '') {
      while (await until(() => channel.silence(60_000)));
      return;
    }
    if (req.url === undefined) {
      while (
        (await until(() => channel.beep())) &&
        (await until(() => channel.silence(DEFAULT_GAP_MS)))
      );
      return;
    }
    const url = req.url;
    if (AUDIO_FILE.test(new URL(url).pathname)) {
      while (await until(() => channel.play(url)));
      return;
    }
    const doc = await fetchTwiml(
      { url, method: req.method, fallbackUrl: null, fallbackMethod: 'POST' },
      req.params,
      {
        authToken: req.authToken,
        logger: req.logger,
        timeoutMs: req.timeoutMs,
        notify: req.notify,
      },
    );
    const prompts = doc.ok
      ? doc.verbs.filter(
          (v): v is Prompt => v.verb === 'Say' || v.verb === 'Play' || v.verb === 'Pause',
        )
      : [];
    if (prompts.length === 0) {
      // Nothing playable: wait in silence rather than spin.
      while (await until(() => channel.silence(60_000)));
      return;
    }
    for (;;) {
      const started = Date.now();
      for (const p of prompts) {
        const times = p.verb === 'Pause' ? 1 : p.loop === 0 ? 1000 : p.loop;
        for (let i = 0; i < times; i++) {
          const ok = await until(() =>
            p.verb === 'Say'
              ? channel.say(p.text, { voice: p.voice, language: p.language, ssml: p.ssml })
              : p.verb === 'Play' && p.url
                ? channel.play(new URL(p.url, url).toString())
                : channel.silence(p.verb === 'Pause' ? p.lengthS * 1000 : 500),
          );
          if (!ok) return;
        }
      }
      // A document whose prompts take no time would otherwise loop without pause.
      if (Date.now() - started < 500 && !(await until(() => channel.silence(1000)))) return;
    }
  } catch (err) {
    req.logger.warn({ err, url: req.url }, 'conference wait audio failed; waiting in silence');
    while (await until(() => channel.silence(60_000)));
  }
}
