// The status callback outbox on the SQL store (SQLite, or PostgreSQL with DATABASE_URL): what
// a node that died left undelivered is taken over by another once its lease ran out, chain by
// chain and in order, by one node only; a receiver's 5xx is retried with backoff and a 4xx is
// given up on; a stopped node's callbacks wait in the store for the next start.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { callbackMigrations, CallbackOutbox, type OutboxItem } from '../../src/voice/index.js';
import type { CallbackRow } from '../../src/voice/callbacks/tables.js';
import { testSchema } from '../support/schema.js';
import { until } from '../support/until.js';

const logger = createLogger('silent');
const dir = mkdtempSync(join(tmpdir(), 'sb-outbox-'));
let store: Store;
let receiver: Server;
let url = '';
/** What the receiver got: `chain:seq` per request, in arrival order. */
let got: string[] = [];
/** How the receiver answers a `chain:seq` (default 204). */
let answer: (key: string, attempt: number) => number = () => 204;
const attempts = new Map<string, number>();

beforeAll(async () => {
  store = await openStore({
    databaseUrl: process.env.DATABASE_URL,
    schema: process.env.DATABASE_URL ? testSchema('sbt') : undefined,
    dataDir: dir,
  });
  await store.migrate(callbackMigrations);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const p = Object.fromEntries(new URLSearchParams(body));
      const key = `${p.CallSid}:${p.SequenceNumber}`;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      got.push(key);
      res.writeHead(answer(key, n)).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/status`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  got = [];
  attempts.clear();
  answer = () => 204;
});

// Each test's nodes stop with it, so that none takes over the next test's rows.
const outboxes: CallbackOutbox[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.stop(0);
});
function outbox(
  nodeId: string,
  options: Partial<ConstructorParameters<typeof CallbackOutbox>[0]> = {},
) {
  const o = new CallbackOutbox({
    store,
    nodeId,
    logger,
    authToken: async () => 'token',
    leaseMs: 600,
    firstRetryMs: 50,
    maxRetryMs: 200,
    ...options,
  });
  outboxes.push(o);
  return o;
}

const chainSid = () => 'CA' + randomBytes(16).toString('hex');

function row(chain: string, seq: number, extra: Partial<CallbackRow> = {}): CallbackRow {
  return {
    chain,
    seq,
    account_sid: 'AC' + '0'.repeat(32),
    url,
    method: 'POST',
    params: JSON.stringify({ CallSid: chain, SequenceNumber: String(seq) }),
    send: 1,
    closes: 0,
    created_ms: Date.now(),
    delivered_ms: null,
    node_id: 'dead-node',
    lease_until: Date.now() - 1,
    ...extra,
  };
}

async function rowsOf(chain: string): Promise<CallbackRow[]> {
  return store
    .kysely<{ call_callbacks: CallbackRow }>()
    .selectFrom('call_callbacks')
    .selectAll()
    .where('chain', '=', chain)
    .orderBy('seq')
    .execute();
}

function item(chain: string, seq: number, closes = false): OutboxItem {
  return {
    chain,
    seq,
    accountSid: 'AC' + '0'.repeat(32),
    url,
    method: 'POST',
    params: { CallSid: chain, SequenceNumber: String(seq) },
    send: true,
    closes,
    createdMs: Date.now(),
  };
}

describe('status callback outbox', () => {
  it("takes over a dead node's chain from its first undelivered row, once its lease ran out", async () => {
    const dead = chainSid();
    const leased = chainSid();
    const db = store.kysely<{ call_callbacks: CallbackRow }>();
    await db
      .insertInto('call_callbacks')
      .values([
        row(dead, 0, { delivered_ms: Date.now() - 500 }),
        row(dead, 1),
        row(dead, 2, { closes: 1 }),
        // Another node is alive and holds this one.
        row(leased, 0, { node_id: 'live-node', lease_until: Date.now() + 60_000 }),
      ])
      .execute();
    const b = outbox('node-b');
    await b.start({ all: false });
    await until('the dead chain', () => got.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([`${dead}:1`, `${dead}:2`]);
    // The closing row's delivery removed the chain; the leased chain is untouched.
    await until('the chain to go', async () => (await rowsOf(dead)).length === 0);
    expect((await rowsOf(leased)).map((r) => [r.node_id, r.delivered_ms])).toEqual([
      ['live-node', null],
    ]);
  });

  it('lets one node only deliver a chain two nodes find at the same time', async () => {
    const chains = Array.from({ length: 20 }, chainSid);
    await store.insertMany(
      'call_callbacks',
      Object.keys(row('x', 0)) as (keyof CallbackRow)[],
      chains.flatMap((c) => [row(c, 0), row(c, 1), row(c, 2, { closes: 1 })]),
    );
    const [c, d] = [outbox('node-c'), outbox('node-d')];
    await Promise.all([c.start({ all: false }), d.start({ all: false })]);
    await until('every callback', () => got.length >= chains.length * 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.length).toBe(chains.length * 3);
    for (const chain of chains)
      expect(got.filter((k) => k.startsWith(chain))).toEqual([
        `${chain}:0`,
        `${chain}:1`,
        `${chain}:2`,
      ]);
  });

  it('retries a 5xx with backoff, gives a 4xx up, and keeps the chain in order', async () => {
    const chain = chainSid();
    answer = (key, n) => (key.endsWith(':0') && n < 3 ? 503 : key.endsWith(':1') ? 400 : 204);
    const givenUp: number[] = [];
    const e = outbox('node-e', { onGiveUp: (i) => givenUp.push(i.seq) });
    await e.start({ all: false });
    void e.enqueue(item(chain, 0));
    void e.enqueue(item(chain, 1));
    await e.enqueue(item(chain, 2, true));
    await until('the last callback', () => got.includes(`${chain}:2`));
    expect(got).toEqual([`${chain}:0`, `${chain}:0`, `${chain}:0`, `${chain}:1`, `${chain}:2`]);
    expect(givenUp).toEqual([1]);
    await until('the chain to go', async () => (await rowsOf(chain)).length === 0);
  });

  it('leaves what a stopped node could not deliver for the next start', async () => {
    const chain = chainSid();
    answer = () => 503;
    const f = outbox('node-f');
    await f.start({ all: false });
    void f.enqueue(item(chain, 0));
    await f.enqueue(item(chain, 1, true));
    await f.stop(200);
    expect((await rowsOf(chain)).map((r) => [r.seq, r.delivered_ms, r.lease_until])).toEqual([
      [0, null, 0],
      [1, null, 0],
    ]);
    answer = () => 204;
    got = [];
    const g = outbox('node-g');
    await g.start({ all: false });
    await until('both callbacks', () => got.length >= 2);
    expect(got).toEqual([`${chain}:0`, `${chain}:1`]);
  });

  it('stores a burst in batches and delivers every chain', async () => {
    const h = outbox('node-h');
    await h.start({ all: false });
    const chains = Array.from({ length: 200 }, chainSid);
    const stored = chains.flatMap((c) => [
      h.enqueue(item(c, 0)),
      h.enqueue(item(c, 1)),
      h.enqueue(item(c, 2, true)),
    ]);
    await Promise.all(stored);
    await h.drain();
    expect(got.length).toBe(600);
    const left = await store
      .kysely<{ call_callbacks: CallbackRow }>()
      .selectFrom('call_callbacks')
      .select('chain')
      .where('chain', 'in', chains)
      .execute();
    expect(left).toEqual([]);
  });
});
