// Sentences from a source: a text transcript's turns split into sentences (wink-nlp's
// sentence boundaries), or recognised words grouped into sentences by speaker and pause.
import { english } from './english.js';
import type { TextTurn } from './channel.js';

export interface Sentence {
  readonly channel: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly confidence: number;
  readonly text: string;
  readonly words: readonly Word[] | null;
}

export interface Word {
  readonly word: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly confidence: number;
}

/** Speaking time a text transcript's words are given (no audio says when): 150 words a minute. */
const MS_PER_WORD = 400;

export function sentencesOfText(turns: readonly TextTurn[]): Sentence[] {
  const out: Sentence[] = [];
  let at = 0;
  for (const turn of turns) {
    const parts = english().readDoc(turn.text).sentences().out() as string[];
    for (const p of parts) {
      const text = p.trim();
      if (!text) continue;
      const words = text.split(/\s+/).length;
      out.push({
        channel: turn.channel,
        startMs: at,
        endMs: at + words * MS_PER_WORD,
        confidence: 1,
        text,
        words: null,
      });
      at += words * MS_PER_WORD;
    }
  }
  return out;
}

/** A pause this long ends a sentence; so does a sentence growing past MAX_WORDS. */
const PAUSE_MS = 600;
const MAX_WORDS = 40;

/** Recognised words of each channel grouped into sentences, in order of their start. */
export function sentencesOfWords(
  channels: readonly { channel: number; words: readonly Word[] }[],
): Sentence[] {
  const out: Sentence[] = [];
  for (const { channel, words } of channels) {
    let current: Word[] = [];
    const flush = () => {
      if (current.length === 0) return;
      const conf = current.reduce((s, w) => s + w.confidence, 0) / current.length;
      out.push({
        channel,
        startMs: current[0]!.startMs,
        endMs: current.at(-1)!.endMs,
        confidence: Math.round(conf * 1000) / 1000,
        text: current.map((w) => w.word).join(' '),
        words: current,
      });
      current = [];
    };
    for (const w of words) {
      const last = current.at(-1);
      if (last && (w.startMs - last.endMs >= PAUSE_MS || current.length >= MAX_WORDS)) flush();
      current.push(w);
    }
    flush();
  }
  return out.sort((a, b) => a.startMs - b.startMs || a.channel - b.channel);
}
