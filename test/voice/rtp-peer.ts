// The media end of a test caller: sipp does the SIP, this socket (the port in the caller's SDP)
// does the RTP. Once the platform's first packet arrives (symmetric RTP: from the port it
// listens on), it answers every 20 ms with PCMA frames built from its own byte pattern, and it
// counts the frames it receives that carry another peer's pattern — proof that a bridge relays
// audio from one caller to the other.
import { createSocket, type RemoteInfo } from 'node:dgram';

export interface RtpPeer {
  readonly port: number;
  /** Received PCMA frames made only of these bytes. */
  framesOf(pattern: readonly number[]): number;
  close(): void;
}

export async function startRtpPeer(pattern: readonly number[]): Promise<RtpPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const payload = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) payload[i] = pattern[i % pattern.length]!;
  const frames: Buffer[] = [];
  let peer: RemoteInfo | undefined;
  let seq = 0;
  const ssrc = Math.floor(Math.random() * 2 ** 31);
  const timer = setInterval(() => {
    if (!peer) return;
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 8;
    header.writeUInt16BE(seq & 0xffff, 2);
    header.writeUInt32BE((seq * 160) >>> 0, 4);
    header.writeUInt32BE(ssrc, 8);
    seq++;
    socket.send(Buffer.concat([header, payload]), peer.port, peer.address);
  }, 20);
  socket.on('message', (msg, rinfo) => {
    peer ??= rinfo;
    if (msg.length > 12 && (msg[1]! & 0x7f) === 8) frames.push(msg.subarray(12));
  });
  return {
    port: socket.address().port,
    framesOf(p) {
      const set = new Set(p);
      return frames.filter((f) => f.every((b) => set.has(b))).length;
    },
    close() {
      clearInterval(timer);
      socket.close();
    },
  };
}
