// The webhook address policy: outgoing webhooks, callbacks and fetches never reach link-local
// and metadata addresses or the platform's own ports unless the operator allows them; redirects
// stay within the policy; names are checked as they resolve; the sender thread follows the
// policy in force; bodies are bounded in size and in time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/index.js';
import {
  AddressPolicy,
  DEFAULT_ADDRESS_POLICY,
  callWebhook,
  fetchResource,
  setAddressPolicy,
  WebhookSender,
} from '../../src/webhook/index.js';

const token = '0123456789abcdef0123456789abcdef';
let server: Server;
let port: number;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    const path = req.url ?? '';
    if (path.startsWith('/to-metadata')) {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    } else if (path.startsWith('/to-mapped')) {
      res.writeHead(307, { location: 'http://[::ffff:169.254.169.254]/' }).end();
    } else if (path.startsWith('/to-self')) {
      res.writeHead(302, { location: `http://localhost:${port}/ok` }).end();
    } else if (path.startsWith('/drip')) {
      // A body that never ends, a byte at a time: never a pause long enough for a body timeout.
      res.writeHead(200, { 'content-type': 'text/xml' });
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterEach(() => {
  setAddressPolicy(DEFAULT_ADDRESS_POLICY);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const hook = (url: string) => callWebhook({ url, params: { A: '1' }, authToken: token });

describe('address policy', () => {
  it('refuses link-local and metadata addresses however spelt, allows private ones by default', () => {
    const p = new AddressPolicy();
    for (const a of ['169.254.169.254', '169.254.0.1', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      expect(p.refusal(a), a).toMatch(/refuses/);
    }
    expect(p.refusal('fe80::1')).toMatch(/refuses/);
    expect(p.refusal('224.0.0.1')).toMatch(/refuses/);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '172.20.0.1',
      '::1',
      '93.184.216.34',
    ]) {
      expect(p.refusal(a), a).toBeUndefined();
    }
  });

  it('is configurable: private ranges off, extra denials, allowances, platform ports', () => {
    const closed = new AddressPolicy({ ...DEFAULT_ADDRESS_POLICY, allowPrivate: false });
    for (const a of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '::1', '0.0.0.0', 'fc00::1']) {
      expect(closed.refusal(a), a).toMatch(/refuses/);
    }
    expect(closed.refusal('93.184.216.34')).toBeUndefined();
    const custom = new AddressPolicy({
      ...DEFAULT_ADDRESS_POLICY,
      allow: ['169.254.169.254'],
      deny: ['203.0.113.0/24'],
      platformPorts: [3000, 6379],
    });
    expect(custom.refusal('169.254.169.254')).toBeUndefined();
    expect(custom.refusal('169.254.0.1')).toMatch(/refuses/);
    expect(custom.refusal('203.0.113.9')).toMatch(/refuses/);
    expect(custom.refusal('127.0.0.1', 6379)).toMatch(/platform's own ports/);
    expect(custom.refusal('127.0.0.1', 3001)).toBeUndefined();
    const opened = new AddressPolicy({
      ...DEFAULT_ADDRESS_POLICY,
      platformPorts: [3000],
      allowPlatformPorts: true,
    });
    expect(opened.refusal('127.0.0.1', 3000)).toBeUndefined();
    expect(() => new AddressPolicy({ ...DEFAULT_ADDRESS_POLICY, deny: ['nonsense'] })).toThrow();
  });

  it('a webhook to a metadata address fails as a connection failure, without a request', async () => {
    const out = await hook('http://169.254.169.254/latest/meta-data/');
    expect(out).toMatchObject({ ok: false, code: 11205 });
    expect(!out.ok && out.message).toMatch(/address policy/);
    const v6 = await hook('http://[fd00:ec2::254]/latest/meta-data/');
    expect(v6).toMatchObject({ ok: false, code: 11205 });
  });

  it('follows redirects only within the policy', async () => {
    const before = hits;
    const out = await hook(`${base}/to-metadata`);
    expect(out).toMatchObject({ ok: false, code: 11205 });
    expect((await hook(`${base}/to-mapped`)).ok).toBe(false);
    expect(hits - before).toBe(2); // only the receiver's own redirects were requested
    await expect(
      fetchResource(`${base}/to-metadata`, { timeoutMs: 2000, maxBytes: 1000 }),
    ).rejects.toThrow(/address policy/);
    expect(await hook(`${base}/to-self`)).toMatchObject({ ok: true, status: 200 });
  });

  it("checks names as they resolve, and refuses the platform's own ports on this machine", async () => {
    setAddressPolicy({ ...DEFAULT_ADDRESS_POLICY, allowPrivate: false });
    const byName = await hook(`http://localhost:${port}/ok`);
    expect(byName).toMatchObject({ ok: false, code: 11205 });
    expect(!byName.ok && byName.message).toMatch(/address policy/);

    setAddressPolicy({ ...DEFAULT_ADDRESS_POLICY, platformPorts: [port] });
    const before = hits;
    for (const url of [`${base}/ok`, `http://localhost:${port}/ok`, `${base}/to-self`]) {
      const out = await hook(url);
      expect(out, url).toMatchObject({ ok: false, code: 11205 });
    }
    expect(hits).toBe(before);
    setAddressPolicy({
      ...DEFAULT_ADDRESS_POLICY,
      platformPorts: [port],
      allowPlatformPorts: true,
    });
    expect(await hook(`${base}/ok`)).toMatchObject({ ok: true, status: 200 });
  });

  it('bounds a body that never ends in time as well as size', async () => {
    const started = Date.now();
    const out = await callWebhook({
      url: `${base}/drip`,
      params: {},
      authToken: token,
      timeoutMs: 200,
      attempts: 1,
    });
    expect(out).toMatchObject({ ok: false, code: 11200 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("the sender's thread follows the policy in force", async () => {
    const failures: unknown[] = [];
    const logger = {
      warn: (o: unknown) => failures.push(o),
      error: () => undefined,
    } as unknown as Logger;
    const sender = new WebhookSender(logger, 'status callback');
    sender.start();
    setAddressPolicy({ ...DEFAULT_ADDRESS_POLICY, platformPorts: [port] });
    const before = hits;
    sender.send('k', { url: `${base}/ok`, params: {}, authToken: token, attempts: 1 });
    await sender.drain();
    expect(hits).toBe(before);
    expect(JSON.stringify(failures)).toMatch(/address policy/);
    setAddressPolicy(DEFAULT_ADDRESS_POLICY);
    sender.send('k', { url: `${base}/ok`, params: {}, authToken: token, attempts: 1 });
    await sender.close();
    expect(hits).toBe(before + 1);
  });
});
