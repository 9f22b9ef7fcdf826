// CMU PocketSphinx as Debian packages it (pocketsphinx + pocketsphinx-en-us): sox takes the
// channel out and resamples it to the model's 16 kHz, ./segments.ts finds where someone
// speaks, and pocketsphinx_batch decodes each segment as one utterance, printing each word
// with its start, duration and posterior probability (CTM).
//
// Why pocketsphinx_batch and not pocketsphinx_continuous: the continuous decoder normalises
// cepstra with a running mean that starts from the model's -cmninit (clean 16 kHz speech);
// on telephone audio it is still far off when a short turn ends, and the whole turn decodes
// as noise (on espeak-ng speech through G.711 it returned one word for a 12-word sentence).
// Decoding a whole segment at once uses that segment's own mean.
//
// Why the audio is resampled rather than decoded at 8 kHz: the model's front end
// (en-us/feat.params) spans 130–6800 Hz, so `-samprate 8000` is refused (upper frequency
// above Nyquist), and narrowing the filter bank to 3500 Hz gives features the model was not
// trained on. The empty 4–8 kHz band costs some accuracy (docs/intelligence.md has figures).
// `-dither yes`: recordings and synthetic prompts hold runs of digital silence (exact zeros),
// whose log energy drags the utterance's cepstral mean down; a bit of noise keeps it sane.
// With a context (the Service's operators' phrases) a domain model replaces the general one
// (./domain.ts): more accurate on the account's own phrasing and several times faster.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Word } from '../sentences.js';
import { DomainModels } from './domain.js';
import type { RecognitionContext, SpeechEngine } from './engine.js';
import { installed, run } from './process.js';
import { speechSegments } from './segments.js';

const MODEL = '/usr/share/pocketsphinx/model/en-us';
const DECODER = 'pocketsphinx_batch';

/** Decoding bound: a call of an hour decodes in well under this on one core. */
const TIMEOUT_MS = 60 * 60 * 1000;

/** Splits one channel out of a WAV file, mono 16-bit at `rate` Hz (a WAV file, or raw PCM). */
export async function channelWav(
  wavPath: string,
  channel: number,
  rate: number,
  dir: string,
  ext: 'wav' | 'raw' = 'wav',
): Promise<string> {
  const out = join(dir, `channel-${channel}.${ext}`);
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

/** Words of pocketsphinx's CTM output, `uttid 1 start duration word confidence` per line. */
export function parseCtm(stdout: string, offsetMs: (uttid: string) => number): Word[] {
  const words: Word[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const word = f[4]!.replace(/\(\d+\)$/, '');
    if (word.startsWith('<') || word.startsWith('[') || word.startsWith('+')) continue;
    const at = offsetMs(f[0]!) + Number(f[2]) * 1000;
    const conf = Number(f[5] ?? 1);
    words.push({
      word,
      startMs: Math.round(at),
      endMs: Math.round(at + Number(f[3]) * 1000),
      confidence: Number.isFinite(conf) ? Math.min(1, Math.round(conf * 1000) / 1000) : 1,
    });
  }
  return words.sort((x, y) => x.startMs - y.startMs);
}

/** Raw 16-bit little-endian PCM as samples. */
async function pcmOf(path: string): Promise<Int16Array> {
  const b = await readFile(path);
  const out = new Int16Array(b.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(i * 2);
  return out;
}

export class PocketSphinx implements SpeechEngine {
  readonly name = 'pocketsphinx';
  private readonly domains = new DomainModels(
    join(MODEL, 'en-us.lm.bin'),
    join(MODEL, 'cmudict-en-us.dict'),
  );

  async unavailable(): Promise<string | undefined> {
    if (!(await installed(DECODER)))
      return `speech recognition engine pocketsphinx is not installed (${DECODER} not found; Debian package pocketsphinx)`;
    if (!existsSync(join(MODEL, 'en-us.lm.bin')))
      return `pocketsphinx's English model is not installed (${MODEL}; Debian package pocketsphinx-en-us)`;
    if (!(await installed('sox'))) return 'sox is not installed (Debian package sox)';
    return undefined;
  }

  async recognize(wavPath: string, channel: number, context?: RecognitionContext): Promise<Word[]> {
    const dir = await mkdtemp(join(tmpdir(), 'sb-asr-'));
    try {
      const [mono, domain] = await Promise.all([
        channelWav(wavPath, channel, 16000, dir, 'raw'),
        context ? this.domains.model(context.phrases) : undefined,
      ]);
      const segments = speechSegments(await pcmOf(mono));
      if (segments.length === 0) return [];
      const ctl = join(dir, 'segments.ctl');
      const ctm = join(dir, 'words.ctm');
      await writeFile(
        ctl,
        segments.map(([from, to], i) => `channel-${channel} ${from} ${to} s${i}\n`).join(''),
      );
      const r = await run(
        DECODER,
        [
          '-ctl',
          ctl,
          '-cepdir',
          dir,
          '-cepext',
          '.raw',
          '-adcin',
          'yes',
          '-adchdr',
          '0',
          // A file: written to a pipe, the CTM stays in a buffer pocketsphinx never flushes.
          '-ctm',
          ctm,
          '-hyp',
          '/dev/null',
          '-logfn',
          '/dev/null',
          '-bestpath',
          'yes',
          '-dither',
          'yes',
          '-hmm',
          join(MODEL, 'en-us'),
          '-lm',
          domain ?? join(MODEL, 'en-us.lm.bin'),
          '-dict',
          join(MODEL, 'cmudict-en-us.dict'),
        ],
        TIMEOUT_MS,
      );
      if (r.code !== 0)
        throw new Error(`pocketsphinx failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
      return parseCtm(
        await readFile(ctm, 'utf8'),
        (id) => (segments[Number(id.slice(1))]?.[0] ?? 0) * 10,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
