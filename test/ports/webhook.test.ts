// Webhooks out are signed so that the official SDK's validator accepts them, and failures
// come back as Twilio error codes instead of exceptions.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWebhook, WebhookSender } from '../../src/webhook/index.js';
import { createLogger } from '../../src/core/index.js';

const token = '0123456789abcdef0123456789abcdef';
let server: Server;
let base: string;
const seen: { valid: boolean; method: string; params: Record<string, string> }[] = [];

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const url = `${base}${req.url}`;
      if (req.url?.startsWith('/slow')) return; // never answers
      if (req.url?.startsWith('/moved')) {
        // /moved-303 → GET /get, /moved-307 → the same request to /voice
        const code = Number(req.url.slice(7, 10));
        res.writeHead(code, { location: code === 303 ? '/get?from=303' : `${base}/voice` });
        res.end('moved');
        return;
      }
      if (req.url?.startsWith('/late')) await new Promise((r) => setTimeout(r, 150));
      if (req.url?.startsWith('/big')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(5000));
        return;
      }
      const params =
        req.method === 'POST' ? Object.fromEntries(new URLSearchParams(await body(req))) : {};
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      seen.push({
        valid: twilio.validateRequest(token, signature, url, params),
        method: req.method ?? '',
        params,
      });
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/xml' });
      res.end('<Response/>');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('webhook client', () => {
  it('signs POST parameters the way validateRequest checks them', async () => {
    const params = {
      CallSid: 'CA' + '1'.repeat(32),
      From: '+15551234567',
      To: 'sip:alice@example.com',
      Digits: '1 2#',
    };
    const out = await callWebhook({ url: `${base}/voice?x=1`, params, authToken: token });
    expect(out).toMatchObject({ ok: true, status: 200, body: '<Response/>' });
    expect(seen.at(-1)).toEqual({ valid: true, method: 'POST', params });
  });

  it('signs GET requests whose parameters travel in the query string', async () => {
    const out = await callWebhook({
      url: `${base}/get`,
      method: 'GET',
      params: { A: '1', B: 'two words' },
      authToken: token,
    });
    expect(out.ok).toBe(true);
    expect(seen.at(-1)).toMatchObject({ valid: true, method: 'GET' });
  });

  it('reports a timeout as 11200, a refused connection as 11205, and retries 5xx when asked', async () => {
    const slow = await callWebhook({
      url: `${base}/slow`,
      params: {},
      authToken: token,
      timeoutMs: 200,
      attempts: 1,
    });
    expect(slow).toMatchObject({ ok: false, code: 11200 });
    const refused = await callWebhook({
      url: 'http://127.0.0.1:1/x',
      params: {},
      authToken: token,
      attempts: 2,
      firstDelayMs: 10,
    });
    expect(refused).toMatchObject({ ok: false, code: 11205 });
    const before = seen.length;
    const failing = await callWebhook({
      url: `${base}/fail`,
      params: {},
      authToken: token,
      attempts: 3,
      retryOnStatus: true,
      firstDelayMs: 10,
    });
    expect(failing).toMatchObject({ ok: true, status: 500 });
    expect(seen.length - before).toBe(3);
  });

  it('follows redirects as undici does (303 becomes a GET) and bounds the body it reads', async () => {
    const params = { MessageStatus: 'sent' };
    const get = await callWebhook({ url: `${base}/moved-303`, params, authToken: token });
    expect(get).toMatchObject({ ok: true, status: 200, body: '<Response/>' });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', params: {} });
    const post = await callWebhook({ url: `${base}/moved-307`, params, authToken: token });
    expect(post).toMatchObject({ ok: true, status: 200, contentType: 'text/xml' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', params });
    const big = await callWebhook({
      url: `${base}/big`,
      params,
      authToken: token,
      attempts: 1,
      maxBytes: 1000,
    });
    expect(big).toMatchObject({ ok: false, code: 11205 });
    expect(await callWebhook({ url: `${base}/big`, params, authToken: token })).toMatchObject({
      ok: true,
      body: 'x'.repeat(5000),
      contentType: 'text/plain',
    });
  });

  it('sends from its thread in order per key, signed, and drains before closing', async () => {
    const sender = new WebhookSender(createLogger('silent'), 'status callback');
    const before = seen.length;
    // The first of each key is answered late: the second must still arrive after it.
    for (const key of ['a', 'b']) {
      sender.send(key, {
        url: `${base}/late`,
        params: { Key: key, MessageStatus: 'sent' },
        authToken: token,
      });
      sender.send(key, {
        url: `${base}/now`,
        params: { Key: key, MessageStatus: 'delivered' },
        authToken: token,
      });
    }
    await sender.close();
    const got = seen.slice(before);
    expect(got).toHaveLength(4);
    expect(got.every((c) => c.valid)).toBe(true);
    for (const key of ['a', 'b']) {
      expect(got.filter((c) => c.params.Key === key).map((c) => c.params.MessageStatus)).toEqual([
        'sent',
        'delivered',
      ]);
    }
  });

  it('pipelines status callbacks on few connections, and resends those a dropped connection lost', async () => {
    // A receiver that drops the connection instead of answering every 25th request: the ones
    // pipelined behind it on that connection are sent again on another.
    let requests = 0;
    let connections = 0;
    const got = new Map<string, number>();
    const receiver = createServer((req, res) => {
      void body(req).then((raw) => {
        if (++requests % 25 === 0) return req.socket.destroy();
        const key = new URLSearchParams(raw).get('Key') ?? '';
        got.set(key, (got.get(key) ?? 0) + 1);
        res.writeHead(204).end();
      });
    });
    receiver.on('connection', () => connections++);
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/status`;
    const sender = new WebhookSender(createLogger('silent'), 'status callback', 8);
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    for (const key of keys) {
      sender.send(key, {
        url,
        params: { Key: key, MessageStatus: 'delivered' },
        authToken: token,
        attempts: 3,
        retryOnStatus: true,
      });
    }
    await sender.close();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
    // Every callback arrived (a dropped one may have been answered once and sent again).
    expect(keys.filter((k) => !got.has(k))).toEqual([]);
    // 128 in flight on 16 pipelined connections, plus those opened after each drop.
    expect(connections).toBeLessThanOrEqual(16 + Math.ceil(requests / 25) + 1);
  });
});
