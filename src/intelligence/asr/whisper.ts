// whisper.cpp's command-line program with a model file the operator installed
// (SWITCHBOARD_ASR_WHISPER_BIN, SWITCHBOARD_ASR_WHISPER_MODEL): it writes a JSON file whose
// segments carry their times; words are spread over their segment's time.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Word } from '../sentences.js';
import type { SpeechEngine } from './engine.js';
import { channelWav } from './pocketsphinx.js';
import { installed, run } from './process.js';

interface WhisperJson {
  transcription?: { offsets?: { from: number; to: number }; text?: string }[];
}

export class WhisperCpp implements SpeechEngine {
  readonly name = 'whisper-cpp';

  constructor(
    private readonly program: string,
    private readonly model: string,
  ) {}

  async unavailable(): Promise<string | undefined> {
    if (!(await installed(this.program)))
      return `speech recognition engine whisper-cpp is not installed (${this.program} not found)`;
    if (!this.model || !existsSync(this.model))
      return `whisper-cpp's model file is missing (SWITCHBOARD_ASR_WHISPER_MODEL=${this.model || 'unset'})`;
    return undefined;
  }

  async recognize(wavPath: string, channel: number): Promise<Word[]> {
    const dir = await mkdtemp(join(tmpdir(), 'sb-whisper-'));
    try {
      const mono = await channelWav(wavPath, channel, 16000, dir);
      const base = join(dir, 'out');
      const r = await run(
        this.program,
        ['-m', this.model, '-f', mono, '-oj', '-of', base, '-np'],
        60 * 60 * 1000,
      );
      if (r.code !== 0)
        throw new Error(`whisper-cpp failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
      const json = JSON.parse(await readFile(`${base}.json`, 'utf8')) as WhisperJson;
      const words: Word[] = [];
      for (const seg of json.transcription ?? []) {
        const parts = (seg.text ?? '').trim().split(/\s+/).filter(Boolean);
        const from = seg.offsets?.from ?? 0;
        const to = seg.offsets?.to ?? from;
        const step = parts.length > 0 ? (to - from) / parts.length : 0;
        parts.forEach((word, i) =>
          words.push({
            word,
            startMs: Math.round(from + i * step),
            endMs: Math.round(from + (i + 1) * step),
            confidence: 1,
          }),
        );
      }
      return words;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
