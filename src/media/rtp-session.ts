// One call leg's media: a UDP socket, SDP offer/answer state, RTP in and out.
//
// Outgoing packets are paced by the shared MediaClock (phase 'send'); incoming audio goes
// through a jitter buffer that hands one frame per tick to whoever listens (bridge, mixer,
// recorder) in phase 'receive'. RTP is sent to where the peer's packets come from (symmetric
// RTP): the SDP address is only a first guess, the first valid packet latches the target, and
// a new source is accepted only after the latched one has been silent for 2 s (NAT rebinding)
// so stray packets cannot steal the stream.

import { randomInt } from 'node:crypto';
import type { Socket, RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/index.js';
import { SAMPLES_PER_TICK, type MediaClock } from './clock.js';
import { DtmfReceiver, DtmfSender, writeTelephoneEvent } from './dtmf.js';
import { SILENCE_BYTE, decode, encode } from './g711.js';
import { JitterBuffer } from './jitter-buffer.js';
import { Player } from './player.js';
import { RTP_HEADER_SIZE, parseRtp, writeRtpHeader } from './rtp-packet.js';
import {
  answerOffer,
  createOffer,
  parseSdp,
  readAnswer,
  serializeSdp,
  SdpParseError,
  type CodecName,
  type Direction,
  type LocalMediaInfo,
  type NegotiatedAudio,
} from './sdp.js';
import type {
  AudioSource,
  DtmfEvent,
  MediaSessionEvents,
  Playback,
  PlayOptions,
  Prompt,
} from './types.js';

const PACKET_SIZE = RTP_HEADER_SIZE + SAMPLES_PER_TICK;
const RELATCH_AFTER_MS = 2000;
const MAX_FREE_BUFFERS = 8;

export interface SessionContext {
  clock: MediaClock;
  socket: Socket;
  port: number;
  publicAddress: string;
  codecs: readonly CodecName[];
  rtpTimeoutS: number;
  logger?: Logger | undefined;
  release: (session: MediaSession) => void;
}

export interface SessionOptions {
  /** Overrides the engine's RTP timeout for this leg (seconds, 0 = never). */
  rtpTimeoutS?: number;
  /** Codecs this leg accepts, preferred first. */
  codecs?: readonly CodecName[];
}

export interface SessionStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  invalidPackets: number;
  /** Audio packets dropped as duplicates or too late. */
  latePackets: number;
  sendErrors: number;
  /** Samples of incoming audio dropped because the peer sent faster than real time. */
  overrunSamples: number;
  /** performance.now() when the first packet was sent (0: none yet): first-media latency. */
  firstSentMs: number;
}

let nextId = 1;

