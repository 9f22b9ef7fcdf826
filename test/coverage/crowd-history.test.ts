// The crowd history (the fleet's paths through each cell) lives behind the store: it survives
// a restart, and two nodes on PostgreSQL + Redis see the same passes whichever node took the
// reports.
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

const SCALE_OUT = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
if (!SCALE_OUT)
  console.warn('\n*** no DATABASE_URL/REDIS_URL: the two-node crowd test skips ***\n');

let t: TestPlatform;
let nodeB: TestPlatform | undefined;
let network: string;
let sim: string;

beforeAll(async () => {
  t = await startTestPlatform();
  const res = await request(
    t,
    'POST',
    '/coverage/v1/Networks',
    new URLSearchParams({ FriendlyName: 'Op', IsoCountry: 'IE', Mcc: '272', Mnc: '01' }).toString(),
  );
  network = res.json.sid as string;
  const ss = t.client.supersim.v1;
  const nap = await ss.networkAccessProfiles.create({ networks: [network] });
  const fleet = await ss.fleets.create({ networkAccessProfile: nap.sid });
  sim = (await ss.sims.create({ iccid: '8988307000066600001', registrationCode: 'X' })).sid;
  await ss.sims(sim).update({ fleet: fleet.sid, status: 'active' });
});
afterAll(async () => {
  await nodeB?.cleanup();
  await t?.cleanup();
});

/** A drive east along a street in Cork, one report a second at about 14 m/s. */
function drive(from: number, n: number, lat: number, agoS: number) {
  const start = Date.now() - agoS * 1000;
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      sim,
      network,
      latitude: lat,
      longitude: -8.47 + i * 0.0002,
      time: new Date(start + i * 1000).toISOString(),
      rsrp: -80 - (i % 20),
      network_mode: 'LTE',
    };
  });
}

async function report(node: TestPlatform, reports: unknown[]) {
  const res = await request(node, 'POST', '/coverage/v1/Reports', JSON.stringify({ reports }), {
    'content-type': 'application/json',
  });
  expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
}

async function passes(node: TestPlatform, lat: number, lng: number): Promise<number> {
  const cell = latLngToCell(lat, lng, 9);
  const res = await request(node, 'GET', `/coverage/v1/Networks/${network}/Cells/${cell}`);
  expect(res.status).toBe(200);
  return res.json.crowd_passes as number;
}

describe('crowd history behind the store', () => {
  it('is still there after a restart', async () => {
    await report(t, drive(0, 30, 51.9, 600));
    // In the history once written (flush, 2 s) and read back.
    const before = await until('passes', async () => {
      const n = await passes(t, 51.9, -8.47 + 10 * 0.0002);
      return n > 0 && n;
    });
    // Written by the periodic flush (2 s) and at stop.
    await t.stop();
    t = await t.restart();
    expect(await passes(t, 51.9, -8.47 + 10 * 0.0002)).toBe(before);
  });

  it.skipIf(!SCALE_OUT)('is the same on two nodes whichever took the reports', async () => {
    nodeB = await startTestPlatform({
      accountSid: t.accountSid,
      authToken: t.authToken,
      redisPrefix: t.config.redisPrefix,
      ...(t.config.databaseSchema ? { databaseSchema: t.config.databaseSchema } : {}),
    });
    const b = nodeB;
    const lat = 51.91;
    expect(await passes(b, lat, -8.47)).toBe(0);
    // The first half of the drive reaches node A, the second half node B.
    await report(t, drive(0, 20, lat, 300));
    await report(b, drive(20, 20, lat, 300));
    // Both nodes end with the whole drive, in one track: the same passes in every cell.
    const cells = [0, 10, 20, 30, 39].map((i) => -8.47 + i * 0.0002);
    const counts = async (node: TestPlatform) =>
      Promise.all(cells.map((lngI) => passes(node, lat, lngI)));
    const onA = await until('node A has all 40 samples', async () => {
      const c = await counts(t);
      return c.every((n) => n > 0) && c;
    });
    await until('node B has what node A has', async () =>
      JSON.stringify(await counts(b)) === JSON.stringify(onA) ? true : undefined,
    );
    // Each sample once: 40 passes over the cells the drive crossed, on each node.
    expect(await passes(t, lat, -8.47)).toBeGreaterThan(0);
  });
});
