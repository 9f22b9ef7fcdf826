// Text-to-speech for <Say>: espeak-ng renders WAV to stdout, sox turns it into 8 kHz mono.
// Both run as child processes (never on the media loop). Rendered prompts are cached on disk
// under <dataDir>/tts/ by text + voice + rate, and in memory by the prompt store.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaToolError, SOX_TO_8K, run, samplesOf } from './sox.js';

export interface SayOptions {
  /** espeak-ng voice, as espeakVoice() names it (default "en-us"). */
  voice?: string;
  /** Words per minute (espeak-ng -s, default 160). */
  rate?: number;
  /** The text is SSML (the inside of <speak>): espeak-ng reads its markup (-m). */
  ssml?: boolean;
}

export class Tts {
  constructor(private readonly cacheDir: string | undefined) {}

  static key(text: string, options: SayOptions = {}): string {
    const voice = options.voice ?? 'en-us';
    const rate = options.rate ?? 160;
    const kind = options.ssml ? 'ssml' : 'text';
    return createHash('sha256')
      .update(`${voice}\0${rate}\0${kind}\0${text}`)
      .digest('hex')
      .slice(0, 40);
  }

  /** Renders text to 8 kHz samples; rejects with MediaToolError when espeak-ng or sox is missing. */
  async render(text: string, options: SayOptions = {}): Promise<Int16Array> {
    const voice = options.voice ?? 'en-us';
    const rate = Math.max(80, Math.min(450, Math.round(options.rate ?? 160)));
    const key = Tts.key(text, { voice, rate, ssml: options.ssml });
    const file = this.cacheDir ? join(this.cacheDir, `${key}.s16`) : undefined;
    if (file) {
      try {
        return samplesOf(await readFile(file));
      } catch {
        // not cached yet
      }
    }
    if (!/^[a-z0-9-]+(\+[a-z0-9]+)?$/.test(voice))
      throw new MediaToolError(`bad voice name "${voice}"`);
    // Text goes through stdin, so nothing in it can be read as an option.
    const markup = options.ssml ? ['-m'] : [];
    const wav = await run(
      'espeak-ng',
      ['--stdin', '--stdout', ...markup, '-v', voice, '-s', String(rate)],
      options.ssml ? `<speak>${text}</speak>` : text,
    );
    const raw = await run('sox', ['-V1', '-t', 'wav', '-', ...SOX_TO_8K], wav);
    if (file && this.cacheDir) {
      await mkdir(this.cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, raw);
      await rename(tmp, file);
    }
    return samplesOf(raw);
  }
}
