// Joins a browser leg to the platform's RTP engine without touching the audio: the engine's
// leg (plain RTP/AVP over UDP, negotiated over SIP) and the browser's (SRTP, opened by
// node-datachannel) exchange RTP packets as they are — PCMU both ways, RFC 4733 events with
// the payload type each side negotiated (rewritten in the header when they differ).
import { createSocket, type Socket } from 'node:dgram';
import { parseSdp, readAudio } from '../media/index.js';
import type { BrowserLeg } from './browser-leg.js';
import { PCMU, TELEPHONE_EVENT } from './browser-leg.js';

export class RtpRelay {
  private socket: Socket | undefined;
  private remote: { address: string; port: number } | undefined;
  /** The engine side's telephone-event payload type (undefined: it takes no events). */
  private enginePt: number | undefined = TELEPHONE_EVENT;
  private closed = false;

  constructor(
    private readonly leg: BrowserLeg,
    private readonly bindAddress: string,
    private readonly advertised: string,
  ) {}

  /**
   * Reads the engine's offer and binds the relay's port (a call to the browser). Returns our
   * SDP answer, or undefined when the offer has no PCMU (the device gateway answers 488).
   */
  async answer(offer: Buffer): Promise<string | undefined> {
    const audio = readAudio(parseSdp(offer), ['PCMU']);
    if (!audio || audio.payloadType !== PCMU) return undefined;
    this.remote = { address: audio.remoteAddress, port: audio.remotePort };
    this.enginePt = audio.telephoneEvent;
    await this.bind();
    return this.describe();
  }

  /** Binds the relay's port and returns its SDP offer (a call the browser places). */
  async offer(): Promise<string> {
    await this.bind();
    return this.describe();
  }

  /** The engine's answer to our offer. False when it took no PCMU. */
  applyAnswer(answer: Buffer): boolean {
    const audio = readAudio(parseSdp(answer), ['PCMU']);
    if (!audio || audio.payloadType !== PCMU) return false;
    this.remote ??= { address: audio.remoteAddress, port: audio.remotePort };
    this.enginePt = audio.telephoneEvent;
    return true;
  }

  private async bind(): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, this.bindAddress === '0.0.0.0' ? undefined : this.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined);
    const browserPt = this.leg.eventPt;
    socket.on('message', (packet, from) => {
      // Symmetric RTP: answer where the engine really sends from.
      this.remote = { address: from.address, port: from.port };
      if (packet.length < 12) return;
      const pt = (packet[1] ?? 0) & 0x7f;
      if (pt === this.enginePt && pt !== browserPt)
        packet[1] = ((packet[1] ?? 0) & 0x80) | browserPt;
      this.leg.sendRtp(packet);
    });
    this.leg.onRtp((packet) => {
      if (!this.remote || this.closed) return;
      const pt = (packet[1] ?? 0) & 0x7f;
      if (pt === browserPt) {
        if (this.enginePt === undefined) return;
        packet[1] = ((packet[1] ?? 0) & 0x80) | this.enginePt;
      } else if (pt !== PCMU) return;
      socket.send(packet, this.remote.port, this.remote.address);
    });
  }

  private describe(): string {
    const port = this.socket?.address().port ?? 0;
    const ev = this.enginePt;
    return [
      'v=0',
      `o=switchboard ${Date.now()} 1 IN IP4 ${this.advertised}`,
      's=switchboard device',
      `c=IN IP4 ${this.advertised}`,
      't=0 0',
      `m=audio ${port} RTP/AVP ${PCMU}${ev === undefined ? '' : ` ${ev}`}`,
      `a=rtpmap:${PCMU} PCMU/8000`,
      ...(ev === undefined ? [] : [`a=rtpmap:${ev} telephone-event/8000`, `a=fmtp:${ev} 0-16`]),
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.close();
    this.leg.close();
  }
}
