// A real SIP call drives TwiML built with the official SDK's VoiceResponse through two
// modules: an IVR (Gather, sipp sends RFC 2833 digit 1) that hands the call to a voicemail
// module (<Redirect>module:voicemail</Redirect>), which records the caller and hangs up.
// Checks the signed webhooks, the call record, the segments per module and the recording.
import { existsSync } from 'node:fs';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { request } from '../support/platform.js';
import { haveSipp } from '../sip/sipp.js';
import { callIn, useVoicePlatform } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && (existsSync('/usr/bin/espeak-ng') || process.env.CI === 'true');
if (!TOOLS) console.warn('\n*** sipp or espeak-ng missing: skipping the voice IVR call test ***\n');

const fx = useVoicePlatform(TOOLS);

async function createModule(code: string, path: string, plan: Record<string, string>) {
  const res = await request(
    fx.t,
    'POST',
    `/2010-04-01/Accounts/${fx.t.accountSid}/Applications.json`,
    new URLSearchParams({
      FriendlyName: code,
      ModuleCode: code,
      VoiceUrl: fx.web.url + path,
      ...plan,
    }).toString(),
  );
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return String(res.json.sid);
}

describe.skipIf(!TOOLS)('an inbound SIP call through two modules', () => {
  it('runs Gather → Redirect to another module → Record → Hangup with signed webhooks and per-module segments', async () => {
    const ivr = new VoiceResponse();
    ivr
      .gather({ numDigits: 1, action: '/ivr/choice', timeout: 8 })
      .say('Press one to leave a message.');
    ivr.say('We did not hear you.');
    fx.web.routes.set('/ivr', ivr.toString());
    fx.web.routes.set('/ivr/choice', (p) => {
      const r = new VoiceResponse();
      if (p.Digits === '1') r.redirect('module:voicemail');
      else r.hangup();
      return r.toString();
    });
    const vm = new VoiceResponse();
    // Long enough to hold some of the caller's speech once the silence around it is trimmed.
    vm.record({ maxLength: 4, playBeep: true, action: '/vm/done', finishOnKey: '#' });
    fx.web.routes.set('/vm', vm.toString());
    const done = new VoiceResponse();
    done.hangup();
    fx.web.routes.set('/vm/done', done.toString());
    fx.web.routes.set('/status', '<Response/>');

    // With VoiceApplicationSid set, the application's StatusCallback applies (as on Twilio).
    const ivrSid = await createModule('acme.ivr', '/ivr', {
      StatusCallback: fx.web.url + '/status',
      PerMinuteRate: '0.02',
      BillingIncrement: '60',
      PerInvocationFee: '0.01',
    });
    const vmSid = await createModule('voicemail', '/vm', {
      PerMinuteRate: '0.10',
      BillingIncrement: '1',
    });
    const number = await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550001000',
      voiceApplicationSid: ivrSid,
    });
    expect(number.sid).toMatch(/^PN/);

    const result = await callIn(fx, '+15550001000', { timeoutS: 45 });
    expect(result.code, result.stdout.slice(-2000) + result.stderr.slice(-2000)).toBe(0);

    // Let the final status callback and segment writes land.
    for (
      let i = 0;
      i < 50 &&
      !fx.web.seen.some((s) => s.path === '/status' && s.params.CallStatus === 'completed');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }

    const paths = fx.web.seen.map((s) => s.path);
    expect(paths.filter((p) => p !== '/status')).toEqual([
      '/ivr',
      '/ivr/choice',
      '/vm',
      '/vm/done',
    ]);
    for (const s of fx.web.seen) expect(s.signatureValid, `${s.path} signature`).toBe(true);
    const first = fx.web.seen[0]!.params;
    expect(first).toMatchObject({
      AccountSid: fx.t.accountSid,
      From: '+15557654321',
      To: '+15550001000',
      Direction: 'inbound',
      ApiVersion: '2010-04-01',
      'SipHeader_X-Customer-Id': 'cust-42',
    });
    expect(first.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(fx.web.seen.find((s) => s.path === '/ivr/choice')?.params.Digits).toBe('1');
    const recorded = fx.web.seen.find((s) => s.path === '/vm/done')!.params;
    expect(recorded.RecordingSid).toMatch(/^RE/);
    expect(Number(recorded.RecordingDuration)).toBeGreaterThanOrEqual(1);

    const completed = fx.web.seen.find(
      (s) => s.path === '/status' && s.params.CallStatus === 'completed',
    );
    expect(completed?.params.CallSid).toBe(first.CallSid);
    expect(Number(completed?.params.CallDuration)).toBeGreaterThanOrEqual(3);

    const call = await fx.t.client.calls(first.CallSid!).fetch();
    expect(call).toMatchObject({
      status: 'completed',
      direction: 'inbound',
      to: '+15550001000',
      from: '+15557654321',
    });
    const listed = await fx.t.client.calls.list({ to: '+15550001000' });
    expect(listed.map((c) => c.sid)).toEqual([first.CallSid]);

    const segments = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${first.CallSid}/Segments.json`,
    );
    expect(segments.status).toBe(200);
    const rows = (segments.json.segments as Record<string, unknown>[]) ?? [];
    expect(rows.map((s) => s.module_sid)).toEqual([ivrSid, vmSid]);

    // Each segment is priced by its own module's plan, computed here by hand from its duration.
    const [a, b] = rows as {
      duration_ms: number;
      price: string;
      sid: string;
      billable_units: number;
    }[];
    expect(a!.billable_units).toBe(Math.ceil(a!.duration_ms / 60_000)); // 60 s increment
    expect(Number(a!.price)).toBeCloseTo(a!.billable_units * 0.02 + 0.01, 6); // 0.02/min + 0.01 per invocation
    expect(b!.billable_units).toBe(Math.ceil(b!.duration_ms / 1000)); // 1 s increment
    expect(Number(b!.price)).toBeCloseTo((b!.billable_units * 0.1) / 60, 6); // 0.10/min
    // The call's price is what its segments cost, shown as Twilio shows a charge; it names
    // the number it came to.
    expect(call.phoneNumberSid).toBe(number.sid);
    expect(call.priceUnit).toBe('USD');
    expect(call.price).toMatch(/^-\d+\.\d{5,6}$/);
    expect(Number(call.price)).toBeCloseTo(-(Number(a!.price) + Number(b!.price)), 6);
    expect(listed[0]!.price).toBe(call.price);
    const ledger = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Ledger.json?PageSize=100`,
    );
    const entries = (ledger.json.entries ?? ledger.json.ledger ?? []) as {
      kind: string;
      amount: string;
      segment_sid: string;
    }[];
    for (const seg of [a!, b!]) {
      const debit = entries.find((e) => e.segment_sid === seg.sid && e.kind === 'debit');
      expect(Number(debit?.amount)).toBeCloseTo(-Number(seg.price), 6);
    }
    // Usage records (official SDK) match the same figures: per module, and the call itself.
    const usage = async (category: string) =>
      (await fx.t.client.usage.records.today.list({ category })).map((r) => [
        r.count,
        r.usage,
        Number(r.price),
      ]);
    expect(await usage('module:acme.ivr')).toEqual([
      ['1', String(a!.billable_units * 60), Number(a!.price)],
    ]);
    expect(await usage('module:voicemail')).toEqual([
      ['1', String(b!.billable_units), Number(b!.price)],
    ]);
    const minutes = Math.ceil((a!.duration_ms + b!.duration_ms) / 60_000);
    const total = Number((Number(a!.price) + Number(b!.price)).toFixed(6));
    expect(await usage('calls-inbound')).toEqual([['1', String(minutes), total]]);

    const recording = await request(
      fx.t,
      'GET',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Recordings/${recorded.RecordingSid}.json`,
    );
    expect(recording.json).toMatchObject({ call_sid: first.CallSid, status: 'completed' });
    const wav = await fetch(
      `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Recordings/${recorded.RecordingSid}.wav`,
      {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
        },
      },
    );
    expect(wav.status).toBe(200);
    const bytes = Buffer.from(await wav.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    // The caller spoke (g711a.pcap) during the recording: it must not be silence.
    const samples = new Int16Array(
      bytes.buffer,
      bytes.byteOffset + 44,
      Math.floor((bytes.length - 44) / 2),
    );
    const rms = Math.sqrt(samples.reduce((a, s) => a + s * s, 0) / Math.max(1, samples.length));
    expect(rms).toBeGreaterThan(100);
  }, 90_000);
});
