// The HTTP listener, bound before any capability starts so that the platform's URLs are plain
// values from the beginning (the configured port may be 0: the system picks one). Until the
// routes are mounted it answers 503, as Fastify does while closing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Errors, TwilioError } from '../core/index.js';

export interface HttpListener {
  readonly server: Server;
  /** The port actually bound. */
  readonly port: number;
  /** Hands the requests to `handler` from now on. */
  serve(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Stops accepting connections and waits (at most `graceMs`) for those open to finish. */
  close(graceMs?: number): Promise<void>;
}

const STARTING = JSON.stringify(new TwilioError(Errors.unavailable, 'starting').toJSON());
const notYet = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end(STARTING);
};

export async function bindHttpListener(port: number, host: string): Promise<HttpListener> {
  const server = createServer();
  server.on('request', notYet);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve(handler) {
      server.off('request', notYet);
      server.on('request', handler);
    },
    close(graceMs = 5000) {
      closed ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
