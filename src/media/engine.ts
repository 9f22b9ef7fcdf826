// The media engine: one per process. Owns the shared clock, the port pool, the prompt store
// and every live session. The composition root creates it from configuration:
//   createMediaEngine({ bindAddress: config.sipHost, publicAddress: config.sipPublicAddress,
//     portRange: config.rtpPorts, rtpTimeoutS: config.rtpTimeout, dataDir: config.dataDir, logger })

import { join } from 'node:path';
import { bridge, type Bridge } from './bridge.js';
import { MediaClock } from './clock.js';
import { Mixer } from './mixer.js';
import { PortPool } from './port-pool.js';
import { PromptStore } from './prompt.js';
import { Recorder } from './recorder.js';
import { MediaSession, type SessionOptions } from './rtp-session.js';
import type { CodecName } from './sdp.js';
import type { MediaEngineOptions, RecordOptions, Recording } from './types.js';

export interface MediaEngineStats {
  sessions: number;
  portsInUse: number;
  portsTotal: number;
  clockTicks: number;
  clockSkippedTicks: number;
}

export class MediaEngine {
  readonly clock = new MediaClock();
  readonly prompts: PromptStore;
  readonly publicAddress: string;
  private readonly pool: PortPool;
  private readonly sessions = new Set<MediaSession>();
  private readonly codecs: readonly CodecName[];
  private closed = false;

  constructor(private readonly options: MediaEngineOptions) {
    this.pool = new PortPool(options.portRange);
    this.codecs = options.codecs ?? ['PCMU', 'PCMA'];
    this.publicAddress =
      options.publicAddress ??
      (options.bindAddress === '0.0.0.0' || options.bindAddress === '::'
        ? '127.0.0.1'
        : options.bindAddress);
    this.prompts = new PromptStore({
      ttsCacheDir: join(options.dataDir, 'tts'),
      fetchTimeoutMs: options.fetchTimeoutMs,
      fetchMaxBytes: options.fetchMaxBytes,
      logger: options.logger,
    });
    this.clock.onError = (err) => options.logger?.error({ err }, 'media tick handler failed');
  }

  /** A new call leg with its own RTP port. Close it when the call ends. */
  async createSession(options: SessionOptions = {}): Promise<MediaSession> {
    if (this.closed) throw new Error('media engine is closed');
    const { socket, port } = await this.pool.bind(this.options.bindAddress);
    const session = new MediaSession(
      {
        clock: this.clock,
        socket,
        port,
        publicAddress: this.publicAddress,
        codecs: this.codecs,
        rtpTimeoutS: this.options.rtpTimeoutS,
        logger: this.options.logger,
        release: (s) => {
          this.sessions.delete(s);
          this.pool.release(port);
        },
      },
      options,
    );
    this.sessions.add(session);
    return session;
  }

  /** Relays audio between two legs (transcoding PCMU↔PCMA when their codecs differ). */
  bridge(a: MediaSession, b: MediaSession): Bridge {
    return bridge(a, b);
  }

  /** A conference room: add legs; each hears the sum of the others. */
  createMixer(): Mixer {
    return new Mixer();
  }

  /** Records a leg to a WAV file (8 kHz 16-bit mono). */
  record(session: MediaSession, path: string, options: RecordOptions = {}): Recording {
    return new Recorder(session, this.clock, path, options);
  }

  /** Records a conference room (everything its members hear) to a WAV file. */
  recordMixer(mixer: Mixer, path: string, options: RecordOptions = {}): Recording {
    return new Recorder(mixer.room, this.clock, path, options);
  }

  stats(): MediaEngineStats {
    const c = this.clock.stats();
    return {
      sessions: this.sessions.size,
      portsInUse: this.pool.used,
      portsTotal: this.pool.size,
      clockTicks: c.ticks,
      clockSkippedTicks: c.skipped,
    };
  }

  /** Closes every session and stops the clock. */
  close(): void {
    this.closed = true;
    for (const s of [...this.sessions]) s.close();
    this.clock.stop();
  }
}

export function createMediaEngine(options: MediaEngineOptions): MediaEngine {
  return new MediaEngine(options);
}
