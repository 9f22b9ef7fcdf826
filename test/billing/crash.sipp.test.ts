// Metering survives a crash: a real call (sipp) goes through two priced modules; the platform
// process is killed with SIGKILL while the second module holds the call. On restart the
// closed segment is intact, the open one is closed at its last heartbeat ("recovered"), the
// call is over, and the ledger holds exactly one debit per segment — still after a second
// restart. The platform runs as an operator runs it (`switchboard serve`, its own process),
// on SQLite, or on PostgreSQL when DATABASE_URL is set (a single node: REDIS_URL would make
// recovery wait for the other nodes' 60 s staleness rule).
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingTables } from '../../src/billing/index.js';
import { haveSipp, killSipps } from '../sip/sipp.js';
import { request, sdkClient } from '../support/platform.js';
import { serveSwitchboard, type Served } from '../support/serve.js';
import { startTwimlServer, type TwimlServer } from '../voice/twiml-server.js';
import { startCaller } from '../voice/voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
let node: Served;
let web: TwimlServer;
let accountSid = '';
let sipPort = 0;

const who = () => ({ url: node.url, accountSid, authToken: node.authToken });
const serve = () => node.start();
const crash = () => node.crash();

type Json = Record<string, unknown>;
async function get(path: string): Promise<Json> {
  const res = await request(who(), 'GET', `/2010-04-01/Accounts/${accountSid}${path}`);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}

beforeAll(async () => {
  if (!TOOLS) return;
  node = await serveSwitchboard({ rtpPorts: '41000-41999' });
  ({ accountSid, sipPort } = node);
  web = await startTwimlServer();
  web.setAuthToken(node.authToken);
});
afterAll(async () => {
  killSipps();
  await node?.cleanup();
  await web?.close();
});

describe.skipIf(!TOOLS)('metering across a crash', () => {
  it('keeps closed segments, closes the open one at its last heartbeat, and posts each once', async () => {
    await serve();
    const client = sdkClient(who().url, accountSid, node.authToken);
    const publish = async (code: string, path: string) => {
      const res = await request(
        who(),
        'POST',
        `/2010-04-01/Accounts/${accountSid}/Applications.json`,
        new URLSearchParams({
          FriendlyName: code,
          ModuleCode: code,
          VoiceUrl: web.url + path,
          PerMinuteRate: '0.60',
          BillingIncrement: '1',
        }).toString(),
      );
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      return String(res.json.sid);
    };
    const front = new VoiceResponse();
    front.pause({ length: 2 });
    front.redirect('module:crash.b');
    web.routes.set('/a', front.toString());
    web.routes.set('/b', new VoiceResponse().pause({ length: 60 }).toString());
    const a = await publish('crash.a', '/a');
    const b = await publish('crash.b', '/b');
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550011001',
      voiceApplicationSid: a,
    });

    const phone = startCaller(sipPort, '+15550011001', {
      scenario: 'uac-conference.xml',
      timeoutS: 60,
      keys: { mport: '9', caller: '+15557650001' },
    });
    const inB = await until('module b', () => web.seen.find((s) => s.path === '/b'));
    const callSid = inB.params.CallSid!;
    // Long enough for at least one heartbeat (every 5 s) of module b's segment.
    await new Promise((r) => setTimeout(r, 7_000));
    const killedAt = Date.now();
    await crash();
    phone.child.kill('SIGTERM');
    // The kill landed while the call was metered: its second segment was open in the store.
    const open = await node.inspect<BillingTables, string[]>(async (db) =>
      (
        await db
          .selectFrom('billing_segments')
          .select('status')
          .where('call_sid', '=', callSid)
          .orderBy('seq')
          .execute()
      ).map((r) => r.status),
    );
    expect(open).toEqual(['closed', 'open']);

    await serve();
    const call = await client.calls(callSid).fetch();
    expect(call.status).toBe('completed');
    const segments = (await get(`/Calls/${callSid}/Segments.json`)).segments as Json[];
    expect(segments.map((s) => [s.module_sid, s.status, s.transition_reason])).toEqual([
      [a, 'closed', 'redirect'],
      [b, 'closed', 'recovered'],
    ]);
    const [first, second] = segments as [Json, Json];
    // The closed segment is as it was written when control left it: ~2 s, priced then.
    expect(Number(first.duration_ms)).toBeGreaterThanOrEqual(1900);
    expect(Number(first.duration_ms)).toBeLessThan(6000);
    expect(first.price).toBe((Math.ceil(Number(first.duration_ms) / 1000) * 0.01).toFixed(2));
    // The open one ends at its last heartbeat: after its start, before the crash.
    const startedB = Date.parse(String(second.start_time));
    const endedB = Date.parse(String(second.end_time));
    expect(endedB).toBeGreaterThan(startedB);
    expect(endedB).toBeLessThanOrEqual(killedAt);
    expect(Number(second.duration_ms)).toBeGreaterThan(0);
    expect(Number(second.duration_ms)).toBeLessThanOrEqual(8000);
    expect(second.price).toBe((Math.ceil(Number(second.duration_ms) / 1000) * 0.01).toFixed(2));

    const ledger = async () => {
      const rows = (await get(`/Ledger.json?CallSid=${callSid}&PageSize=100`)).entries as Json[];
      return rows.map((e) => [e.segment_sid, e.kind, e.amount]).sort();
    };
    let entries: unknown[][] = [];
    for (let i = 0; i < 50; i++) {
      entries = await ledger();
      if (entries.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The user is also the publisher: one debit per segment, nothing twice.
    expect(entries).toEqual(
      [
        [first.sid, 'debit', `-${String(first.price)}`],
        [second.sid, 'debit', `-${String(second.price)}`],
        [first.sid, 'credit', String(first.price)],
        [second.sid, 'credit', String(second.price)],
      ].sort(),
    );
    const balance = (await get('/Ledger/Balance.json')).balances as Json[];
    const total = Number(first.price) + Number(second.price);
    expect(Number(balance[0]?.spent)).toBeCloseTo(total, 6);

    // A second restart finds nothing more to close or post.
    await crash();
    await serve();
    expect(await ledger()).toEqual(entries);
    const again = (await get('/Ledger/Balance.json')).balances as Json[];
    expect(Number(again[0]?.spent)).toBeCloseTo(total, 6);
  }, 120_000);
});
