// Shared pieces of the messaging tests: test SMSCs, a webhook receiver that checks signatures
// with the SDK's validateRequest, and bounded waiting.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { TestSmsc, type SmscBehaviour } from '../support/smsc.js';
import { request } from '../support/platform.js';

export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startSmsc(b: Partial<SmscBehaviour> = {}): Promise<TestSmsc> {
  const smsc = new TestSmsc(b);
  await smsc.start();
  return smsc;
}

export interface Hook {
  url: string;
  calls: { path: string; params: Record<string, string>; valid: boolean }[];
  /** TwiML (or anything) to answer on a path. */
  replies: Map<string, string>;
  close(): Promise<void>;
}

export async function startWebhook(authToken: () => string): Promise<Hook> {
  const calls: Hook['calls'] = [];
  const replies = new Map<string, string>();
  let base = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const valid = twilio.validateRequest(
        authToken(),
        String(req.headers['x-twilio-signature'] ?? ''),
        base + (req.url ?? ''),
        params,
      );
      calls.push({ path: req.url ?? '', params, valid });
      const reply = replies.get(req.url ?? '');
      res.writeHead(200, { 'content-type': reply ? 'text/xml' : 'text/plain' });
      res.end(reply ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    calls,
    replies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function createProvider(
  t: { url: string; accountSid: string; authToken: string },
  p: {
    name: string;
    port: number;
    prices: Record<string, number>;
    throughput: number;
    maxWaitMs?: number;
    maxQueue?: number;
    binds?: number;
    window?: number;
    /** More Settings (e.g. inDoubt, inDoubtGraceMs). */
    settings?: Record<string, unknown>;
  },
): Promise<Record<string, unknown>> {
  const form = new URLSearchParams({
    Name: p.name,
    Kind: 'smpp',
    Settings: JSON.stringify({
      host: '127.0.0.1',
      port: p.port,
      systemId: 'test',
      password: 'secret',
      binds: p.binds ?? 2,
      window: p.window ?? 10,
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      responseTimeoutMs: 3000,
      ...p.settings,
    }),
    Prices: JSON.stringify(p.prices),
    Throughput: String(p.throughput),
    MaxWaitMs: String(p.maxWaitMs ?? 60_000),
    ...(p.maxQueue !== undefined ? { MaxQueue: String(p.maxQueue) } : {}),
  });
  const res = await request(t, 'POST', '/messaging/v1/Providers', form.toString());
  if (res.status !== 201)
    throw new Error(`provider create: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}
