// The SMPP adapter against a real SMPP server (our test SMSC on the package's server mode).
import { afterEach, describe, expect, it } from 'vitest';
import type { InboundSms } from '../../src/messaging/carriers/carrier.js';
import { SmppClient, type SmppSettings } from '../../src/messaging/carriers/smpp/client.js';
import { SubmitError, type Receipt } from '../../src/messaging/carriers/smpp/status.js';
import { TestSmsc } from '../support/smsc.js';
import { until } from '../support/until.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  smscOpts: ConstructorParameters<typeof TestSmsc>[0] = {},
  clientOpts: Partial<SmppSettings> = {},
) {
  const smsc = new TestSmsc(smscOpts);
  const port = await smsc.start();
  cleanups.push(() => smsc.close());
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId: 'test',
    password: 'secret',
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    responseTimeoutMs: 2000,
    ...clientOpts,
  });
  const receipts: Receipt[] = [];
  const inbound: InboundSms[] = [];
  client.on('receipt', (r) => receipts.push(r));
  client.on('inbound', (m) => inbound.push(m));
  client.start();
  cleanups.push(() => client.stop());
  await until('binds', () => client.state().bound === client.state().binds, 5000);
  return { smsc, client, receipts, inbound, port };
}

describe('SMPP client', () => {
  it('binds several transceivers, submits GSM-7 as data_coding 0x00 and gets receipts', async () => {
    const { smsc, client, receipts } = await setup({}, { binds: 3, window: 5 });
    expect(smsc.boundSessions()).toBe(3);
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.submit({ from: '+15550001', to: `+4470000${i}`, body: `hello ${i} @£€`, ref: i }),
      ),
    );
    expect(ids.flat()).toHaveLength(40);
    expect(smsc.submits.every((s) => s.dataCoding === 0)).toBe(true);
    expect(smsc.submits.map((s) => s.text).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `hello ${i} @£€`).sort(),
    );
    await until('receipts', () => receipts.length === 40, 5000);
    expect(receipts.every((r) => r.stat === 'DELIVRD')).toBe(true);
    expect(new Set(receipts.map((r) => r.id))).toEqual(new Set(ids.flat()));
    // Traffic went over more than one bind.
    expect(client.state()).toMatchObject({ binds: 3, bound: 3, outstanding: 0 });
  });

  it('splits long messages (UDH and SAR) and UCS-2 uses data_coding 0x08', async () => {
    const { smsc, client } = await setup({}, { concatenation: 'udh8' });
    const long = 'x'.repeat(200);
    expect(await client.submit({ from: 'ACME', to: '+1555', body: long, ref: 7 })).toHaveLength(2);
    const uni = 'Привет '.repeat(20);
    expect(await client.submit({ from: 'ACME', to: '+1556', body: uni, ref: 8 })).toHaveLength(3);
    const msgs = smsc.messages();
    expect(msgs.map((m) => m.text)).toEqual([long, uni]);
    expect(smsc.submits.slice(2).every((s) => s.dataCoding === 8)).toBe(true);
    expect(smsc.submits[0]!.concat).toEqual({ ref: 7, total: 2, seq: 1 });

    const sar = await setup({}, { concatenation: 'sar' });
    await sar.client.submit({ from: 'ACME', to: '+1557', body: long, ref: 300 });
    expect(sar.smsc.submits[1]!.concat).toEqual({ ref: 300, total: 2, seq: 2 });
    expect(sar.smsc.messages()[0]!.text).toBe(long);
  });

  it('classifies failures: permanent, transient (throttled) and unknown outcome', async () => {
    const { client, smsc } = await setup({ rejectPrefixes: ['999'], maxPerSecond: 3 });
    const err = await client
      .submit({ from: '+1', to: '+999123', body: 'x', ref: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitError);
    expect(err).toMatchObject({ kind: 'permanent', status: 0x0b, twilioCode: 30005 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        client.submit({ from: '+1', to: `+1${i}`, body: 'x', ref: i }),
      ),
    );
    const throttled = results.filter(
      (r) => r.status === 'rejected' && (r.reason as SubmitError).status === 0x58,
    );
    expect(throttled.length).toBeGreaterThan(0);
    expect((throttled[0] as PromiseRejectedResult).reason).toMatchObject({ kind: 'transient' });

    smsc.behaviour.silent = true;
    smsc.behaviour.maxPerSecond = 0;
    const silent = await setup({ silent: true }, { responseTimeoutMs: 300 });
    const e2 = await silent.client
      .submit({ from: '+1', to: '+1', body: 'x', ref: 1 })
      .catch((e: unknown) => e);
    expect(e2).toMatchObject({ kind: 'unknown' });
  });

  it('reconnects with backoff after the SMSC goes away and comes back', async () => {
    const { smsc, client, port } = await setup({}, { binds: 2 });
    await smsc.close();
    await until('binds lost', () => !client.isUp(), 5000);
    expect(client.state().backingOff).toBe(true);
    const down = await client
      .submit({ from: '+1', to: '+2', body: 'x', ref: 1 })
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ kind: 'transient' });
    const again = new TestSmsc();
    await again.start(port);
    cleanups.push(() => again.close());
    await until('rebind', () => client.state().bound === 2, 10_000);
    await client.submit({ from: '+1', to: '+2', body: 'back', ref: 2 });
    expect(again.submits[0]!.text).toBe('back');
  });

  it('receives MO messages', async () => {
    const { smsc, inbound } = await setup();
    smsc.sendMo('+447700900123', '+15550001', 'STOP please');
    smsc.sendMo('+447700900123', '+15550001', 'Привет');
    await until('MO', () => inbound.length === 2, 5000);
    expect(inbound).toEqual([
      { from: '+447700900123', to: '+15550001', body: 'STOP please' },
      { from: '+447700900123', to: '+15550001', body: 'Привет' },
    ]);
    // A concatenated MO (UDH), parts out of order: one message once all have come.
    smsc.sendMo('+447700900124', '+15550001', 'world', { ref: 7, total: 2, seq: 2 });
    smsc.sendMo('+447700900124', '+15550001', 'hello ', { ref: 7, total: 2, seq: 1 });
    await until('concatenated MO', () => inbound.length === 3, 5000);
    expect(inbound[2]).toEqual({ from: '+447700900124', to: '+15550001', body: 'hello world' });
  });
});
