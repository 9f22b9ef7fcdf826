// The public surface of the media engine, as the SIP layer and the voice engine see it.
// Implementations live in engine.ts, rtp-session.ts, player.ts, recorder.ts, bridge.ts, mixer.ts.

import type { Logger } from '../core/index.js';
import type { CodecName, Direction, NegotiatedAudio } from './sdp.js';

export interface MediaEngineOptions {
  /** Address RTP sockets bind to (config `sipHost`, e.g. 0.0.0.0). */
  bindAddress: string;
  /** Address advertised in SDP (config `sipPublicAddress`); defaults to bindAddress, or 127.0.0.1 for 0.0.0.0. */
  publicAddress?: string | undefined;
  /** RTP port range, "20000-29999" (config `rtpPorts`); "0" lets the OS pick (tests). */
  portRange: string;
  /** Seconds without incoming RTP before a session emits `rtp-timeout` (config `rtpTimeout`); 0 = never. */
  rtpTimeoutS: number;
  /** Directory for caches (rendered TTS prompts) and default recordings. */
  dataDir: string;
  logger?: Logger | undefined;
  /** Codecs we accept, preferred first (default PCMU, PCMA). */
  codecs?: readonly CodecName[];
  /** Timeout of a prompt URL fetch, ms (default 10 000). */
  fetchTimeoutMs?: number;
  /** Largest prompt URL body, bytes (default 20 MB). */
  fetchMaxBytes?: number;
}

/** A decoded prompt: 8 kHz 16-bit mono samples, ready to play. */
export interface Prompt {
  readonly key: string;
  readonly samples: Int16Array;
  readonly durationMs: number;
}

export interface DtmfEvent {
  /** '0'-'9', '*', '#', 'A'-'D' (or 'flash'). */
  digit: string;
  durationMs: number;
  source: 'rfc4733' | 'info';
}

export interface PlayOptions {
  /** Times to play; 0 = until stopped (Twilio's loop="0"). Default 1. */
  loop?: number;
}

export interface Playback {
  /** Resolves 'finished' after the last sample is sent, or 'stopped'. Never rejects. */
  readonly done: Promise<'finished' | 'stopped'>;
  stop(): void;
}

export type RecordMode = 'in' | 'out' | 'both';

export interface RecordOptions {
  /** 'in' = what the peer sends, 'out' = what we send, 'both' = the two mixed. Default 'both'. */
  mode?: RecordMode;
  /** Stop by itself after this many seconds. */
  maxDurationS?: number;
  /** Stop by itself after this many seconds of silence in what is recorded (<Record timeout>). */
  silenceS?: number;
  /** Cut the silence before and after the sound once stopped (trim="trim-silence"). */
  trim?: boolean;
  /**
   * 2: a stereo file, what the peer sends on the left and what we send on the right (a session
   * only; Twilio's dual-channel recordings). Default 1: `mode` mixed into one channel.
   */
  channels?: 1 | 2;
}

export interface RecordingResult {
  path: string;
  durationMs: number;
}

/** While paused: `skip` leaves the time out of the file, `silence` fills it with silence. */
export type PauseBehavior = 'skip' | 'silence';

export interface Recording {
  /** Stops (if not already) and resolves when the WAV file is complete. */
  stop(): Promise<RecordingResult>;
  /** Resolves when the recording ends for any reason (stop, max duration, session close). */
  readonly done: Promise<RecordingResult>;
  /** Stops taking sound until resume(); the file gets nothing or silence meanwhile. */
  pause(behavior: PauseBehavior): void;
  resume(): void;
}

/** A source of outgoing audio, pulled once per 20 ms tick. */
export interface AudioSource {
  /** Fill `out` (160 samples) for tick number `tick`; return false to send silence. */
  read(out: Int16Array, tick: number): boolean;
}

export interface MediaSessionEvents {
  dtmf: [event: DtmfEvent];
  /** No RTP arrived for rtpTimeoutS while the peer was expected to send: hang up. */
  'rtp-timeout': [];
  /** RTP now goes to where the peer's packets come from (symmetric RTP / NAT latching). */
  latched: [address: string, port: number];
  closed: [];
}

export type { CodecName, Direction, NegotiatedAudio };
