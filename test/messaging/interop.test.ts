// Carrier interoperability: SMSCs differ from the project's own test SMSC in how they write
// message ids and receipts. Each case is an SMSC on a different SMPP implementation (Net::SMPP,
// Perl: test/support/perl-smsc.pl) behaving as some real SMSC does, behind a provider of its own
// (its own destination prefix), and the messages must end as the receipts say: ids in another
// base, padded, in upper case or only in the receipted_message_id TLV; declared id formats
// (Settings.messageIds); receipt states and the message_state TLV; ESME_RTHROTTLED and
// ESME_RMSGQFUL (back off, never fail); generic_nack (resent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePerlSmpp, startPerlSmsc, type PerlSmsc } from '../support/perl-smsc.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { waitFor } from './support.js';

const PERL = havePerlSmpp();
if (!PERL) {
  const why = 'perl with Net::SMPP missing (scripts/setup-system.sh installs libnet-smpp-perl)';
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`!!! interop tests skipped: ${why}`);
}

let t: TestPlatform;
const smscs: PerlSmsc[] = [];
let prefix = 4470;

beforeAll(async () => {
  if (!PERL) return;
  t = await startTestPlatform();
});

afterAll(async () => {
  await t?.cleanup();
  for (const s of smscs) await s.close();
});

/** A Perl SMSC behaving as `args` say, behind a provider that alone reaches `+<prefix>…`. */
async function provider(
  args: string[],
  settings: Record<string, unknown> = {},
): Promise<{ smsc: PerlSmsc; to: (i: number) => string; sid: string }> {
  const smsc = await startPerlSmsc(args);
  smscs.push(smsc);
  const p = String(prefix++);
  const form = new URLSearchParams({
    Name: `perl-${p}`,
    Kind: 'smpp',
    Settings: JSON.stringify({
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'test',
      password: 'secret',
      binds: 1,
      window: 10,
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      responseTimeoutMs: 3000,
      ...settings,
    }),
    Prices: JSON.stringify({ [p]: 0.01 }),
    Throughput: '100',
  });
  const res = await request(t, 'POST', '/messaging/v1/Providers', form.toString());
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  const sid = String(res.json.sid);
  await waitFor(
    async () =>
      (
        (await request(t, 'GET', `/messaging/v1/Providers/${sid}`)).json.live as {
          connected: boolean;
        }
      ).connected,
    10_000,
    'bind',
  );
  return { smsc, sid, to: (i) => `+${p}00900${String(i).padStart(3, '0')}` };
}

interface Msg {
  sid: string;
  status: string;
  error_code: number | null;
}

async function sendAll(to: (i: number) => string, n: number): Promise<string[]> {
  const sids: string[] = [];
  for (let i = 0; i < n; i++) {
    const m = await t.client.messages.create({
      to: to(i),
      from: '+15550001111',
      body: `interop ${i}`,
    });
    sids.push(m.sid);
  }
  return sids;
}

async function fetchMsg(sid: string): Promise<Msg> {
  const r = await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Messages/${sid}.json`);
  return r.json as unknown as Msg;
}

/** Waits until every message has `status`, and returns them. */
async function settle(sids: string[], status: string, ms = 15_000): Promise<Msg[]> {
  let msgs: Msg[] = [];
  try {
    await waitFor(
      async () => {
        msgs = await Promise.all(sids.map(fetchMsg));
        return msgs.every((m) => m.status === status);
      },
      ms,
      `${sids.length} messages ${status}`,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; they are ${JSON.stringify(msgs)}`, { cause: e });
  }
  return msgs;
}

describe.skipIf(!PERL)('SMPP interoperability (an SMSC on Net::SMPP)', () => {
  it('matches receipts whose id is in another base, padded, in other case or only in the TLV', async () => {
    const cases = [
      // hex in submit_sm_resp, decimal in the receipt
      ['--resp-base', 'hex', '--dlr-base', 'dec'],
      // decimal in submit_sm_resp, hexadecimal in upper case with leading zeros in the receipt
      ['--resp-base', 'dec', '--dlr-base', 'hex', '--dlr-upper', '--dlr-pad', '16'],
      // padded decimal answered, the receipt's id only in receipted_message_id (hex)
      ['--resp-base', 'dec', '--resp-pad', '12', '--dlr-base', 'hex', '--dlr-where', 'tlv'],
      // the same id both ways, in upper case in the answer
      ['--resp-base', 'hex', '--resp-upper', '--dlr-base', 'hex'],
    ];
    for (const args of cases) {
      const p = await provider(args);
      const sids = await sendAll(p.to, 3);
      await settle(sids, 'delivered');
      expect(p.smsc.submits).toHaveLength(3);
    }
  });

  it('uses the id formats a provider declares (Settings.messageIds)', async () => {
    const bad = await request(
      t,
      'POST',
      '/messaging/v1/Providers',
      new URLSearchParams({
        Name: 'bad-ids',
        Settings: JSON.stringify({
          host: '127.0.0.1',
          port: 1,
          systemId: 'x',
          password: 'y',
          messageIds: { submit: 'octal', receipt: 'hex' },
        }),
      }).toString(),
    );
    expect(bad.status).toBe(400);
    const p = await provider(['--resp-base', 'dec', '--dlr-base', 'hex', '--dlr-pad', '10'], {
      messageIds: { submit: 'decimal', receipt: 'hex' },
    });
    await settle(await sendAll(p.to, 3), 'delivered');
  });

  it('maps receipt states and the message_state TLV to Twilio statuses and error codes', async () => {
    const cases: [string[], string, number | null][] = [
      [['--stat', 'UNDELIV'], 'undelivered', 30003],
      [['--stat', 'REJECTD'], 'undelivered', 30007],
      [['--stat', 'EXPIRED'], 'undelivered', 30003],
      [['--stat', 'DELETED'], 'undelivered', 30008],
      [['--stat', 'UNKNOWN'], 'undelivered', 30008],
      [['--stat', 'delivered'], 'delivered', null],
      // The TLV wins over the text: EXPIRED (3).
      [['--stat', 'DELIVRD', '--state', '3', '--dlr-where', 'both'], 'undelivered', 30003],
      [['--stat', 'UNDELIV', '--state', '2', '--dlr-where', 'both'], 'delivered', null],
      // Not final: the message stays sent.
      [['--stat', 'ENROUTE'], 'sent', null],
      [['--stat', 'ACCEPTD'], 'sent', null],
    ];
    for (const [args, status, code] of cases) {
      const p = await provider(args);
      const [sid] = await sendAll(p.to, 1);
      const [m] = await settle([sid!], status);
      expect(m!.error_code, args.join(' ')).toBe(code);
      if (status === 'sent') {
        // The receipt came and was read, and left it sent.
        await new Promise((r) => setTimeout(r, 500));
        expect((await fetchMsg(sid!)).status).toBe('sent');
      }
    }
  });

  it('backs off on ESME_RTHROTTLED and ESME_RMSGQFUL and on generic_nack resends, failing nothing', async () => {
    const p = await provider(['--nack', '1', '--throttle', '3', '--qfull', '3']);
    const sids = await sendAll(p.to, 4);
    await settle(sids, 'delivered', 25_000);
    // Each message went to the SMSC and was taken once.
    expect(p.smsc.submits).toHaveLength(4);
    const live = (await request(t, 'GET', `/messaging/v1/Providers/${p.sid}`)).json.live as {
      circuit: string;
    };
    expect(live.circuit).toBe('closed');
  });
});
