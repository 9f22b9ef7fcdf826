// Coverage steering end to end, through the SDK and the coverage API, on the UCC 5G dataset
// (read from ../shared/data at test time): the map is built from other traces' reports, one
// held-out trace is replayed as a SIM's position reports. A coverage.warning (signed webhook)
// comes before the poor spell and a coverage.cleared after it; queued priority commands leave
// first while bulk waits; a second fleet with two networks switches its session.
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetPresent, drivingTraces, type NamedTrace } from '../../bench/coverage-data.js';
import { PathHistory } from '../../src/coverage/history.js';
import type { TraceSample } from '../../src/coverage/index.js';
import { CoverageMap } from '../../src/coverage/map.js';
import { Predictor } from '../../src/coverage/predictor.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

const present = datasetPresent();
if (!present) {
  if (process.env.CI === 'true') throw new Error('the UCC dataset is missing from ../shared/data');
  console.warn('SKIPPED: ../shared/data/ucc-5g-production is missing');
}

let t: TestPlatform;
let hooks: Server;
let hookUrl = '';
const received: { params: Record<string, string>; valid: boolean }[] = [];

/** Whether the predictor, given the other traces, would foresee entry at `i` (the case must be one it can). */
function foreseen(traces: NamedTrace[], trace: NamedTrace, i: number): boolean {
  const map = new CoverageMap();
  const history = new PathHistory();
  const s = trace.samples;
  const near = (x: TraceSample) =>
    Math.abs(x.lat - s[i]!.lat) < 0.02 && Math.abs(x.lng - s[i]!.lng) < 0.03;
  for (const o of traces) {
    if (o === trace) continue;
    for (const x of o.samples) {
      if (x.rsrp === null || !near(x)) continue;
      const cell = map.cellOf(x.lat, x.lng);
      map.add('N', 'device', cell, x.rsrp, x.t);
      history.add(o.name, 'N', x.t, cell, x.heading, x.speed, x.rsrp);
    }
  }
  const p = new Predictor(map, history);
  for (let k = i - 25; k < i - 3; k++) {
    const x = s[k]!;
    const then = s[k - 5]!;
    const r = p.predict(
      {
        device: 'me',
        network: 'N',
        t: x.t,
        lat: x.lat,
        lng: x.lng,
        speed: x.speed,
        heading: x.heading,
        rsrp: x.rsrp,
        rsrpChange: x.rsrp! - then.rsrp!,
      },
      { threshold: -105, horizonS: 30 },
    );
    if (r.poorAhead) return true;
  }
  return false;
}

/** A held-out spell: 60 s above -105 before, 3+ s at or below, 60 s above after, foreseeable. */
function pickSpell(traces: NamedTrace[]): {
  trace: NamedTrace;
  from: number;
  entry: number;
  exit: number;
  to: number;
} {
  for (const trace of traces) {
    const s = trace.samples;
    for (let i = 60; i < s.length - 70; i++) {
      if (!(s[i]!.rsrp !== null && s[i]!.rsrp! <= -105)) continue;
      const before = s.slice(i - 60, i);
      if (!before.every((x) => x.rsrp !== null && x.rsrp > -105) || s[i]!.t - s[i - 60]!.t > 65_000)
        continue;
      let j = i;
      while (j < s.length && s[j]!.rsrp !== null && s[j]!.rsrp! <= -105) j++;
      if (j - i < 3) continue;
      const after = s.slice(j, j + 60);
      if (
        after.length === 60 &&
        after.every((x) => x.rsrp !== null && x.rsrp > -105) &&
        s[j + 59]!.t - s[j]!.t < 65_000 &&
        foreseen(traces, trace, i)
      )
        return { trace, from: i - 60, entry: i, exit: j, to: j + 60 };
    }
  }
  throw new Error('no spell found');
}

async function post(path: string, form: Record<string, string>) {
  return request(t, 'POST', path, new URLSearchParams(form).toString());
}

async function postJson(path: string, body: unknown) {
  return request(t, 'POST', path, JSON.stringify(body), { 'content-type': 'application/json' });
}

