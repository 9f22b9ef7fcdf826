import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryState } from '../state/index.js';
import type { ClientDevice } from '../plugin/index.js';
import { PresenceRegistry, STALE_MS } from './registry.js';

const device = (id: string, node: string, registeredAt: number): ClientDevice => ({
  id,
  accountSid: 'AC' + '0'.repeat(32),
  identity: 'alice',
  kind: 'sdk',
  status: 'available',
  node,
  address: `sip:${id}@127.0.0.1:5999`,
  registeredAt,
  lastSeen: registeredAt,
});

const started: PresenceRegistry[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
});

describe('presence registry', () => {
  it('shares devices between nodes, most recent first, and forgets a silent node', async () => {
    const state = createMemoryState();
    const a = new PresenceRegistry(state, 'node-a', () => undefined);
    const b = new PresenceRegistry(state, 'node-b', () => undefined);
    started.push(a, b);
    await a.start();
    await b.start();
    a.put(device('DV1', 'node-a', 1000));
    b.put(device('DV2', 'node-b', 2000));
    await new Promise((r) => setTimeout(r, 20));
    const acct = 'AC' + '0'.repeat(32);
    expect(a.devices(acct, 'alice').map((d) => d.id)).toEqual(['DV2', 'DV1']);
    expect(b.devices(acct, 'alice').map((d) => d.id)).toEqual(['DV2', 'DV1']);
    // A third node announces a device, then falls silent (crash): gone after STALE_MS.
    await state.publish(
      'presence:devices',
      JSON.stringify({
        t: 'snapshot',
        node: 'node-c',
        v: 1,
        devices: [device('DV3', 'node-c', 3000)],
      }),
    );
    expect(a.devices(acct, 'alice').map((d) => d.id)).toEqual(['DV3', 'DV2', 'DV1']);
    await new Promise((r) => setTimeout(r, STALE_MS + 300));
    expect(a.devices(acct, 'alice').map((d) => d.id)).toEqual(['DV2', 'DV1']);
    // A node leaving in order takes its devices with it at once.
    await b.stop();
    started.splice(started.indexOf(b), 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(a.devices(acct, 'alice').map((d) => d.id)).toEqual(['DV1']);
  });
});
