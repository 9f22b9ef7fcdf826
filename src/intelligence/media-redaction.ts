// Audio redaction (a Service's `media_redaction`): the words PII redaction took out of a
// sentence's text are found by their times, and those stretches of the speaker's channel are
// silenced in a copy of the media, served as the transcript's redacted Media. The other
// channel keeps its sound (the agent's voice over the caller's card number stays).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './asr/process.js';
import type { Word } from './sentences.js';

export interface TimedSentence {
  readonly channel: number;
  readonly text: string;
  readonly redactedText: string | null;
  readonly words: readonly Word[] | null;
}

export interface SilencedRange {
  readonly channel: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Margin kept around a redacted word: recognisers place word edges ±50 ms. */
const PAD_MS = 80;
const TAG = /^\[[A-Z_]+\][.,!?;:]?$/;
const bare = (w: string) => w.toLowerCase().replace(/[^a-z0-9@']/g, '');

/** Indices of the sentence's words that the redacted text no longer has. */
export function redactedWords(words: readonly string[], redacted: string): number[] {
  const red = redacted.split(/\s+/).filter(Boolean);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < words.length;) {
    const r = red[j];
    if (r !== undefined && !TAG.test(r) && bare(r) === bare(words[i]!)) {
      i++;
      j++;
    } else if (r !== undefined && TAG.test(r)) {
      // A tag stands for one or more words: up to the word the redacted text goes on with.
      const next = red[j + 1];
      out.push(i++);
      while (i < words.length && (next === undefined || bare(words[i]!) !== bare(next)))
        out.push(i++);
      j++;
    } else {
      out.push(i++);
      if (r !== undefined && !TAG.test(r)) j++;
    }
  }
  return out;
}

/** The stretches of audio to silence, per channel, merged. */
export function silencedRanges(sentences: readonly TimedSentence[]): SilencedRange[] {
  const ranges: SilencedRange[] = [];
  for (const s of sentences) {
    if (!s.words || !s.redactedText || s.redactedText === s.text) continue;
    const words = s.words;
    for (const i of redactedWords(
      words.map((w) => w.word),
      s.redactedText,
    )) {
      const w = words[i]!;
      ranges.push({
        channel: s.channel,
        fromMs: Math.max(0, w.startMs - PAD_MS),
        toMs: w.endMs + PAD_MS,
      });
    }
  }
  ranges.sort((a, b) => a.channel - b.channel || a.fromMs - b.fromMs);
  const merged: SilencedRange[] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && last.channel === r.channel && r.fromMs <= last.toMs)
      merged[merged.length - 1] = { ...last, toMs: Math.max(last.toMs, r.toMs) };
    else merged.push(r);
  }
  return merged;
}

/**
 * Writes `dest`: the audio of `src` as 16-bit PCM WAV (its rate and channels kept) with
 * `ranges` silenced on their channel.
 */
export async function writeSilenced(
  src: string,
  dest: string,
  ranges: readonly SilencedRange[],
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const pcm = join(dirname(dest), `.${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
  try {
    const r = await run('sox', [src, '-b', '16', '-e', 'signed-integer', pcm], 120_000);
    if (r.code !== 0) throw new Error(`sox could not read the audio: ${r.stderr.slice(0, 200)}`);
    const wav = await readFile(pcm);
    const fmt = chunk(wav, 'fmt ');
    const data = chunk(wav, 'data');
    if (!fmt || !data) throw new Error('sox wrote a WAV file without fmt or data');
    const channels = wav.readUInt16LE(fmt.at + 2);
    const rate = wav.readUInt32LE(fmt.at + 4);
    const frames = Math.floor(data.size / (2 * channels));
    for (const g of ranges) {
      if (g.channel < 1 || g.channel > channels) continue;
      const from = Math.min(frames, Math.floor((g.fromMs / 1000) * rate));
      const to = Math.min(frames, Math.ceil((g.toMs / 1000) * rate));
      for (let f = from; f < to; f++)
        wav.writeInt16LE(0, data.at + 2 * (f * channels + g.channel - 1));
    }
    await writeFile(dest, wav);
  } finally {
    await rm(pcm, { force: true });
  }
}

function chunk(wav: Buffer, id: string): { at: number; size: number } | undefined {
  for (let at = 12; at + 8 <= wav.length;) {
    const size = wav.readUInt32LE(at + 4);
    if (wav.toString('ascii', at, at + 4) === id)
      return { at: at + 8, size: Math.min(size, wav.length - at - 8) };
    at += 8 + size + (size % 2);
  }
  return undefined;
}
