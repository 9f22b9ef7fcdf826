// Status callbacks reach the customer's server one request at a time on each keep-alive
// connection unless the operator opts in to HTTP/1.1 pipelining (SWITCHBOARD_CALLBACK_PIPELINING):
// many servers and proxies handle pipelining badly. The receiver here is a raw TCP server that
// answers each request 30 ms late and notes whether another request arrived on the same
// connection before that answer.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createProvider, startSmsc, waitFor } from './support.js';

interface Receiver {
  url: string;
  delivered: number;
  /** Most requests seen waiting for their answer on one connection. */
  maxWaiting: number;
  connections: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = {
    url: '',
    delivered: 0,
    maxWaiting: 0,
    connections: 0,
    close: () => close(),
  };
  const server: Server = createServer((socket) => {
    r.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let waiting = 0;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const body = buf.subarray(end + 4, end + 4 + length).toString();
        buf = buf.subarray(end + 4 + length);
        waiting++;
        r.maxWaiting = Math.max(r.maxWaiting, waiting);
        if (body.includes('MessageStatus=delivered')) r.delivered++;
        setTimeout(() => {
          waiting--;
          if (!socket.destroyed)
            socket.write('HTTP/1.1 204 No Content\r\nKeep-Alive: timeout=5\r\n\r\n');
        }, 30);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
  const close = () =>
    new Promise<void>((res) => {
      for (const s of sockets) s.destroy();
      server.close(() => res());
    });
  return r;
}

let t: TestPlatform | undefined;
let smsc: TestSmsc | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  await t?.cleanup();
  await smsc?.close();
  await receiver?.close();
  t = smsc = receiver = undefined;
});

/** Sends 40 messages at once and waits for their delivered callbacks. */
async function burst(pipelining?: number): Promise<Receiver> {
  t = await startTestPlatform(pipelining ? { callbackPipelining: pipelining } : {});
  smsc = await startSmsc({ receiptDelayMs: 1 });
  receiver = await startReceiver();
  await createProvider(t, {
    name: 'smsc',
    port: smsc.port,
    prices: { '44': 0.02 },
    throughput: 1000,
  });
  await waitFor(() => smsc!.boundSessions() === 2, 10_000, 'binds');
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      t!.client.messages.create({
        to: `+4477009${String(i).padStart(5, '0')}`,
        from: '+15550001111',
        body: `callback ${i}`,
        statusCallback: receiver!.url,
      }),
    ),
  );
  await waitFor(() => receiver!.delivered === 40, 20_000, 'delivered callbacks');
  return receiver;
}

describe('Status callback connections', () => {
  it('sends one request at a time on each keep-alive connection by default', async () => {
    const r = await burst();
    expect(r.maxWaiting).toBe(1);
    // Kept alive: far fewer connections than the 80 callbacks (sent, delivered).
    expect(r.connections).toBeLessThan(80);
  });

  it('pipelines them only when the operator opts in', async () => {
    const r = await burst(8);
    expect(r.maxWaiting).toBeGreaterThan(1);
  });
});
