// Minimal types for the untyped npm `smpp` package (0.5.x): only what our adapter and the
// test SMSC use. PDU fields are the SMPP 3.4 parameter names the package uses.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface PDU {
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
  }

  export type ResponseCallback = (pdu: PDU) => void;

  export class Session extends EventEmitter {
    socket: Socket;
    /** Last sequence number it gave (its own counter; wraps after 0x7fffffff). */
    sequence: number;
    /** Response callbacks by sequence number (what its reader calls). */
    _callbacks: Record<number, ResponseCallback>;
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: ResponseCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    submit_sm(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    deliver_sm(options: Record<string, unknown>, cb?: ResponseCallback): boolean;
    enquire_link(
      options?: Record<string, unknown> | ResponseCallback,
      cb?: ResponseCallback,
    ): boolean;
    unbind(options?: Record<string, unknown> | ResponseCallback, cb?: ResponseCallback): boolean;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { host: string; port: number; [k: string]: unknown }): Session;
  export function createServer(
    options: Record<string, unknown>,
    listener?: (session: Session) => void,
  ): Server;

  export const PDU: {
    new (command: string, options?: Record<string, unknown>): PDU;
    /** Decodes a whole PDU (header included). */
    new (buffer: Buffer): PDU;
  };

  const smpp: {
    connect: typeof connect;
    createServer: typeof createServer;
    PDU: typeof PDU;
    Session: typeof Session;
  };
  export default smpp;
}
