// The Super SIM API through the official SDK: networks (declared through the coverage
// extension), a network access profile, a fleet, SIMs registered and activated, SMS and IP
// Commands queued and delivered through the SIM's data session, paging and errors.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t.cleanup();
});

async function network(name: string): Promise<string> {
  const res = await request(
    t,
    'POST',
    '/coverage/v1/Networks',
    new URLSearchParams({ FriendlyName: name, IsoCountry: 'IE', Mcc: '272', Mnc: '01' }).toString(),
  );
  expect(res.status).toBe(201);
  return res.json.sid as string;
}

describe('Super SIM API', () => {
  it('manages networks, profiles, fleets and SIMs through the SDK', async () => {
    const ss = t.client.supersim.v1;
    const a = await network('Operator A');
    const b = await network('Operator B');
    expect(a).toMatch(/^HW[0-9a-f]{32}$/);
    const fetched = await ss.networks(a).fetch();
    expect(fetched.friendlyName).toBe('Operator A');
    expect(fetched.identifiers).toEqual([{ mcc: '272', mnc: '01' }]);

    const nap = await ss.networkAccessProfiles.create({ uniqueName: 'ireland', networks: [a] });
    expect(nap.sid).toMatch(/^HA/);
    await ss.networkAccessProfiles(nap.sid).networks.create({ network: b });
    const napNetworks = await ss.networkAccessProfiles(nap.sid).networks.list();
    expect(napNetworks.map((n) => n.sid).sort()).toEqual([a, b].sort());
    await ss.networkAccessProfiles(nap.sid).networks(b).remove();
    expect((await ss.networkAccessProfiles(nap.sid).networks.list()).map((n) => n.sid)).toEqual([
      a,
    ]);
    await ss.networkAccessProfiles(nap.sid).networks.create({ network: b });

    const fleet = await ss.fleets.create({
      networkAccessProfile: 'ireland',
      uniqueName: 'vans',
      dataLimit: 500,
    });
    expect(fleet.sid).toMatch(/^HF/);
    expect(fleet.networkAccessProfileSid).toBe(nap.sid);
    expect(fleet.dataLimit).toBe(500);
    expect(fleet.dataMetering).toBe('payg');
    const renamed = await ss.fleets('vans').update({ uniqueName: 'trucks' });
    expect(renamed.uniqueName).toBe('trucks');

    const sims = [];
    for (let i = 0; i < 3; i++)
      sims.push(
        await ss.sims.create({ iccid: `8988307000012345678${i}`, registrationCode: 'ABC123' }),
      );
    expect(sims[0]!.sid).toMatch(/^HS/);
    expect(sims[0]!.status).toBe('new');
    expect(sims[0]!.fleetSid).toBeNull();
    // Twilio refuses to activate a SIM that is in no fleet.
    await expect(ss.sims(sims[0]!.sid).update({ status: 'active' })).rejects.toMatchObject({
      status: 400,
    });
    const active = await ss.sims(sims[0]!.sid).update({ fleet: fleet.sid, status: 'active' });
    expect(active.status).toBe('active');
    expect(active.fleetSid).toBe(fleet.sid);

    // Paging: two pages of SIMs.
    const page = await ss.sims.page({ pageSize: 2 });
    expect(page.instances).toHaveLength(2);
    const next = await page.nextPage();
    expect(next?.instances).toHaveLength(1);
    expect((await ss.sims.list({ status: 'active' })).map((s) => s.sid)).toEqual([sims[0]!.sid]);
    expect((await ss.sims.list({ fleet: fleet.sid })).length).toBe(1);

    // The data session is on the profile's first network.
    const ips = await ss.sims(sims[0]!.sid).simIpAddresses.list();
    expect(ips[0]?.ipAddressVersion).toBe('IPv4');
    expect((await ss.sims(sims[0]!.sid).billingPeriods.list())[0]?.periodType).toBe('active');
  });

  it('queues SMS and IP Commands and delivers them through the data session', async () => {
    const ss = t.client.supersim.v1;
    const n = await network('Operator C');
    const nap = await ss.networkAccessProfiles.create({ networks: [n] });
    const fleet = await ss.fleets.create({ networkAccessProfile: nap.sid });
    const sim = await ss.sims.create({ iccid: '8988307000099999999', registrationCode: 'X' });
    // Queued while the device has no session: ready, not yet active.
    await ss.sims(sim.sid).update({ fleet: fleet.sid, status: 'ready' });
    const sms = await ss.smsCommands.create({ sim: sim.sid, payload: 'reboot' });
    expect(sms.sid).toMatch(/^HC/);
    expect(sms.status).toBe('queued');
    const ip = await ss.ipCommands.create({ sim: sim.iccid, payload: 'hello', devicePort: 6000 });
    expect(ip.sid).toMatch(/^HG/);
    expect(ip.simIccid).toBe(sim.iccid);
    await new Promise((r) => setTimeout(r, 300));
    expect((await ss.smsCommands(sms.sid).fetch()).status).toBe('queued');
    await ss.sims(sim.sid).update({ status: 'active' });
    await until(
      'SMS command delivered',
      async () => (await ss.smsCommands(sms.sid).fetch()).status === 'delivered',
      10_000,
    );
    await until(
      'IP command sent',
      async () => (await ss.ipCommands(ip.sid).fetch()).status === 'sent',
      10_000,
    );
    const usage = await ss.usageRecords.list({ sim: sim.sid, group: 'sim' });
    expect(usage[0]?.dataDownload).toBe('reboot'.length + 'hello'.length);
    expect((await ss.smsCommands.list({ sim: sim.sid })).length).toBe(1);
  });

  it('answers bad input with Twilio errors', async () => {
    const ss = t.client.supersim.v1;
    await expect(
      ss.fleets.create({ networkAccessProfile: 'HA' + '0'.repeat(32) }),
    ).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(ss.sims.create({ iccid: 'abc', registrationCode: 'x' })).rejects.toMatchObject({
      code: 20001,
    });
    await ss.sims.create({ iccid: '8988307000011111111', registrationCode: 'x' });
    await expect(
      ss.sims.create({ iccid: '8988307000011111111', registrationCode: 'x' }),
    ).rejects.toMatchObject({
      status: 409,
    });
    await expect(
      ss.networkAccessProfiles.create({ networks: ['HW' + '1'.repeat(32)] }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      ss.smsCommands.create({ sim: 'HS' + '2'.repeat(32), payload: 'x' }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('Super SIM field names', () => {
  const specPath = join(
    process.cwd(),
    '..',
    'shared',
    'specs',
    'twilio-oai',
    'twilio_supersim_v1.json',
  );
  const present = existsSync(specPath);
  if (!present) {
    if (process.env.CI === 'true') throw new Error(`${specPath} is missing`);
    console.warn(`SKIPPED: ${specPath} is missing`);
  }
  it.skipIf(!present)('every resource carries exactly the properties of the spec', async () => {
    const spec = JSON.parse(readFileSync(specPath, 'utf8')) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const keys = (name: string) =>
      Object.keys(spec.components.schemas[name]?.properties ?? {}).sort();
    const ss = t.client.supersim.v1;
    const n = await network('Operator D');
    const nap = await ss.networkAccessProfiles.create({ networks: [n] });
    const fleet = await ss.fleets.create({ networkAccessProfile: nap.sid });
    const sim = await ss.sims.create({ iccid: '8988307000077777777', registrationCode: 'X' });
    await ss.sims(sim.sid).update({ fleet: fleet.sid, status: 'active' });
    const sms = await ss.smsCommands.create({ sim: sim.sid, payload: 'x' });
    const ip = await ss.ipCommands.create({ sim: sim.sid, payload: 'x', devicePort: 1 });
    const get = async (path: string) => (await request(t, 'GET', `/supersim/v1/${path}`)).json;
    const cases: [string, Record<string, unknown>][] = [
      ['supersim.v1.network', await get(`Networks/${n}`)],
      ['supersim.v1.network_access_profile', await get(`NetworkAccessProfiles/${nap.sid}`)],
      [
        'supersim.v1.network_access_profile.network_access_profile_network',
        await get(`NetworkAccessProfiles/${nap.sid}/Networks/${n}`),
      ],
      ['supersim.v1.fleet', await get(`Fleets/${fleet.sid}`)],
      ['supersim.v1.sim', await get(`Sims/${sim.sid}`)],
      ['supersim.v1.sms_command', await get(`SmsCommands/${sms.sid}`)],
      ['supersim.v1.ip_command', await get(`IpCommands/${ip.sid}`)],
      [
        'supersim.v1.sim.billing_period',
        (
          (await get(`Sims/${sim.sid}/BillingPeriods`)).billing_periods as Record<string, unknown>[]
        )[0]!,
      ],
    ];
    for (const [schema, body] of cases)
      expect(Object.keys(body).sort(), schema).toEqual(keys(schema));
  });
});
