// The speech recognition port of Conversational Intelligence: an engine turns one channel of
// a WAV file into timed words. Engines run programs installed on the machine (Debian's
// pocketsphinx, or a whisper.cpp binary with a model the operator provides); nothing is
// downloaded at run time.
import type { Word } from '../sentences.js';

/** What the platform knows the speakers may say: the Service's operators' examples and phrases. */
export interface RecognitionContext {
  readonly phrases: readonly string[];
}

export interface SpeechEngine {
  readonly name: string;
  /** Why the engine cannot run here (a program or model missing), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** The words of one channel (1-based) of a WAV file, with times from its start. */
  recognize(wavPath: string, channel: number, context?: RecognitionContext): Promise<Word[]>;
}
