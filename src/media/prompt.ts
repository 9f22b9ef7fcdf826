// Prompts: audio decoded once to 8 kHz 16-bit mono when created, then cached, so playback
// is a copy per tick. Sources: WAV files (any common rate/depth; 8 kHz files are read here,
// others resampled by sox), http(s) URLs (bounded time and size), and text-to-speech.

import { stat, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../core/index.js';
import { fetchResource } from '../webhook/index.js';
import { soxTo8k } from './sox.js';
import { Tts, type SayOptions } from './tts.js';
import { espeakVoice } from './tts-voices.js';
import type { Prompt } from './types.js';
import { WavFormatError, readWav, toMono16 } from './wav.js';

export class PromptError extends Error {
  override readonly name = 'PromptError';
}

export interface PromptStoreOptions {
  ttsCacheDir?: string | undefined;
  fetchTimeoutMs?: number | undefined;
  fetchMaxBytes?: number | undefined;
  /** Memory budget of the prompt cache in bytes (default 64 MB). */
  cacheBytes?: number | undefined;
  logger?: Logger | undefined;
}

export function makePrompt(key: string, samples: Int16Array): Prompt {
  return { key, samples, durationMs: Math.round(samples.length / 8) };
}

const SOX_TYPES: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'audio/flac': 'flac',
  'audio/basic': 'au',
  'audio/x-aiff': 'aiff',
  'audio/aiff': 'aiff',
};

/** Decodes a whole audio file (bytes) to 8 kHz samples: in process at 8 kHz WAV, else sox. */
export async function decodeAudio(bytes: Uint8Array, type: string): Promise<Int16Array> {
  if (type === 'wav') {
    try {
      const info = readWav(bytes);
      if (info.sampleRate === 8000) return toMono16(info);
    } catch (err) {
      if (!(err instanceof WavFormatError)) throw err;
      // let sox try (it knows more WAV variants)
    }
  }
  return soxTo8k(bytes, type);
}

export class PromptStore {
  private readonly cache: LRUCache<string, Prompt>;
  private readonly inflight = new Map<string, Promise<Prompt>>();
  private readonly tts: Tts;
  private readonly fetchTimeoutMs: number;
  private readonly fetchMaxBytes: number;

  constructor(private readonly options: PromptStoreOptions = {}) {
    this.cache = new LRUCache<string, Prompt>({
      maxSize: options.cacheBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (p) => Math.max(1, p.samples.byteLength),
    });
    this.tts = new Tts(options.ttsCacheDir);
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
    this.fetchMaxBytes = options.fetchMaxBytes ?? 20 * 1024 * 1024;
  }

  /** A prompt from a file path or an http(s) URL. */
  load(source: string): Promise<Prompt> {
    return /^https?:\/\//i.test(source) ? this.url(source) : this.file(source);
  }

  async file(path: string): Promise<Prompt> {
    const st = await stat(path).catch(() => {
      throw new PromptError(`prompt file not found: ${path}`);
    });
    const key = `file:${path}:${st.mtimeMs}:${st.size}`;
    return this.once(key, async () => {
      const type = extname(path).slice(1).toLowerCase() || 'wav';
      return decodeAudio(await readFile(path), type);
    });
  }

  async url(url: string): Promise<Prompt> {
    return this.once(`url:${url}`, async () => {
      const { bytes, type } = await this.fetchAudio(url);
      return decodeAudio(bytes, type);
    });
  }

  /**
   * Text-to-speech with espeak-ng (rendered once per text+voice+rate), in the voice and
   * language of a <Say> (Twilio's names). Rejects with PromptError when no voice speaks them.
   */
  say(
    text: string,
    options: { voice?: string; language?: string; rate?: number; ssml?: boolean } = {},
  ): Promise<Prompt> {
    const voice = espeakVoice(options.voice, options.language);
    if (!voice)
      return Promise.reject(
        new PromptError(
          `no text-to-speech voice for voice="${options.voice ?? ''}" language="${options.language ?? ''}"`,
        ),
      );
    const tts: SayOptions = { voice, rate: options.rate ?? 160, ssml: options.ssml };
    return this.once(`tts:${Tts.key(text, tts)}`, () => this.tts.render(text, tts));
  }

  /** A prompt from samples already at 8 kHz (tones, tests). */
  fromSamples(key: string, samples: Int16Array): Prompt {
    const p = makePrompt(key, samples);
    this.cache.set(key, p);
    return p;
  }

  private once(key: string, make: () => Promise<Int16Array>): Promise<Prompt> {
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    const running = this.inflight.get(key);
    if (running) return running;
    const started = performance.now();
    const p = make()
      .then((samples) => {
        const prompt = makePrompt(key, samples);
        this.cache.set(key, prompt);
        this.options.logger?.debug(
          { key, durationMs: prompt.durationMs, tookMs: Math.round(performance.now() - started) },
          'prompt ready',
        );
        return prompt;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async fetchAudio(url: string): Promise<{ bytes: Uint8Array; type: string }> {
    // Through the webhook port: the address policy, redirects within it, the body bounded.
    let res: Awaited<ReturnType<typeof fetchResource>>;
    try {
      res = await fetchResource(url, {
        timeoutMs: this.fetchTimeoutMs,
        maxBytes: this.fetchMaxBytes,
      });
    } catch (err) {
      const why = (err as Error).message;
      if (/larger than/.test(why)) throw new PromptError(`${url} is larger than the limit`);
      throw new PromptError(`fetching ${url} failed: ${why}`);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new PromptError(`fetching ${url} failed: HTTP ${res.status}`);
    }
    const bytes = res.body;
    const ctype = res.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const ext = extname(new URL(url).pathname).slice(1).toLowerCase();
    const magic = bytes.subarray(0, 4).toString('latin1');
    const type = magic === 'RIFF' ? 'wav' : (SOX_TYPES[ctype] ?? (ext || 'mp3'));
    return { bytes, type };
  }
}
