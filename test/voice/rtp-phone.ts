// The media half of a test phone whose signalling sipp does: a UDP socket named in sipp's SDP
// (-key mport). It answers the platform's RTP from where it came (symmetric RTP), sends a
// PCMA tone of its own frequency (or silence), and keeps what it hears with arrival times so a
// test can ask "how loud was frequency f between t0 and t1" (Goertzel).
import { createSocket, type Socket } from 'node:dgram';
import { ALAW_DECODE, ALAW_ENCODE } from '../../src/media/g711.js';

interface Heard {
  at: number;
  samples: Int16Array;
}

export class RtpPhone {
  private readonly heard: Heard[] = [];
  private remote: { address: string; port: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private ts = 0;
  private phase = 0;
  private readonly ssrc = Math.floor(Math.random() * 0xffffffff);
  /** Frequency sent (Hz); undefined sends silence. */
  frequency: number | undefined;
  packetsReceived = 0;
  /** RFC 4733 digits received (payload type 101), one per event. */
  readonly digitsReceived: string[] = [];
  private lastEventTs = -1;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => {
      if (msg.length >= 16 && (msg[1]! & 0x7f) === 101) {
        // One event is several packets with the same timestamp: count it once.
        const ts = msg.readUInt32BE(4);
        if (ts !== this.lastEventTs) this.digitsReceived.push('0123456789*#ABCD'[msg[12]!] ?? '?');
        this.lastEventTs = ts;
        return;
      }
      if (msg.length < 12 || (msg[1]! & 0x7f) !== 8) return;
      this.packetsReceived++;
      this.remote ??= { address: rinfo.address, port: rinfo.port };
      const payload = msg.subarray(12);
      const samples = new Int16Array(payload.length);
      for (let i = 0; i < payload.length; i++) samples[i] = ALAW_DECODE[payload[i]!]!;
      this.heard.push({ at: Date.now(), samples });
    });
    this.timer = setInterval(() => this.send(), 20);
  }

  static async open(frequency?: number): Promise<RtpPhone> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const phone = new RtpPhone(socket, socket.address().port);
    phone.frequency = frequency;
    return phone;
  }

  private send(): void {
    if (!this.remote) return;
    const pkt = Buffer.alloc(12 + 160);
    pkt[0] = 0x80;
    pkt[1] = 8;
    pkt.writeUInt16BE(this.seq++ & 0xffff, 2);
    pkt.writeUInt32BE(this.ts >>> 0, 4);
    pkt.writeUInt32BE(this.ssrc, 8);
    this.ts += 160;
    for (let i = 0; i < 160; i++) {
      let v = 0;
      if (this.frequency) {
        v = Math.round(8000 * Math.sin(this.phase));
        this.phase += (2 * Math.PI * this.frequency) / 8000;
      }
      pkt[12 + i] = ALAW_ENCODE[v & 0xffff]!;
    }
    this.socket.send(pkt, this.remote.port, this.remote.address);
  }

  /** Sends one RFC 4733 digit (payload type 101) at the current timestamp: 3 updates, 3 ends. */
  async digit(key: string): Promise<void> {
    const remote = this.remote;
    if (!remote) throw new Error('no RTP from the platform yet');
    const event = '0123456789*#'.indexOf(key);
    const ts = this.ts;
    for (let i = 1; i <= 6; i++) {
      const end = i > 3;
      const pkt = Buffer.alloc(16);
      pkt[0] = 0x80;
      pkt[1] = (i === 1 ? 0x80 : 0) | 101;
      pkt.writeUInt16BE(this.seq++ & 0xffff, 2);
      pkt.writeUInt32BE(ts >>> 0, 4);
      pkt.writeUInt32BE(this.ssrc, 8);
      pkt[12] = event;
      pkt[13] = (end ? 0x80 : 0) | 10;
      pkt.writeUInt16BE(Math.min(i, 3) * 400, 14);
      this.socket.send(pkt, remote.port, remote.address);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Amplitude of `frequency` in what arrived between `from` and `to` (epoch ms). */
  level(frequency: number, from: number, to: number): number {
    const frames = this.heard.filter((h) => h.at >= from && h.at < to);
    if (frames.length === 0) return 0;
    // Goertzel over each 20 ms frame, averaged: robust to gaps between frames.
    const w = (2 * Math.PI * frequency) / 8000;
    const coeff = 2 * Math.cos(w);
    let sum = 0;
    for (const { samples } of frames) {
      let s1 = 0;
      let s2 = 0;
      for (const x of samples) {
        const s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
      sum += (2 * Math.sqrt(Math.max(power, 0))) / samples.length;
    }
    return sum / frames.length;
  }

  /** Root mean square of everything heard between `from` and `to`. */
  rms(from: number, to: number): number {
    let acc = 0;
    let n = 0;
    for (const h of this.heard)
      if (h.at >= from && h.at < to)
        for (const x of h.samples) {
          acc += x * x;
          n++;
        }
    return n ? Math.sqrt(acc / n) : 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}
