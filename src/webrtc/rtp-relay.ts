// Joins a browser leg to the platform's RTP engine without touching the audio: the engine's
// leg (plain RTP/AVP over UDP, from the SIP INVITE's SDP) and the browser's (SRTP, opened by
// node-datachannel) exchange RTP packets as they are — PCMU both ways, RFC 4733 events with
// the payload type each side negotiated (101 on both here).
import { createSocket, type Socket } from 'node:dgram';
import { parseSdp, readAudio } from '../media/index.js';
import type { BrowserLeg } from './browser-leg.js';
import { PCMU, TELEPHONE_EVENT } from './browser-leg.js';

export class RtpRelay {
  private socket: Socket | undefined;
  private remote: { address: string; port: number } | undefined;
  private eventPt = TELEPHONE_EVENT;
  private closed = false;

  constructor(
    private readonly leg: BrowserLeg,
    private readonly bindAddress: string,
    private readonly advertised: string,
  ) {}

  /**
   * Reads the engine's offer and binds the relay's port. Returns our SDP answer, or undefined
   * when the offer has no PCMU (the device gateway answers 488).
   */
  async answer(offer: Buffer): Promise<string | undefined> {
    const audio = readAudio(parseSdp(offer), ['PCMU']);
    if (!audio || audio.payloadType !== PCMU) return undefined;
    this.remote = { address: audio.remoteAddress, port: audio.remotePort };
    const te = audio.telephoneEvent !== undefined;
    if (audio.telephoneEvent !== undefined) this.eventPt = audio.telephoneEvent;
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
    socket.on('message', (packet, from) => {
      // Symmetric RTP: answer where the engine really sends from.
      this.remote = { address: from.address, port: from.port };
      if (packet.length < 12) return;
      const pt = (packet[1] ?? 0) & 0x7f;
      if (pt === this.eventPt && pt !== TELEPHONE_EVENT)
        packet[1] = ((packet[1] ?? 0) & 0x80) | TELEPHONE_EVENT;
      this.leg.sendRtp(packet);
    });
    this.leg.onRtp((packet) => {
      if (!this.remote || this.closed) return;
      const pt = (packet[1] ?? 0) & 0x7f;
      if (pt !== PCMU && pt !== TELEPHONE_EVENT) return;
      if (pt === TELEPHONE_EVENT && this.eventPt !== TELEPHONE_EVENT)
        packet[1] = ((packet[1] ?? 0) & 0x80) | this.eventPt;
      socket.send(packet, this.remote.port, this.remote.address);
    });
    const port = socket.address().port;
    const events = te ? ` ${this.eventPt}` : '';
    return [
      'v=0',
      `o=switchboard ${Date.now()} 1 IN IP4 ${this.advertised}`,
      's=switchboard device',
      `c=IN IP4 ${this.advertised}`,
      't=0 0',
      `m=audio ${port} RTP/AVP ${PCMU}${events}`,
      `a=rtpmap:${PCMU} PCMU/8000`,
      ...(te
        ? [`a=rtpmap:${this.eventPt} telephone-event/8000`, `a=fmtp:${this.eventPt} 0-16`]
        : []),
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
