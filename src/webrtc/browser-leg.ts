// One browser's media, terminated here: ICE (the browser's address learnt from its checks,
// ours in our SDP, since the Voice SDK does not trickle), DTLS-SRTP, PCMU. node-datachannel
// (libdatachannel's bindings; the prebuilt binary ships inside the npm package) hands us the
// decrypted RTP and takes plain RTP to encrypt: the payload stays G.711, nothing is transcoded.
// Chosen over werift for its CPU: 2–3× less per call, full packet rate at 100 calls on 2 cores.
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';

const { PeerConnection: PC, Audio } = nodeDataChannel;

/** PCMU, as Chromium offers first; telephone-event for RFC 4733 DTMF both ways. */
export const PCMU = 0;
export const TELEPHONE_EVENT = 101;
/** Bound on waiting for our own candidates: loopback and host addresses take milliseconds. */
const GATHER_TIMEOUT_MS = 3000;

/** The offer's audio section: its mid, whether it has PCMU, its telephone-event/8000 type. */
function audioOf(sdp: string): { mid: string; eventPt: number | undefined } | undefined {
  const section = sdp.split(/\r?\nm=/).find((s) => s.startsWith('audio '));
  if (!section) return undefined;
  const formats = (section.split(/\r?\n/)[0] ?? '').split(' ').slice(3);
  if (!formats.includes(String(PCMU))) return undefined;
  const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1] ?? '0';
  const event = /\r?\na=rtpmap:(\d+) telephone-event\/8000/i.exec(section)?.[1];
  return { mid, eventPt: event === undefined ? undefined : Number(event) };
}

export interface BrowserLegOptions {
  /** Where ICE binds (the SIP/RTP bind address). */
  readonly bindAddress: string;
  readonly portRange: readonly [number, number];
}

export class BrowserLeg {
  private readonly pc: PeerConnection;
  private readonly track: Track;
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private rtpListener: ((packet: Buffer) => void) | undefined;
  private closed = false;
  /** Packets each way, for stats and tests. */
  readonly counts = { fromBrowser: 0, toBrowser: 0 };
  readonly connected: Promise<boolean>;

  /** The payload type of RFC 4733 events on the browser's side (its offer's, when it offered). */
  readonly eventPt: number;

  private constructor(options: BrowserLegOptions, mid = '0', eventPt = TELEPHONE_EVENT) {
    this.eventPt = eventPt;
    this.pc = new PC('switchboard', {
      iceServers: [],
      bindAddress: options.bindAddress === '0.0.0.0' ? undefined : options.bindAddress,
      portRangeBegin: options.portRange[0],
      portRangeEnd: options.portRange[1],
    });
    const audio = new Audio(mid, 'SendRecv');
    audio.addAudioCodec(PCMU, 'PCMU/8000');
    audio.addAudioCodec(eventPt, 'telephone-event/8000');
    audio.addSSRC(this.ssrc, 'switchboard', 'switchboard', 'audio');
    this.track = this.pc.addTrack(audio);
    this.track.onMessage((msg) => {
      // RTCP (payload types 200–204 with the marker bit folded in) stays here.
      const pt = (msg[1] ?? 0) & 0x7f;
      if (msg.length < 12 || (pt >= 72 && pt <= 76)) return;
      this.counts.fromBrowser++;
      this.rtpListener?.(msg);
    });
    this.connected = new Promise((resolve) => {
      this.pc.onStateChange((state) => {
        if (state === 'connected') resolve(true);
        if (state === 'failed' || state === 'closed') resolve(false);
      });
    });
  }

  /** A leg that offers: for a call to the browser (the server's SDP goes in `invite`). */
  static async offer(options: BrowserLegOptions): Promise<{ leg: BrowserLeg; sdp: string }> {
    const leg = new BrowserLeg(options);
    const sdp = await leg.describe(() => leg.pc.setLocalDescription('offer'));
    return { leg, sdp };
  }

  /**
   * A leg that answers the browser's offer: for a call the browser places (SDK `invite`). The
   * answer keeps the offer's audio mid and its telephone-event/8000 payload type, and offers
   * PCMU only, so the browser sends PCMU. Undefined when the offer has no PCMU audio.
   */
  static async answer(
    options: BrowserLegOptions,
    offer: string,
  ): Promise<{ leg: BrowserLeg; sdp: string } | undefined> {
    const audio = audioOf(offer);
    if (!audio) return undefined;
    const leg = new BrowserLeg(options, audio.mid, audio.eventPt ?? TELEPHONE_EVENT);
    try {
      const sdp = await leg.describe(() => leg.pc.setRemoteDescription(offer, 'offer'));
      return { leg, sdp };
    } catch (err) {
      leg.close();
      throw err;
    }
  }

  /** Runs `start` and waits (bounded) for our candidates: the SDK does not trickle. */
  private async describe(start: () => void): Promise<string> {
    const gathered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      this.pc.onGatheringStateChange((s) => {
        if (s === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    start();
    await gathered;
    const sdp = this.pc.localDescription()?.sdp;
    if (!sdp) {
      this.close();
      throw new Error('no local description');
    }
    return sdp;
  }

  /** The browser's answer (SDK `answer`). Throws on an SDP libdatachannel refuses. */
  accept(sdp: string): void {
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  onRtp(listener: (packet: Buffer) => void): void {
    this.rtpListener = listener;
  }

  /** Sends one RTP packet, under the SSRC our SDP announced. */
  sendRtp(packet: Buffer): void {
    if (this.closed || packet.length < 12 || !this.track.isOpen()) return;
    packet.writeUInt32BE(this.ssrc, 8);
    if (this.track.sendMessageBinary(packet)) this.counts.toBrowser++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.track.close();
      this.pc.close();
    } catch {
      // Already torn down by the library (peer gone): nothing left to release.
    }
  }
}
