// The TLS listener (SWITCHBOARD_TLS_PORT): the same REST API as the plain HTTP port, plus the
// capabilities' WebSocket endpoints (the Voice SDK's /signal speaks only wss). The certificate
// comes from configuration, or a self-signed pair is made once in the data directory
// (`selfsigned`: a maintained, pure-JS generator, no openssl binary needed) and reused.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../core/index.js';
import type { WebSocketRoute } from '../plugin/index.js';

export interface TlsOptions {
  readonly port: number;
  readonly host: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly dataDir: string;
  readonly http: FastifyInstance;
  readonly websockets: readonly WebSocketRoute[];
  readonly logger: Logger;
}

export interface TlsListener {
  readonly port: number;
  /** Where the certificate in use lives (self-signed: in the data directory). */
  readonly certFile: string;
  close(): Promise<void>;
}

/** The configured pair, else the data directory's self-signed one (made on first start). */
async function certificate(
  o: TlsOptions,
): Promise<{ cert: string; key: string; certFile: string }> {
  if (o.certFile && o.keyFile)
    return {
      cert: readFileSync(o.certFile, 'utf8'),
      key: readFileSync(o.keyFile, 'utf8'),
      certFile: o.certFile,
    };
  const dir = join(o.dataDir, 'tls');
  const certFile = join(dir, 'self-signed-cert.pem');
  const keyFile = join(dir, 'self-signed-key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const pems = await generate([{ name: 'commonName', value: 'switchboard.local' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: 'switchboard.local' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
    o.logger.info(
      { certFile },
      'made a self-signed TLS certificate (docs/presence.md: trust it or configure a real one)',
    );
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

export async function startTlsListener(o: TlsOptions): Promise<TlsListener> {
  const { cert, key, certFile } = await certificate(o);
  // Requests go to the same Fastify instance as the plain port: one set of routes and hooks.
  const server: Server = createServer({ cert, key }, (req, res) => {
    o.http.server.emit('request', req, res);
  });
  const sockets = new Set<WebSocket>();
  const endpoints = new Map(
    o.websockets.map((route) => {
      const wss = new WebSocketServer({ noServer: true, maxPayload: route.maxFrameBytes });
      return [route.path, { route, wss }] as const;
    }),
  );
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const endpoint = endpoints.get(path);
    if (!endpoint) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    endpoint.wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const handler = endpoint.route.accept(
        {
          send: (text) => {
            if (ws.readyState === ws.OPEN) ws.send(text);
          },
          close: (code, reason) => ws.close(code, reason),
        },
        { remoteAddress: req.socket.remoteAddress ?? '' },
      );
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          ws.close(1003, 'binary frames are not part of the protocol');
          return;
        }
        handler.message(
          Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.concat(data as Buffer[]).toString('utf8'),
        );
      });
      // Oversized frames (1009) and broken framing end here; the server keeps serving.
      ws.on('error', (err) => o.logger.debug({ err: err.message }, 'websocket error'));
      ws.on('close', () => {
        sockets.delete(ws);
        handler.closed();
      });
    });
  });
  server.on('tlsClientError', (err) =>
    o.logger.debug({ err: err.message }, 'TLS handshake failed'),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    certFile,
    async close() {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