export class MediaSession extends EventEmitter<MediaSessionEvents> {
  readonly id = `ms${nextId++}`;
  readonly localPort: number;
  readonly localAddress: string;
  readonly stats: SessionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    invalidPackets: 0,
    latePackets: 0,
    sendErrors: 0,
    overrunSamples: 0,
    firstSentMs: 0,
  };

  /** This tick's incoming frame (valid in phases 'send' and 'after' when `inFrameValid`). */
  readonly inFrame = new Int16Array(SAMPLES_PER_TICK);
  inFrameValid = false;
  /** This tick's outgoing linear frame (valid in phase 'after' when `outFrameValid`). */
  readonly outFrame = new Int16Array(SAMPLES_PER_TICK);
  outFrameValid = false;

  private readonly ctx: SessionContext;
  private readonly socket: Socket;
  private readonly codecs: readonly CodecName[];
  private readonly rtpTimeoutS: number;
  private readonly ssrc = randomInt(0, 0xffffffff);
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0xffffffff);
  private readonly sdpSessionId = String(randomInt(1, 2 ** 47));
  private sdpVersion = 0;
  private wish: Direction = 'sendrecv';
  private audio: NegotiatedAudio | undefined;
  private remote: { address: string; port: number } | undefined;
  private latched = false;
  private lastFromLatched = 0;
  private lastRx = 0;
  private timedOut = false;
  private marker = true;
  private lastSendTick = -1;
  private closed = false;
  private readonly free: Buffer[] = [];
  private readonly jitter = new JitterBuffer();
  private rxSsrc = -1;
  private rxNextTs: number | undefined;
  private readonly decodeBuf = new Int16Array(2048);
  private readonly dtmfIn: DtmfReceiver;
  private readonly dtmfOut = new DtmfSender();
  private dtmfEventTs = 0;
  private lastRfc4733: { digit: string; at: number } | undefined;
  private player: Player | undefined;
  private link: AudioSource | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(ctx: SessionContext, options: SessionOptions = {}) {
    super();
    this.ctx = ctx;
    this.socket = ctx.socket;
    this.localPort = ctx.port;
    this.localAddress = ctx.publicAddress;
    this.codecs = options.codecs ?? ctx.codecs;
    this.rtpTimeoutS = options.rtpTimeoutS ?? ctx.rtpTimeoutS;
    this.dtmfIn = new DtmfReceiver((d) => {
      this.lastRfc4733 = { digit: d.digit, at: performance.now() };
      this.emitDtmf({ ...d, source: 'rfc4733' });
    });
    this.socket.on('message', this.onMessage);
    this.socket.on('error', (err) =>
      ctx.logger?.warn({ err, session: this.id }, 'RTP socket error'),
    );
    this.unsubscribe.push(
      ctx.clock.subscribe(this.onReceiveTick, 'receive'),
      ctx.clock.subscribe(this.onSendTick, 'send'),
      ctx.clock.subscribe(this.onAfterTick, 'after'),
    );
  }

  // ----- SDP ---------------------------------------------------------------------------------

  /** The negotiated stream, once an offer was answered or an answer applied. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.audio;
  }

  /** Where RTP goes now (latched source, or the SDP address until a packet arrives). */
  get remoteTarget(): { address: string; port: number } | undefined {
    return this.remote ? { ...this.remote } : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private local(direction: Direction): LocalMediaInfo {
    return {
      address: this.localAddress,
      port: this.localPort,
      codecs: this.codecs,
      direction,
      sessionId: this.sdpSessionId,
      sessionVersion: ++this.sdpVersion,
    };
  }

  /**
   * Our SDP offer (initial INVITE, or a re-INVITE: `direction: 'sendonly'` holds the peer,
   * 'sendrecv' resumes). Apply the peer's answer with applyAnswer().
   */
  createOffer(options: { direction?: Direction } = {}): string {
    if (options.direction) this.wish = options.direction;
    return serializeSdp(createOffer(this.local(this.wish)));
  }

  /**
   * Answers the peer's offer (INVITE or re-INVITE). Returns the SDP answer, or undefined when
   * no audio stream is acceptable (reply 488 Not Acceptable Here). Throws SdpParseError on
   * a malformed body (reply 400).
   */
  answerOffer(
    offer: string | Uint8Array,
    options: { direction?: Direction } = {},
  ): string | undefined {
    if (options.direction) this.wish = options.direction;
    const { answer, audio } = answerOffer(parseSdp(offer), this.local(this.wish));
    if (!answer || !audio) return undefined;
    this.apply(audio);
    return serializeSdp(answer);
  }

  /** Applies the peer's answer to our offer (200 OK, or 183 early media). False if refused. */
  applyAnswer(answer: string | Uint8Array): boolean {
    let audio: NegotiatedAudio | undefined;
    try {
      audio = readAnswer(parseSdp(answer), this.local(this.wish));
    } catch (err) {
      if (err instanceof SdpParseError) return false;
      throw err;
    }
    this.sdpVersion--; // reading an answer is not a new version of ours
    if (!audio) return false;
    this.apply(audio);
    return true;
  }

  private apply(audio: NegotiatedAudio): void {
    const prev = this.audio;
    this.audio = audio;
    const moved =
      !prev || prev.remoteAddress !== audio.remoteAddress || prev.remotePort !== audio.remotePort;
    if (moved) {
      // A new target from signalling: start a new latching window.
      this.latched = false;
      this.remote =
        audio.remoteAddress === '0.0.0.0' || audio.remotePort === 0
          ? this.remote
          : { address: audio.remoteAddress, port: audio.remotePort };
    }
    this.lastRx = performance.now();
    this.timedOut = false;
  }

  /** Our own hold: re-INVITE with createOffer({ direction: 'sendonly' }) instead, or set it here. */
  get direction(): Direction {
    return this.audio?.direction ?? this.wish;
  }

  // ----- Audio -------------------------------------------------------------------------------

  /** Plays a prompt (replacing any prompt playing). Audio from a bridge or mixer pauses meanwhile. */
  play(prompt: Prompt, options: PlayOptions = {}): Playback {
    this.player?.end('stopped');
    const player = new Player(prompt, options, (p) => {
      if (this.player === p) this.player = undefined;
    });
    if (this.closed) player.end('stopped');
    else this.player = player;
    return player;
  }

  /** Stops the prompt playing, if any. */
  stopPlayback(): void {
    this.player?.end('stopped');
  }

  /** Sets (or clears) the continuous source of outgoing audio (bridge, mixer). */
  setLink(source: AudioSource | undefined): void {
    this.link = source;
  }

  /** Sends digits as RFC 4733 events (100 ms each by default); resolves when sent. */
  sendDtmf(digits: string, durationMs = 100): Promise<void> {
    if (this.audio && this.audio.telephoneEvent === undefined) {
      return Promise.reject(
        new Error('the peer did not negotiate telephone-event; send DTMF with SIP INFO'),
      );
    }
    return this.dtmfOut.send(digits, durationMs);
  }

  /** SIP INFO fallback: the SIP layer calls this with a digit from an INFO request. */
  receiveInfoDtmf(digit: string, durationMs = 250): void {
    const recent = this.lastRfc4733;
    // Some phones send both; the RFC 4733 copy of the same digit wins.
    if (recent && recent.digit === digit && performance.now() - recent.at < 1000) return;
    this.emitDtmf({ digit, durationMs, source: 'info' });
  }

  private emitDtmf(e: DtmfEvent): void {
    this.ctx.logger?.debug({ session: this.id, ...e }, 'DTMF');
    this.emit('dtmf', e);
  }

  // ----- RTP in ------------------------------------------------------------------------------

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const packet = parseRtp(msg);
    if (!packet) {
      this.stats.invalidPackets++;
      return;
    }
    const now = performance.now();
    this.stats.packetsReceived++;
    this.lastRx = now;
    const from = this.remote;
    const same = from !== undefined && from.address === rinfo.address && from.port === rinfo.port;
    if (same) {
      this.latched = true;
      this.lastFromLatched = now;
    } else if (!this.latched || now - this.lastFromLatched > RELATCH_AFTER_MS) {
      this.remote = { address: rinfo.address, port: rinfo.port };
      this.latched = true;
      this.lastFromLatched = now;
      this.emit('latched', rinfo.address, rinfo.port);
    } else {
      return; // a stranger while the latched peer is alive
    }
    const pt = packet.payloadType;
    const audio = this.audio;
    if (audio?.telephoneEvent !== undefined && pt === audio.telephoneEvent) {
      this.dtmfIn.onPacket(
        packet.timestamp,
        packet.payload,
        this.ctx.clock.currentTick,
        packet.marker,
      );
      return;
    }
    // Decode whichever law the peer uses (some switch between offered codecs).
    const codec: CodecName | undefined =
      pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : pt === audio?.payloadType ? audio.codec : undefined;
    if (!codec) return; // comfort noise, unknown payloads
    if (this.direction === 'sendonly' || this.direction === 'inactive') return;
    const n = Math.min(packet.payload.length, this.decodeBuf.length);
    // Timestamps put audio in its place: duplicates and late packets are dropped, a short
    // gap (lost packets) becomes silence so what follows keeps its timing.
    const expected = this.rxNextTs;
    this.rxNextTs = (packet.timestamp + n) >>> 0;
    if (packet.ssrc === this.rxSsrc && expected !== undefined) {
      const delta = (packet.timestamp - expected) | 0;
      if (delta < 0 && delta > -8000) {
        this.rxNextTs = expected; // a duplicate or a late packet
        this.stats.latePackets++;
        return;
      }
      if (delta > 0 && delta <= 800) this.jitter.pushSilence(delta);
    }
    this.rxSsrc = packet.ssrc;
    decode(codec, packet.payload, this.decodeBuf, 0, n);
    const before = this.jitter.dropped;
    this.jitter.push(this.decodeBuf, n);
    this.stats.overrunSamples += this.jitter.dropped - before;
  };

  private readonly onReceiveTick = (tick: number): void => {
    this.inFrameValid = this.jitter.pop(this.inFrame);
    this.dtmfIn.onTick(tick);
  };

  // ----- RTP out -----------------------------------------------------------------------------

  private canSend(): boolean {
    const d = this.direction;
    return d === 'sendrecv' || d === 'sendonly';
  }

  private readonly onSendTick = (tick: number): void => {
    this.outFrameValid = false;
    // Ticks the clock skipped after a stall still count as time (RFC 3550 §5.1): jump the
    // timestamp over them and mark the discontinuity.
    const missed = this.lastSendTick >= 0 ? tick - this.lastSendTick - 1 : 0;
    this.lastSendTick = tick;
    if (missed > 0) {
      this.timestamp = (this.timestamp + missed * SAMPLES_PER_TICK) >>> 0;
      this.marker = true;
    }
    const ts = this.timestamp;
    // The media clock runs whether or not we send (RFC 3550 §5.1: timestamps follow time).
    this.timestamp = (this.timestamp + SAMPLES_PER_TICK) >>> 0;
    const remote = this.remote;
    const audio = this.audio;
    if (!remote || !audio || !this.canSend()) {
      this.dtmfOut.clear();
      // Prompts keep their pace while we cannot send (hold): they still advance.
      if (this.player) this.player.read(this.outFrame);
      this.marker = true;
      return;
    }
    const dtmf = audio.telephoneEvent !== undefined ? this.dtmfOut.next() : undefined;
    if (dtmf) {
      if (dtmf.start) this.dtmfEventTs = ts;
      for (let i = 0; i < dtmf.copies; i++) {
        const buf = this.take();
        writeRtpHeader(buf, {
          marker: dtmf.marker,
          payloadType: audio.telephoneEvent ?? 101,
          sequence: this.nextSeq(),
          timestamp: this.dtmfEventTs,
          ssrc: this.ssrc,
        });
        writeTelephoneEvent(buf, RTP_HEADER_SIZE, dtmf.event);
        this.send(buf, RTP_HEADER_SIZE + 4, remote);
      }
      // Audio resumes with a marker after the event.
      this.marker = true;
      if (this.player) this.player.read(this.outFrame);
      return;
    }
    let have = false;
    if (this.player) have = this.player.read(this.outFrame);
    else if (this.link && this.wish !== 'sendonly') have = this.link.read(this.outFrame, tick);
    const buf = this.take();
    writeRtpHeader(buf, {
      marker: this.marker,
      payloadType: audio.payloadType,
      sequence: this.nextSeq(),
      timestamp: ts,
      ssrc: this.ssrc,
    });
    this.marker = false;
    if (have) {
      encode(audio.codec, this.outFrame, buf, RTP_HEADER_SIZE, SAMPLES_PER_TICK);
      this.outFrameValid = true;
    } else {
      buf.fill(SILENCE_BYTE[audio.codec], RTP_HEADER_SIZE, PACKET_SIZE);
    }
    this.send(buf, PACKET_SIZE, remote);
  };

  private readonly onAfterTick = (tick: number): void => {
    if (tick % 50 !== 0 || this.timedOut || this.rtpTimeoutS <= 0 || !this.audio) return;
    // Only while the call is not on hold: a holding peer may legitimately send nothing.
    if (this.direction !== 'sendrecv') return;
    if (performance.now() - this.lastRx > this.rtpTimeoutS * 1000) {
      this.timedOut = true;
      this.ctx.logger?.info({ session: this.id, timeoutS: this.rtpTimeoutS }, 'RTP timeout');
      this.emit('rtp-timeout');
    }
  };

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    return s;
  }

  /** A packet buffer not owned by any send in flight. */
  private take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(PACKET_SIZE);
  }

  private send(buf: Buffer, length: number, to: { address: string; port: number }): void {
    if (this.stats.packetsSent === 0) this.stats.firstSentMs = performance.now();
    this.stats.packetsSent++;
    this.stats.bytesSent += length;
    this.socket.send(buf, 0, length, to.port, to.address, (err) => {
      // Only now may the buffer be written again.
      if (err) this.stats.sendErrors++;
      if (this.free.length < MAX_FREE_BUFFERS) this.free.push(buf);
    });
  }

  // ----- Teardown ----------------------------------------------------------------------------

  /** Stops everything, closes the socket and returns the port to the pool. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.player?.end('stopped');
    this.dtmfOut.clear();
    this.link = undefined;
    this.socket.off('message', this.onMessage);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
    this.ctx.release(this);
    this.emit('closed');
    this.removeAllListeners('dtmf');
    this.removeAllListeners('rtp-timeout');
    this.removeAllListeners('latched');
  }
}
