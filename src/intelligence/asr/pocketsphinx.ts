// CMU PocketSphinx as Debian packages it (pocketsphinx + pocketsphinx-en-us): sox takes the
// channel out and resamples it to the model's 16 kHz, pocketsphinx_continuous decodes it and
// prints each word with its start, end and posterior probability (-time yes).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Word } from '../sentences.js';
import type { SpeechEngine } from './engine.js';
import { installed, run } from './process.js';

const MODEL = '/usr/share/pocketsphinx/model/en-us';
const DECODER = 'pocketsphinx_continuous';

/** Decoding bound: a call of an hour decodes in well under this on one core. */
const TIMEOUT_MS = 60 * 60 * 1000;

/** Splits one channel out of a WAV file, mono 16-bit at `rate` Hz. */
export async function channelWav(
  wavPath: string,
  channel: number,
  rate: number,
  dir: string,
): Promise<string> {
  const out = join(dir, `channel-${channel}.wav`);
  const r = await run(
    'sox',
    [
      wavPath,
      '-r',
      String(rate),
      '-b',
      '16',
      '-e',
      'signed-integer',
      out,
      'remix',
      String(channel),
    ],
    120_000,
  );
  if (r.code !== 0)
    throw new Error(`sox could not read the audio: ${r.stderr.trim().slice(0, 200)}`);
  return out;
}

export function parsePocketsphinx(stdout: string): Word[] {
  const words: Word[] = [];
  for (const line of stdout.split('\n')) {
    const m = line.trim().match(/^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/);
    if (!m) continue;
    const word = m[1]!.replace(/\(\d+\)$/, '');
    if (word.startsWith('<') || word.startsWith('[') || word.startsWith('+')) continue;
    words.push({
      word,
      startMs: Math.round(Number(m[2]) * 1000),
      endMs: Math.round(Number(m[3]) * 1000),
      confidence: Math.min(1, Math.round(Number(m[4]) * 1000) / 1000),
    });
  }
  return words;
}

export class PocketSphinx implements SpeechEngine {
  readonly name = 'pocketsphinx';

  async unavailable(): Promise<string | undefined> {
    if (!(await installed(DECODER)))
      return `speech recognition engine pocketsphinx is not installed (${DECODER} not found; Debian package pocketsphinx)`;
    if (!existsSync(join(MODEL, 'en-us.lm.bin')))
      return `pocketsphinx's English model is not installed (${MODEL}; Debian package pocketsphinx-en-us)`;
    if (!(await installed('sox'))) return 'sox is not installed (Debian package sox)';
    return undefined;
  }

  async recognize(wavPath: string, channel: number): Promise<Word[]> {
    const dir = await mkdtemp(join(tmpdir(), 'sb-asr-'));
    try {
      const mono = await channelWav(wavPath, channel, 16000, dir);
      const r = await run(
        DECODER,
        [
          '-infile',
          mono,
          '-time',
          'yes',
          '-logfn',
          '/dev/null',
          '-hmm',
          join(MODEL, 'en-us'),
          '-lm',
          join(MODEL, 'en-us.lm.bin'),
          '-dict',
          join(MODEL, 'cmudict-en-us.dict'),
        ],
        TIMEOUT_MS,
      );
      if (r.code !== 0)
        throw new Error(`pocketsphinx failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
      return parsePocketsphinx(r.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
