// SMS and IP Commands' CallbackUrl through the official SDK: each status change after `queued`
// reaches the receiver signed (the twilio validator accepts it), in order, retried while the
// receiver fails, and still delivered after the platform restarts; a deactivated SIM's queued
// commands fail with a `failed` callback.
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

interface Hit {
  readonly path: string;
  readonly method: string;
  readonly params: Record<string, string>;
  readonly valid: boolean;
  /** What the receiver answered. */
  readonly answered: number;
}

let t: TestPlatform;
let hooks: Server;
let base: string;
const hits: Hit[] = [];
/** Per path: how many more requests to answer with 500 (the receiver failing). */
const failures = new Map<string, number>();

beforeAll(async () => {
  t = await startTestPlatform();
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = `${base}${req.url ?? ''}`;
      const path = new URL(url).pathname;
      const get = req.method === 'GET';
      const params = get ? {} : Object.fromEntries(new URLSearchParams(body));
      const seen = get ? Object.fromEntries(new URL(url).searchParams) : params;
      const valid = twilio.validateRequest(
        t.authToken,
        String(req.headers['x-twilio-signature']),
        url,
        params,
      );
      const left = failures.get(path) ?? 0;
      const answered = left > 0 ? 500 : 200;
      if (left > 0) failures.set(path, left - 1);
      hits.push({ path, method: req.method ?? '', params: seen, valid, answered });
      res.statusCode = answered;
      res.end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(hooks.address() as { port: number }).port}`;
});
afterAll(async () => {
  hooks?.close();
  await t?.cleanup();
});

async function activeSim(iccid: string, status: 'active' | 'ready' = 'active') {
  const res = await request(
    t,
    'POST',
    '/coverage/v1/Networks',
    new URLSearchParams({ FriendlyName: 'Op', IsoCountry: 'IE', Mcc: '272', Mnc: '01' }).toString(),
  );
  const ss = t.client.supersim.v1;
  const nap = await ss.networkAccessProfiles.create({ networks: [res.json.sid as string] });
  const fleet = await ss.fleets.create({ networkAccessProfile: nap.sid });
  const sim = await ss.sims.create({ iccid, registrationCode: 'X' });
  await ss.sims(sim.sid).update({ fleet: fleet.sid, status, uniqueName: `sim-${iccid}` });
  return sim;
}

const taken = (path: string) => hits.filter((h) => h.path === path && h.answered === 200);

describe('Command status callbacks', () => {
  it('calls an SMS Command back on sent and delivered, signed, retried after a 500', async () => {
    const sim = await activeSim('8988307000055500001');
    failures.set('/sms', 1);
    const sms = await t.client.supersim.v1.smsCommands.create({
      sim: sim.sid,
      payload: 'reboot',
      callbackUrl: `${base}/sms`,
    });
    expect(sms.status).toBe('queued');
    await until('two callbacks taken', () => taken('/sms').length >= 2, 15_000);
    const all = hits.filter((h) => h.path === '/sms');
    // The first attempt got a 500 and was retried: `sent` twice, then `delivered` once.
    expect(all.map((h) => [h.params.Status, h.answered])).toEqual([
      ['sent', 500],
      ['sent', 200],
      ['delivered', 200],
    ]);
    for (const h of all) {
      expect(h.valid).toBe(true);
      expect(h.method).toBe('POST');
      expect(h.params).toMatchObject({
        AccountSid: t.accountSid,
        SmsCommandSid: sms.sid,
        SimSid: sim.sid,
        SimIccid: '8988307000055500001',
        SimUniqueName: 'sim-8988307000055500001',
        Direction: 'to_sim',
      });
    }
    expect((await t.client.supersim.v1.smsCommands(sms.sid).fetch()).status).toBe('delivered');
  });

  it('calls an IP Command back with GET when asked, signed over the query', async () => {
    const sim = await activeSim('8988307000055500002');
    const ip = await t.client.supersim.v1.ipCommands.create({
      sim: sim.sid,
      payload: 'hello',
      devicePort: 6000,
      callbackUrl: `${base}/ip?ref=42`,
      callbackMethod: 'GET',
    });
    const [hit] = await until('IP callback', () => taken('/ip').length > 0 && taken('/ip'), 15_000);
    expect(hit).toMatchObject({ method: 'GET', valid: true });
    expect(hit!.params).toMatchObject({
      ref: '42',
      IpCommandSid: ip.sid,
      Status: 'sent',
      DevicePort: '6000',
      PayloadType: 'text',
    });
    // One status, one callback: nothing more comes.
    await new Promise((r) => setTimeout(r, 700));
    expect(hits.filter((h) => h.path === '/ip')).toHaveLength(1);
  });

  it("fails a deactivated SIM's queued commands and calls them back as failed", async () => {
    const ss = t.client.supersim.v1;
    const sim = await activeSim('8988307000055500003', 'ready');
    const sms = await ss.smsCommands.create({
      sim: sim.sid,
      payload: 'never',
      callbackUrl: `${base}/failed`,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await ss.smsCommands(sms.sid).fetch()).status).toBe('queued');
    await ss.sims(sim.sid).update({ status: 'inactive' });
    expect((await ss.smsCommands(sms.sid).fetch()).status).toBe('failed');
    const [hit] = await until(
      'failed callback',
      () => taken('/failed').length > 0 && taken('/failed'),
    );
    expect(hit!.params).toMatchObject({ SmsCommandSid: sms.sid, Status: 'failed' });
    expect(hit!.valid).toBe(true);
  });

  it('keeps undelivered callbacks across a restart', async () => {
    const sim = await activeSim('8988307000055500004');
    // The receiver fails everything for now.
    failures.set('/restart', 1_000);
    const sms = await t.client.supersim.v1.smsCommands.create({
      sim: sim.sid,
      payload: 'survive',
      callbackUrl: `${base}/restart`,
    });
    await until('a first attempt', () => hits.some((h) => h.path === '/restart'), 15_000);
    await t.stop();
    failures.set('/restart', 0);
    t = await t.restart();
    await until('callbacks taken after restart', () => taken('/restart').length >= 2, 20_000);
    expect(taken('/restart').map((h) => h.params.Status)).toEqual(['sent', 'delivered']);
    expect(taken('/restart').every((h) => h.params.SmsCommandSid === sms.sid && h.valid)).toBe(
      true,
    );
  });
});
