// UDP and TCP transports (RFC 3261 section 18, RFC 3581 rport/received).
// Socket handlers never throw: parse failures are answered with a 400 when the request is
// identifiable, and dropped otherwise. TCP connections are framed by Content-Length.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/index.js';
import {
  formatUri,
  newBranch,
  serialize,
  type SipMessage,
  type SipResponse,
  type SipUri,
  type Via,
} from './message.js';
import { SipParseError, StreamFramer, parseMessage, rawErrorResponse } from './parser.js';

export type TransportName = 'udp' | 'tcp';

/** Where a message came from or goes to. */
export interface Peer {
  transport: TransportName;
  address: string;
  port: number;
}

export interface TransportOptions {
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a free one. */
  port?: number;
  /** Address advertised in Via and Contact (NAT); defaults to the bind address or 127.0.0.1. */
  publicAddress?: string;
  /** Port advertised in Via and Contact when a NAT maps the port (defaults to the bound port). */
  publicPort?: number;
  logger?: Logger;
  udp?: boolean;
  tcp?: boolean;
  /** Close idle TCP connections after this long (default 5 minutes). */
  tcpIdleMs?: number;
  /** Bound on an outgoing TCP connect (default 5 s). */
  connectTimeoutMs?: number;
  maxConnections?: number;
  /**
   * Answer to the packet's source port even when the client did not ask with `rport`
   * (what Kamailio calls force_rport; default true: NATed phones rarely ask).
   */
  forceRport?: boolean;
}

export type MessageHandler = (msg: SipMessage, source: Peer) => void;

export interface TransportStats {
  received: number;
  sent: number;
  malformed: number;
  rejected400: number;
  sendErrors: number;
}

interface Conn {
  socket: Socket;
  framer: StreamFramer;
  key: string;
  /** Messages queued while connecting. */
  pending: Buffer[] | null;
}

function peerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export class SipTransport {
  readonly stats: TransportStats = {
    received: 0,
    sent: 0,
    malformed: 0,
    rejected400: 0,
    sendErrors: 0,
  };
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Map<string, Conn>();
  private handler: MessageHandler = () => {};
  private closed = false;
  private boundPort = 0;
  readonly publicAddress: string;
  private readonly log: Logger | undefined;

  private constructor(private readonly opts: TransportOptions) {
    const host = opts.host ?? '0.0.0.0';
    this.publicAddress =
      opts.publicAddress ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
    this.log = opts.logger;
  }

  static async listen(opts: TransportOptions): Promise<SipTransport> {
    const t = new SipTransport(opts);
    await t.bind();
    return t;
  }

  /** The bound port (UDP and TCP share it). */
  get port(): number {
    return this.boundPort;
  }

  /** Port written into Via/Contact. */
  get publicPort(): number {
    return this.opts.publicPort ?? this.boundPort;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** A fresh top Via for a request we originate. */
  via(transport: TransportName, branch = newBranch()): Via {
    return {
      transport: transport.toUpperCase(),
      host: this.publicAddress,
      port: this.publicPort,
      params: { branch, rport: null },
    };
  }

  contactUri(user: string | undefined, transport: TransportName): SipUri {
    const uri: SipUri = {
      scheme: 'sip',
      host: this.publicAddress,
      port: this.publicPort,
      params: transport === 'tcp' ? { transport: 'tcp' } : {},
    };
    if (user !== undefined && user !== '') uri.user = user;
    return uri;
  }

  contact(user: string | undefined, transport: TransportName): string {
    return `<${formatUri(this.contactUri(user, transport))}>`;
  }

  private async bind(): Promise<void> {
    const host = this.opts.host ?? '0.0.0.0';
    const wantUdp = this.opts.udp !== false;
    const wantTcp = this.opts.tcp !== false;
    let lastErr: unknown;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        let port = this.opts.port ?? 5060;
        if (wantUdp) {
          this.udp = await this.bindUdp(host, port);
          port = this.udp.address().port;
        }
        if (wantTcp) {
          this.tcp = await this.bindTcp(host, port);
          const addr = this.tcp.address();
          if (addr !== null && typeof addr === 'object') port = addr.port;
        }
        this.boundPort = port;
        return;
      } catch (err) {
        lastErr = err;
        this.udp?.close();
        this.udp = undefined;
        // A random UDP port may be taken on TCP: retry only when the port was ours to pick.
        if ((this.opts.port ?? 5060) !== 0) break;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private bindUdp(host: string, port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
      const onError = (err: Error): void => reject(err);
      sock.once('error', onError);
      sock.bind(port, host, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.log?.warn({ err }, 'sip udp socket error'));
        sock.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo));
        resolve(sock);
      });
    });
  }

  private bindTcp(host: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.adopt(sock));
      server.maxConnections = this.opts.maxConnections ?? 4096;
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log?.warn({ err }, 'sip tcp server error'));
        resolve(server);
      });
    });
  }

  // ------------------------------------------------------------------ receiving

  private onDatagram(buf: Buffer, rinfo: RemoteInfo): void {
    try {
      // Lone CRLFs are keep-alives (RFC 5626 4.4.1 uses them over UDP with STUN; answer nothing).
      if (buf.length <= 4 && (buf[0] === 13 || buf[0] === 10 || buf.length === 0)) return;
      this.deliver(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }, undefined);
    } catch (err) {
      this.log?.error({ err }, 'sip udp handler failed');
    }
  }

  private adopt(socket: Socket, key?: string): Conn {
    const k = key ?? peerKey(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    const conn: Conn = { socket, framer: new StreamFramer(), key: k, pending: null };
    this.conns.set(k, conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.tcpIdleMs ?? 300_000);
    socket.on('timeout', () => socket.destroy());
    socket.on('error', (err) => this.log?.debug({ err: err.message, peer: k }, 'sip tcp error'));
    socket.on('close', () => {
      if (this.conns.get(k) === conn) this.conns.delete(k);
    });
    socket.on('data', (chunk: Buffer) => this.onStream(conn, chunk));
    return conn;
  }

  private onStream(conn: Conn, chunk: Buffer): void {
    try {
      const peer: Peer = {
        transport: 'tcp',
        address: conn.socket.remoteAddress ?? '',
        port: conn.socket.remotePort ?? 0,
      };
      conn.framer.push(chunk);
      for (let frame = conn.framer.next(); frame !== null; frame = conn.framer.next()) {
        if (frame.kind === 'ping') {
          conn.socket.write('\r\n');
        } else if (frame.kind === 'error') {
          this.stats.malformed++;
          this.reject(frame.error, peer, conn);
          conn.socket.end();
          setTimeout(() => conn.socket.destroy(), 1000).unref();
          return;
        } else {
          this.deliver(frame.data, peer, conn);
        }
      }
    } catch (err) {
      this.log?.error({ err }, 'sip tcp handler failed');
      conn.socket.destroy();
    }
  }

  private deliver(buf: Buffer, source: Peer, conn: Conn | undefined): void {
    const msg = parseMessage(buf);
    if (msg instanceof SipParseError) {
      if (msg.code === 'empty') return;
      this.stats.malformed++;
      this.reject(msg, source, conn);
      return;
    }
    this.stats.received++;
    if (msg.kind === 'request') {
      // RFC 3261 18.2.1 and RFC 3581: remember where the request really came from.
      const top = msg.vias[0] as Via;
      const rport = top.params.rport;
      if (rport === null || (rport === undefined && this.opts.forceRport !== false))
        top.params.rport = String(source.port);
      if (top.host !== source.address || top.params.rport !== undefined)
        top.params.received = source.address;
    }
    this.handler(msg, source);
  }

  private reject(err: SipParseError, source: Peer, conn: Conn | undefined): void {
    this.log?.debug({ code: err.code, reason: err.message, peer: source }, 'sip malformed message');
    const reply = rawErrorResponse(err);
    if (reply === null) return;
    this.stats.rejected400++;
    if (conn !== undefined) conn.socket.write(reply);
    else this.udp?.send(reply, source.port, source.address);
  }

  // ------------------------------------------------------------------ sending

  /** Send a message to a peer (opening a TCP connection when needed). Never throws. */
  send(msg: SipMessage, dest: Peer): void {
    this.sendRaw(serialize(msg), dest);
  }

  sendRaw(data: Buffer, dest: Peer): void {
    if (this.closed) return;
    try {
      this.stats.sent++;
      if (dest.transport === 'udp') {
        if (this.udp === undefined) throw new Error('UDP transport disabled');
        this.udp.send(data, dest.port, dest.address, (err) => {
          if (err) this.onSendError(err, dest);
        });
        return;
      }
      const key = peerKey(dest.address, dest.port);
      let conn = this.conns.get(key);
      if (conn === undefined || conn.socket.destroyed) conn = this.open(dest, key);
      if (conn.pending !== null) conn.pending.push(data);
      else conn.socket.write(data);
    } catch (err) {
      this.onSendError(err, dest);
    }
  }

  private onSendError(err: unknown, dest: Peer): void {
    this.stats.sendErrors++;
    this.log?.debug(
      { err: err instanceof Error ? err.message : String(err), dest },
      'sip send failed',
    );
  }

  private open(dest: Peer, key: string): Conn {
    const socket = connect({ host: dest.address, port: dest.port });
    const conn = this.adopt(socket, key);
    conn.pending = [];
    const timer = setTimeout(
      () => socket.destroy(new Error('connect timeout')),
      this.opts.connectTimeoutMs ?? 5000,
    );
    timer.unref();
    socket.once('connect', () => {
      clearTimeout(timer);
      const queued = conn.pending ?? [];
      conn.pending = null;
      for (const b of queued) socket.write(b);
    });
    socket.once('close', () => clearTimeout(timer));
    return conn;
  }

  /**
   * Send a response where RFC 3261 18.2.2 and RFC 3581 say: back over the request's TCP
   * connection while it is open, else to `received`:`rport` (or the Via sent-by).
   */
  sendResponse(res: SipResponse, source: Peer | undefined): void {
    this.sendRaw(serialize(res), this.responsePeer(res, source));
  }

  /**
   * `responseDestination`, except that a TCP response whose connection has gone is sent on a
   * new connection to `received` and the Via sent-by port (RFC 3261 18.2.2), not to the
   * closed connection's ephemeral port.
   */
  responsePeer(res: SipResponse, source: Peer | undefined): Peer {
    const dest = responseDestination(res, source);
    if (dest.transport !== 'tcp' || dest !== source) return dest;
    const open = this.conns.get(peerKey(dest.address, dest.port));
    if (open !== undefined && !open.socket.destroyed) return dest;
    const top = res.vias[0];
    const received = top?.params.received;
    return {
      transport: 'tcp',
      address: typeof received === 'string' ? received : dest.address,
      port: top?.port ?? 5060,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns.values()) c.socket.destroy();
    this.conns.clear();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }
}

/** Where a response to a request goes (the request's top Via, with rport/received honoured). */
export function responseDestination(res: SipResponse, source: Peer | undefined): Peer {
  const top = res.vias[0];
  if (top === undefined) {
    return source ?? { transport: 'udp', address: '127.0.0.1', port: 5060 };
  }
  const transport: TransportName = top.transport === 'TCP' ? 'tcp' : 'udp';
  if (transport === 'tcp' && source !== undefined && source.transport === 'tcp') return source;
  const received = top.params.received;
  const rport = top.params.rport;
  const address =
    received !== undefined && received !== null ? received : top.host.replace(/^\[|\]$/g, '');
  const port =
    rport !== undefined && rport !== null && /^\d+$/.test(rport)
      ? Number(rport)
      : (top.port ?? 5060);
  return { transport, address, port };
}
