// RTP ports from a configured range. Only even ports are handed out (RFC 3550 §11: RTP even,
// RTCP the next odd one). The cursor walks the range round-robin so a port just released is
// not reused at once (late packets of the old call would land in the new one). A port that
// the OS refuses (taken by another process) is skipped.

import { createSocket, type Socket } from 'node:dgram';

export class PortRangeError extends Error {
  override readonly name = 'PortRangeError';
}

/** Parses "20000-29999" (or "0" for OS-chosen ports) into an inclusive range. */
export function parsePortRange(range: string): { min: number; max: number } {
  const text = range.trim();
  if (text === '0') return { min: 0, max: 0 };
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || min > max)
    throw new PortRangeError(`RTP port range must look like 20000-29999, got "${range}"`);
  return { min, max };
}

export interface BoundSocket {
  socket: Socket;
  port: number;
}

export class PortPool {
  readonly min: number;
  readonly max: number;
  private readonly inUse = new Set<number>();
  private cursor: number;

  constructor(range: string) {
    const { min, max } = parsePortRange(range);
    this.min = min % 2 === 0 ? min : min + 1;
    this.max = max;
    this.cursor = this.min;
    if (min !== 0 && this.min > this.max)
      throw new PortRangeError(`RTP port range "${range}" holds no even port`);
  }

  get size(): number {
    return this.min === 0 ? Infinity : Math.floor((this.max - this.min) / 2) + 1;
  }

  get used(): number {
    return this.inUse.size;
  }

  /** Binds a UDP socket on the next free even port of the range. */
  async bind(address: string): Promise<BoundSocket> {
    const type = address.includes(':') ? 'udp6' : 'udp4';
    if (this.min === 0) {
      const socket = await bindSocket(type, address, 0);
      const port = socket.address().port;
      this.inUse.add(port);
      return { socket, port };
    }
    const attempts = Math.min(this.size, 64 + this.inUse.size);
    for (let i = 0; i < attempts; i++) {
      const port = this.next();
      if (port === undefined) break;
      this.inUse.add(port);
      try {
        const socket = await bindSocket(type, address, port);
        return { socket, port };
      } catch (err) {
        this.inUse.delete(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      }
    }
    throw new PortRangeError(
      `no free RTP port in ${this.min}-${this.max} (${this.inUse.size} in use)`,
    );
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  private next(): number | undefined {
    for (let i = 0; i < this.size; i++) {
      const port = this.cursor;
      this.cursor = this.cursor + 2 > this.max ? this.min : this.cursor + 2;
      if (!this.inUse.has(port)) return port;
    }
    return undefined;
  }
}

function bindSocket(type: 'udp4' | 'udp6', address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, reuseAddr: false });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