beforeAll(async () => {
  t = await startTestPlatform();
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const valid = twilio.validateRequest(
        t.authToken,
        String(req.headers['x-twilio-signature']),
        hookUrl,
        params,
      );
      received.push({ params, valid });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/coverage`;
});
afterAll(async () => {
  hooks?.close();
  await t?.cleanup();
});

describe.skipIf(!present)('coverage steering on a replayed trace', () => {
  it('warns before the poor spell, delivers priority commands first, clears after, and switches networks', async () => {
    const ss = t.client.supersim.v1;
    const traces = drivingTraces();
    const spell = pickSpell(traces);
    const window = spell.trace.samples.slice(spell.from, spell.to);
    const lats = window.map((s) => s.lat);
    const lngs = window.map((s) => s.lng);
    const box = {
      s: Math.min(...lats) - 0.01,
      n: Math.max(...lats) + 0.01,
      w: Math.min(...lngs) - 0.015,
      e: Math.max(...lngs) + 0.015,
    };

    const netA = (
      await post('/coverage/v1/Networks', {
        FriendlyName: 'A',
        IsoCountry: 'IE',
        SwitchCostSeconds: '3',
      })
    ).json.sid as string;
    const netB = (
      await post('/coverage/v1/Networks', {
        FriendlyName: 'B',
        IsoCountry: 'IE',
        SwitchCostSeconds: '1',
      })
    ).json.sid as string;
    const onlyA = await ss.networkAccessProfiles.create({ networks: [netA] });
    // A first, so that the SIM's session starts on A; B added after.
    const both = await ss.networkAccessProfiles.create({ networks: [netA] });
    await new Promise((r) => setTimeout(r, 5));
    await ss.networkAccessProfiles(both.sid).networks.create({ network: netB });
    const fleet = await ss.fleets.create({ networkAccessProfile: onlyA.sid, uniqueName: 'vans' });
    const fleet2 = await ss.fleets.create({ networkAccessProfile: both.sid });
    const rules = await post(`/coverage/v1/Fleets/${fleet.sid}/Rules`, {
      CallbackUrl: hookUrl,
      PriorityPorts: '7000',
      CommandsPerSecond: '1',
    });
    expect(rules.status).toBe(200);
    await post(`/coverage/v1/Fleets/${fleet2.sid}/Rules`, {
      MinDwellSeconds: '600',
      SwitchMargin: '1.5',
    });

    // The crowd: every other trace's reports inside the box, one survey SIM per trace.
    const now = Date.now();
    let iccid = 8988307000050000000n;
    for (const other of traces) {
      if (other === spell.trace) continue;
      const inBox = other.samples.filter(
        (x) => x.rsrp !== null && x.lat > box.s && x.lat < box.n && x.lng > box.w && x.lng < box.e,
      );
      if (inBox.length === 0) continue;
      const survey = await ss.sims.create({ iccid: String(iccid++), registrationCode: 'S' });
      const start = other.samples[0]!.t;
      const reports = inBox.map((x) => ({
        sim: survey.sid,
        network: netA,
        latitude: x.lat,
        longitude: x.lng,
        time: now - 3 * 3600_000 + (x.t - start),
        rsrp: x.rsrp,
        network_mode: x.mode.toUpperCase() === 'HSPA+' ? 'HSPA+' : undefined,
      }));
      for (let k = 0; k < reports.length; k += 1000) {
        const res = await postJson('/coverage/v1/Reports', { reports: reports.slice(k, k + 1000) });
        expect(res.status, JSON.stringify(res.json)).toBe(202);
      }
    }
    // Network B: the provider says it covers the whole box well.
    const imported = await postJson(`/coverage/v1/Networks/${netB}/Coverage`, {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { rsrp: -75 },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [box.w - 0.05, box.s - 0.05],
                [box.e + 0.05, box.s - 0.05],
                [box.e + 0.05, box.n + 0.05],
                [box.w - 0.05, box.n + 0.05],
                [box.w - 0.05, box.s - 0.05],
              ],
            ],
          },
        },
      ],
    });
    expect(imported.status).toBe(202);
    expect(imported.json.cells_updated as number).toBeGreaterThan(10);

    const sim = await ss.sims.create({ iccid: '8988307000060000001', registrationCode: 'D' });
    await ss.sims(sim.sid).update({ fleet: fleet.sid, status: 'active' });
    const sim2 = await ss.sims.create({ iccid: '8988307000060000002', registrationCode: 'D' });
    await ss.sims(sim2.sid).update({ fleet: fleet2.sid, status: 'active' });

    const t0 = now - 20 * 60_000;
    const base = window[0]!.t;
    const position = (simSid: string, x: TraceSample) =>
      post(`/coverage/v1/Sims/${simSid}/Positions`, {
        Latitude: String(x.lat),
        Longitude: String(x.lng),
        Timestamp: new Date(t0 + (x.t - base)).toISOString(),
        Speed: String(x.speed),
        Rsrp: String(x.rsrp),
      });
    let warnedAt = -1;
    let clearedAt = -1;
    let switched: Record<string, unknown> | undefined;
    const commands: { sid: string; priority: boolean }[] = [];
    for (let k = 0; k < window.length; k++) {
      const x = window[k]!;
      const res = await position(sim.sid, x);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const body = res.json as {
        warning: boolean;
        prediction: { poor_ahead: boolean; probability: number };
      };
      if (process.env.DEBUG_COVERAGE)
        console.log(k, x.rsrp, body.warning, body.prediction.probability);
      if (warnedAt < 0 && body.warning) {
        warnedAt = k;
        // Queued while the warning stands: bulk first, then priority; priority must leave first.
        for (let c = 0; c < 2; c++)
          commands.push({
            sid: (
              await ss.ipCommands.create({ sim: sim.sid, payload: `bulk${c}`, devicePort: 9000 })
            ).sid,
            priority: false,
          });
        commands.push({
          sid: (await ss.smsCommands.create({ sim: sim.sid, payload: 'urgent' })).sid,
          priority: true,
        });
        commands.push({
          sid: (await ss.ipCommands.create({ sim: sim.sid, payload: 'ctl', devicePort: 7000 })).sid,
          priority: true,
        });
        await until(
          'priority commands delivered',
          async () => {
            const sms = await ss.smsCommands(commands[2]!.sid).fetch();
            const ip = await ss.ipCommands(commands[3]!.sid).fetch();
            return sms.status === 'delivered' && ip.status === 'sent';
          },
          10_000,
        );
        for (const c of commands.filter((c) => !c.priority))
          expect((await ss.ipCommands(c.sid).fetch()).status).toBe('queued');
      }
      if (warnedAt >= 0 && clearedAt < 0 && k > spell.exit - spell.from && !body.warning)
        clearedAt = k;
      const res2 = await position(sim2.sid, x);
      if (process.env.DEBUG_COVERAGE && (res2.json.decisions as unknown[]).length)
        console.log(JSON.stringify(res2.json.decisions));
      const d = (res2.json.decisions as Record<string, unknown>[]).find(
        (y) => y.action === 'switch',
      );
      switched ??= d;
    }
    const entry = spell.entry - spell.from;
    expect(warnedAt, 'a warning before the poor spell').toBeGreaterThanOrEqual(0);
    expect(warnedAt).toBeLessThan(entry);
    expect(clearedAt, 'cleared after the spell').toBeGreaterThan(spell.exit - spell.from);
    await until(
      'webhooks',
      () => received.some((r) => r.params.EventType === 'coverage.cleared'),
      5000,
    );
    const warning = received.find((r) => r.params.EventType === 'coverage.warning')!;
    expect(warning.valid).toBe(true);
    expect(warning.params.SimSid).toBe(sim.sid);
    expect(Number(warning.params.Probability)).toBeGreaterThan(0);
    // Bulk leaves once coverage is good again.
    for (const c of commands.filter((c) => !c.priority))
      await until(
        'bulk delivered after clearing',
        async () => (await ss.ipCommands(c.sid).fetch()).status === 'sent',
        10_000,
      );

    // The two-network fleet switched its session to B, once.
    expect(switched, 'a switch decision').toBeDefined();
    expect(switched!.to).toBe(netB);
    const session = await request(t, 'GET', `/coverage/v1/Sims/${sim2.sid}/Session`);
    expect(session.json.network_sid).toBe(netB);
    expect(session.json.redirects).toBe(1);
  }, 120_000);
});

describe('bad input', () => {
  it('refuses off-globe positions, times out of range, unknown networks, other accounts’ SIMs and huge bodies', async () => {
    const ss = t.client.supersim.v1;
    const net = (await post('/coverage/v1/Networks', { FriendlyName: 'X', IsoCountry: 'IE' })).json
      .sid as string;
    const nap = await ss.networkAccessProfiles.create({ networks: [net] });
    const fleet = await ss.fleets.create({ networkAccessProfile: nap.sid });
    const sim = await ss.sims.create({ iccid: '8988307000070000001', registrationCode: 'B' });
    await ss.sims(sim.sid).update({ fleet: fleet.sid, status: 'active' });
    const pos = (form: Record<string, string>) =>
      post(`/coverage/v1/Sims/${sim.sid}/Positions`, form);
    expect((await pos({ Latitude: '91', Longitude: '0' })).json.code).toBe(20001);
    expect((await pos({ Latitude: '10', Longitude: '-181' })).status).toBe(400);
    const future = await pos({
      Latitude: '51.9',
      Longitude: '-8.4',
      Timestamp: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(future.status).toBe(400);
    expect(String(future.json.message)).toMatch(/future/);
    const old = await pos({
      Latitude: '51.9',
      Longitude: '-8.4',
      Timestamp: '2001-01-01T00:00:00Z',
    });
    expect(String(old.json.message)).toMatch(/30 days/);
    const unknown = await pos({
      Latitude: '51.9',
      Longitude: '-8.4',
      Network: 'HW' + 'f'.repeat(32),
    });
    expect(unknown.status).toBe(404);
    const report = (r: Record<string, unknown>) =>
      postJson('/coverage/v1/Reports', { reports: [r] });
    const good = {
      sim: sim.sid,
      network: net,
      latitude: 51.9,
      longitude: -8.4,
      time: Date.now(),
      rsrp: -90,
    };
    expect((await report(good)).status).toBe(202);
    expect((await report({ ...good, latitude: 200 })).status).toBe(400);
    expect((await report({ ...good, network: 'HW' + 'e'.repeat(32) })).status).toBe(404);
    expect((await report({ ...good, rsrp: 'loud' })).status).toBe(400);
    const tooMany = await postJson('/coverage/v1/Reports', {
      reports: Array.from({ length: 1001 }, () => good),
    });
    expect(String(tooMany.json.message)).toMatch(/at most 1000/);
    // Another account's SIM: the second account cannot report for it, nor see it.
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'other' });
    const other = { url: t.url, accountSid: sub.sid, authToken: sub.authToken };
    const foreign = await request(
      other,
      'POST',
      '/coverage/v1/Reports',
      JSON.stringify({ reports: [good] }),
      {
        'content-type': 'application/json',
      },
    );
    expect(foreign.status).toBe(404);
    // A 100 MB import is refused at the edge, and the API keeps answering at once meanwhile.
    const big = Buffer.alloc(100 * 1024 * 1024, 0x20);
    const started = Date.now();
    const [huge, fetched] = await Promise.all([
      request(t, 'POST', `/coverage/v1/Networks/${net}/Coverage`, big.toString(), {
        'content-type': 'application/json',
      }).catch((e: unknown) => ({ status: 413, json: { error: String(e) } })),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        const s = Date.now();
        await ss.sims(sim.sid).fetch();
        return Date.now() - s;
      })(),
    ]);
    expect(huge.status).toBe(413);
    expect(fetched).toBeLessThan(2000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
