// Phones register to SIP Domains of a platform started as `npm start` starts it (SIP on):
// a real baresip registers with digest against credentials created with the official SDK,
// a wrong password is refused, registrations follow RFC 3261's answers for unknown domains
// and disabled registration, and <Dial><Client>alice</Client> rings the registered baresip,
// which answers; audio flows and the BYE reaches both ends. A client of another account is
// never reached.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { readWav, toMono16 } from '../../src/media/index.js';
import { haveBaresip, startBaresip, type Baresip } from '../sip/baresip.js';
import { haveSipp } from '../sip/sipp.js';
import { sdkClient } from '../support/platform.js';
import { sipPortOf, startCaller, useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp() && haveBaresip();
if (!TOOLS && process.env.CI !== 'true')
  console.warn('\n*** sipp or baresip missing: skipping the SIP registration tests ***\n');
const RUN = TOOLS || process.env.CI === 'true';

const fx = useVoicePlatform(RUN);
const phones: Baresip[] = [];
afterAll(() => {
  for (const p of phones) p.stop();
});

const PASSWORD = 'Alice12345Secret';

async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** A bare UDP SIP peer: sends one REGISTER and returns the status line of the final answer. */
async function register(
  port: number,
  aor: { user: string; domain: string },
  authorization?: string,
  method: 'REGISTER' | 'INVITE' = 'REGISTER',
): Promise<{ status: number; headers: string }> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  const branch = 'z9hG4bK' + Math.random().toString(16).slice(2);
  const msg = [
    method === 'REGISTER'
      ? `REGISTER sip:${aor.domain} SIP/2.0`
      : `INVITE sip:${aor.user}@${aor.domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
    `From: <sip:${aor.user}@${aor.domain}>;tag=${branch.slice(-6)}`,
    `To: <sip:${aor.user}@${aor.domain}>`,
    `Call-ID: ${branch}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${aor.user}@127.0.0.1:${local}>`,
    ...(authorization ? [`Authorization: ${authorization}`] : []),
    'Expires: 300',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to REGISTER')), 5000);
      sock.on('message', (data) => {
        const text = data.toString();
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
        if (status >= 200) {
          clearTimeout(timer);
          resolve({ status, headers: text });
        }
      });
      sock.send(msg, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

describe.skipIf(!RUN)('SIP Domains: registration and <Dial><Client>', () => {
  let sweep = '';

  it('registers a real baresip with digest against SDK-made credentials; refuses the rest', async () => {
    const { client } = fx.t;
    const sipPort = fx.t.platform.telephony!.sip.transport.port;
    const list = await client.sip.credentialLists.create({ friendlyName: 'Office phones' });
    await client.sip
      .credentialLists(list.sid)
      .credentials.create({ username: 'alice', password: PASSWORD });
    const domain = await client.sip.domains.create({
      domainName: 'office-a.example.com',
      sipRegistration: true,
    });
    await client.sip
      .domains(domain.sid)
      .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });

    sweep = join(fx.t.config.dataDir, 'sweep.wav');
    expect(
      spawnSync('sox', [
        '-n',
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        sweep,
        'synth',
        '20',
        'sine',
        '300-3000',
        'vol',
        '0.5',
      ]).status,
    ).toBe(0);
    const alice = await startBaresip(
      `<sip:alice@office-a.example.com>;auth_pass=${PASSWORD};outbound="sip:127.0.0.1:${sipPort}";regint=120;answermode=auto`,
      sweep,
      90,
    );
    phones.push(alice);
    const registrar = fx.t.platform.telephony!.sip.registrar!;
    await until(
      () => registrar.lookup('sip:alice@office-a.example.com').length === 1,
      10_000,
      `baresip to register (${alice.log().slice(-800)})`,
    );
    const [binding] = registrar.lookup('sip:alice@office-a.example.com');
    expect(binding).toMatchObject({ username: 'alice', owner: fx.t.accountSid });
    expect(binding!.source.port).toBe(alice.sipPort);
    // Presence lists the phone among alice's devices (kind sip), with the Kind filter.
    const presence = async (path: string) => {
      const res = await fetch(`${fx.t.url}/presence/v1/${path}`, {
        headers: {
          authorization:
            'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
        },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const listed = await presence('Clients/alice');
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      identity: 'alice',
      status: 'available',
      devices: [{ kind: 'sip', status: 'available' }],
    });
    const sips = (await presence('Clients?Kind=sip')).body.clients as { identity: string }[];
    expect(sips.map((c) => c.identity)).toEqual(['alice']);
    expect((await presence('Clients?Kind=sdk')).body.clients).toEqual([]);

    // A wrong password is challenged again and never registers; alice's own credentials do
    // not register another user's address (403).
    const mallory = await startBaresip(
      `<sip:alice@office-a.example.com>;auth_pass=Wrong12345Secret;outbound="sip:127.0.0.1:${sipPort}";regint=120`,
      sweep,
      30,
    );
    phones.push(mallory);
    const squatter = await startBaresip(
      `<sip:bob@office-a.example.com>;auth_user=alice;auth_pass=${PASSWORD};outbound="sip:127.0.0.1:${sipPort}";regint=120`,
      sweep,
      30,
    );
    phones.push(squatter);
    await until(
      () => /reg: sip:alice@office-a\.example\.com: 401 Unauthorized/.test(mallory.log()),
      10_000,
      `the wrong password to be refused (${mallory.log().slice(-500)})`,
    );
    await until(
      () => /reg: sip:bob@office-a\.example\.com: 403 Forbidden/.test(squatter.log()),
      10_000,
      `the other user's address to be refused (${squatter.log().slice(-500)})`,
    );
    expect(registrar.lookup('sip:alice@office-a.example.com').map((b) => b.source.port)).toEqual([
      alice.sipPort,
    ]);
    expect(registrar.lookup('sip:bob@office-a.example.com')).toEqual([]);

    // RFC 3261 10.3: a domain we do not serve → 404; registration disabled → 403; an
    // unauthenticated REGISTER to a served domain → 401 with realm = the domain name.
    expect((await register(sipPort, { user: 'alice', domain: 'nowhere.example.com' })).status).toBe(
      404,
    );
    const closed = await client.sip.domains.create({ domainName: 'closed.example.com' });
    expect(closed.sipRegistration).toBe(false);
    expect((await register(sipPort, { user: 'alice', domain: 'closed.example.com' })).status).toBe(
      403,
    );
    const challenge = await register(sipPort, { user: 'alice', domain: 'office-a.example.com' });
    expect(challenge.status).toBe(401);
    expect(challenge.headers).toContain('realm="office-a.example.com"');
  }, 60_000);

  it('rings the registered baresip for <Dial><Client>alice</Client>; audio and BYE flow', async () => {
    const registrar = fx.t.platform.telephony!.sip.registrar!;
    expect(registrar.lookup('sip:alice@office-a.example.com')).toHaveLength(1);
    const alice = phones[0]!;
    const dial = new VoiceResponse();
    dial.dial({ timeout: 10, action: '/dialed' }).client('alice');
    fx.web.routes.set('/dial-client', dial.toString());
    const after = new VoiceResponse();
    after.hangup();
    fx.web.routes.set('/dialed', after.toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550007001',
      voiceUrl: fx.web.url + '/dial-client',
    });

    // The caller sends RFC 2833 "1" and 7 s of speech, then waits for the platform's BYE.
    const caller = startCaller(sipPortOf(fx.t), '+15550007001');
    // baresip answers by itself; once it has heard the caller for a while, it hangs up.
    await until(
      () => /Call established|call established/i.test(alice.log()),
      15_000,
      `baresip to answer (${alice.log().slice(-800)})`,
    );
    await new Promise((r) => setTimeout(r, 7000));
    expect((await alice.command('hangup')).ok).toBe(true);
    const run = await caller.done;
    expect(run.code, run.stdout.slice(-1500)).toBe(0);

    const dialed = fx.web.seen.find((s) => s.path === '/dialed');
    expect(dialed?.params.DialCallStatus).toBe('completed');
    const children = await fx.t.client.calls.list({ parentCallSid: dialed!.params.CallSid! });
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ to: 'client:alice', direction: 'outbound-dial' });
    expect(await waitForCallStatus(fx, children[0]!.sid, 'completed')).toBe('completed');

    // What baresip heard: the caller's speech, bridged through the platform.
    await until(
      () => readdirSync(alice.dir).some((f) => f.startsWith('dump-') && f.endsWith('-dec.wav')),
      5000,
      'baresip dump',
    );
    await new Promise((r) => setTimeout(r, 500));
    const dec = readdirSync(alice.dir).find(
      (f) => f.startsWith('dump-') && f.endsWith('-dec.wav'),
    )!;
    const heard = toMono16(readWav(readFileSync(join(alice.dir, dec))));
    expect(heard.length).toBeGreaterThan(8000 * 3);
    expect(rms(heard)).toBeGreaterThan(300);
  }, 90_000);

  it("runs the domain's VoiceUrl for an INVITE from the registered phone, after digest for calls", async () => {
    const { client } = fx.t;
    const alice = phones[0]!;
    const [domain] = await client.sip.domains
      .list({ limit: 20 })
      .then((ds) => ds.filter((d) => d.domainName === 'office-a.example.com'));
    const pause = new VoiceResponse();
    pause.pause({ length: 2 });
    pause.hangup();
    fx.web.routes.set('/domain-voice', pause.toString());
    await client.sip.domains(domain!.sid).update({ voiceUrl: fx.web.url + '/domain-voice' });

    // No credential list mapped for calls: Twilio blocks the call, so do we (403).
    expect((await alice.command('dial', 'sip:frontdesk@office-a.example.com')).ok).toBe(true);
    await until(
      () => /403 Forbidden/.test(alice.log()),
      10_000,
      `403 (${alice.log().slice(-600)})`,
    );
    expect(fx.web.seen.some((r) => r.path === '/domain-voice')).toBe(false);

    const [list] = await client.sip.credentialLists.list();
    await client.sip
      .domains(domain!.sid)
      .auth.calls.credentialListMappings.create({ credentialListSid: list!.sid });
    // Now baresip answers the 407 challenge with alice's credentials and the call runs.
    expect((await alice.command('dial', 'sip:frontdesk@office-a.example.com')).ok).toBe(true);
    await until(
      () => fx.web.seen.some((r) => r.path === '/domain-voice'),
      15_000,
      `the domain's VoiceUrl (${alice.log().slice(-800)})`,
    );
    const hook = fx.web.seen.find((r) => r.path === '/domain-voice')!;
    expect(hook.signatureValid).toBe(true);
    expect(hook.params).toMatchObject({
      AccountSid: fx.t.accountSid,
      To: 'sip:frontdesk@office-a.example.com',
      From: 'sip:alice@office-a.example.com',
      Direction: 'inbound',
    });
    // An INVITE without credentials is challenged (realm = the domain name).
    const challenge = await register(
      fx.t.platform.telephony!.sip.transport.port,
      { user: 'frontdesk', domain: 'office-a.example.com' },
      undefined,
      'INVITE',
    );
    expect(challenge.status).toBe(407);
    expect(challenge.headers).toMatch(/Proxy-Authenticate: Digest realm="office-a\.example\.com"/i);
    // The TwiML pauses, then hangs up: a BYE to baresip and a completed call.
    expect(await waitForCallStatus(fx, hook.params.CallSid!, 'completed')).toBe('completed');
  }, 60_000);

  it('never reaches a client registered on another account', async () => {
    const { client } = fx.t;
    const sipPort = fx.t.platform.telephony!.sip.transport.port;
    // Tenant B has its own domain with a client "carol"; she registers from a bare UDP peer
    // that counts the INVITEs it gets.
    const sub = await client.api.accounts.create({ friendlyName: 'tenant b' });
    const b = sdkClient(fx.t.url, sub.sid, sub.authToken);
    const list = await b.sip.credentialLists.create({ friendlyName: 'B phones' });
    await b.sip
      .credentialLists(list.sid)
      .credentials.create({ username: 'carol', password: 'Carol12345Secret' });
    const domain = await b.sip.domains.create({
      domainName: 'tenant-b.example.com',
      sipRegistration: true,
    });
    await b.sip
      .domains(domain.sid)
      .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
    const carol = await startBaresip(
      `<sip:carol@tenant-b.example.com>;auth_pass=Carol12345Secret;outbound="sip:127.0.0.1:${sipPort}";regint=120;answermode=auto`,
      sweep,
      40,
    );
    phones.push(carol);
    const registrar = fx.t.platform.telephony!.sip.registrar!;
    await until(
      () => registrar.lookup('sip:carol@tenant-b.example.com').length === 1,
      10_000,
      'carol to register',
    );

    // Account A dials client "carol": not one of A's clients.
    const call = await client.calls.create({
      to: 'client:carol',
      from: '+15550007002',
      twiml: '<Response><Say>hello</Say></Response>',
    });
    expect(await waitForCallStatus(fx, call.sid, 'no-answer')).toBe('no-answer');
    expect(carol.log()).not.toMatch(/Incoming call|incoming call/);
  }, 60_000);
});
