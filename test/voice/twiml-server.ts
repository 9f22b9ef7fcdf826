// A customer's web application for voice tests: serves TwiML per path and records every
// request, checking its X-Twilio-Signature with the official SDK's validator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface SeenRequest {
  path: string;
  method: string;
  params: Record<string, string>;
  signatureValid: boolean;
  at: number;
}

export interface TwimlServer {
  url: string;
  seen: SeenRequest[];
  /** Path → TwiML (or a function of the request's parameters). */
  routes: Map<
    string,
    | string
    | ((p: Record<string, string>) => string | { status: number; body: string; delayMs?: number })
  >;
  setAuthToken(token: string): void;
  close(): Promise<void>;
}

export async function startTwimlServer(): Promise<TwimlServer> {
  let authToken = '';
  const seen: SeenRequest[] = [];
  const routes: TwimlServer['routes'] = new Map();
  let base = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const params =
        req.method === 'POST'
          ? Object.fromEntries(new URLSearchParams(body))
          : Object.fromEntries(url.searchParams);
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      const signedUrl = req.method === 'POST' ? `${base}${req.url}` : `${base}${req.url}`;
      seen.push({
        path: url.pathname,
        method: req.method ?? '',
        params,
        signatureValid: twilio.validateRequest(
          authToken,
          signature,
          signedUrl,
          req.method === 'POST' ? params : {},
        ),
        at: Date.now(),
      });
      const route = routes.get(url.pathname);
      const out = typeof route === 'function' ? route(params) : route;
      if (out === undefined) {
        res.writeHead(404).end();
        return;
      }
      const reply = typeof out === 'string' ? { status: 200, body: out, delayMs: 0 } : out;
      setTimeout(() => {
        if (!res.writableEnded)
          res.writeHead(reply.status, { 'content-type': 'text/xml' }).end(reply.body);
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    seen,
    routes,
    setAuthToken: (t) => (authToken = t),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
