// Status callbacks survive a crash: their receiver is down while two real calls (sipp) run —
// one ends, the other is still up — and `switchboard serve` is killed with SIGKILL. Once the
// receiver is up and the platform restarted, every callback of both calls arrives exactly
// once, in order, signed: the ended call's ringing, answered and completed, and the live
// call's ringing and answered followed by the completed its recovery sends; and the ended
// call's <Record> status callbacks (in-progress, completed), in order. A second crash and
// restart sends nothing more. On SQLite, or PostgreSQL with DATABASE_URL (a single node).
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackTables } from '../../src/voice/callbacks/tables.js';
import { freePort, haveSipp, killSipps } from '../sip/sipp.js';
import { sdkClient } from '../support/platform.js';
import { serveSwitchboard, type Served } from '../support/serve.js';
import { startTwimlServer, type TwimlServer } from './twiml-server.js';
import { startCaller } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
let node: Served;
let web: TwimlServer;
let receiverPort = 0;
let receiver: Server | undefined;

interface Received {
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
}
const received: Received[] = [];

/** The customer's status callback endpoint, on a port known before it listens. */
async function startReceiver(authToken: string): Promise<void> {
  const base = `http://127.0.0.1:${receiverPort}`;
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      received.push({
        path: new URL(req.url ?? '/', base).pathname,
        params,
        signatureValid: twilio.validateRequest(
          authToken,
          String(req.headers['x-twilio-signature'] ?? ''),
          `${base}${req.url}`,
          params,
        ),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver!.listen(receiverPort, '127.0.0.1', r));
}

beforeAll(async () => {
  if (!TOOLS) return;
  node = await serveSwitchboard({ rtpPorts: '42000-42999' });
  web = await startTwimlServer();
  web.setAuthToken(node.authToken);
  receiverPort = await freePort();
});
afterAll(async () => {
  killSipps();
  await node?.cleanup();
  await web?.close();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
});

describe.skipIf(!TOOLS)('status callbacks across a crash', () => {
  it('delivers every accepted callback after a restart, once each and in order', async () => {
    await node.start();
    const client = sdkClient(node.url, node.accountSid, node.authToken);
    const short1 = new VoiceResponse();
    // Without an action, <Record> would fetch this document again when done.
    web.routes.set('/bye', new VoiceResponse().hangup().toString());
    short1.record({
      action: web.url + '/bye',
      maxLength: 1,
      playBeep: false,
      trim: 'do-not-trim',
      recordingStatusCallback: `http://127.0.0.1:${receiverPort}/recording`,
      recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
    });
    short1.hangup();
    web.routes.set('/short', short1.toString());
    web.routes.set('/long', new VoiceResponse().pause({ length: 60 }).toString());
    const statusCallback = `http://127.0.0.1:${receiverPort}/status`;
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550013001',
      voiceUrl: web.url + '/short',
      statusCallback,
    });
    await client.incomingPhoneNumbers.create({
      phoneNumber: '+15550013002',
      voiceUrl: web.url + '/long',
      statusCallback,
    });

    // The first call runs to its end while nobody listens at the callback URL.
    const short = await startCaller(node.sipPort, '+15550013001', {
      scenario: 'uac-short.xml',
    }).done;
    expect(short.code, short.stdout.slice(-1500)).toBe(0);
    const shortSid = web.seen.find((s) => s.path === '/short')!.params.CallSid!;
    // The second is up (answered) when the platform dies.
    const long = startCaller(node.sipPort, '+15550013002', {
      scenario: 'uac-conference.xml',
      timeoutS: 60,
      keys: { mport: '9', caller: '+15557650002' },
    });
    const longSid = (await until('the long call', () => web.seen.find((s) => s.path === '/long')))
      .params.CallSid!;
    // Every callback so far has been tried (and retried) at least once in vain.
    await new Promise((r) => setTimeout(r, 1500));
    await node.crash();
    long.child.kill('SIGTERM');
    expect(received).toEqual([]);
    // The kill landed with callbacks in flight: the outbox held undelivered ones of both calls.
    const pending = await node.inspect<CallbackTables, string[]>(async (db) =>
      (
        await db
          .selectFrom('call_callbacks')
          .select('chain')
          .where('delivered_ms', 'is', null)
          .where('send', '=', 1)
          .execute()
      ).map((r) => r.chain),
    );
    expect(pending).toContain(shortSid);
    expect(pending).toContain(longSid);

    await startReceiver(node.authToken);
    await node.start();
    const of = (sid: string) =>
      received.filter((r) => r.path === '/status' && r.params.CallSid === sid);
    await until('five callbacks', () =>
      of(shortSid).length >= 3 && of(longSid).length >= 3 ? true : undefined,
    );
    // Anything sent twice would arrive within a moment.
    await new Promise((r) => setTimeout(r, 1500));
    for (const [sid, final] of [
      [shortSid, 'completed'],
      [longSid, 'completed'],
    ] as const) {
      const got = of(sid);
      expect(got.map((r) => [r.params.SequenceNumber, r.params.CallStatus])).toEqual([
        ['0', 'ringing'],
        ['1', 'in-progress'],
        ['2', final],
      ]);
      expect(got.every((r) => r.signatureValid)).toBe(true);
      expect(got.every((r) => r.params.CallbackSource === 'call-progress-events')).toBe(true);
      expect(got[2]!.params.CallDuration).toMatch(/^\d+$/);
    }
    const recording = received.filter((r) => r.path === '/recording');
    expect(recording.map((r) => [r.params.CallSid, r.params.RecordingStatus])).toEqual([
      [shortSid, 'in-progress'],
      [shortSid, 'completed'],
    ]);
    expect(recording.every((r) => r.signatureValid)).toBe(true);
    expect(recording[0]!.params.RecordingSid).toMatch(/^RE[0-9a-f]{32}$/);
    expect(recording[1]!.params.RecordingSid).toBe(recording[0]!.params.RecordingSid);
    // The live call's completed came from its recovery: the call is over in the API too.
    expect((await client.calls(longSid).fetch()).status).toBe('completed');

    // Nothing is left to send: another crash and restart deliver nothing more.
    const count = received.length;
    await node.crash();
    await node.start();
    await new Promise((r) => setTimeout(r, 2000));
    expect(received.length).toBe(count);
  }, 120_000);
});
