// Messages in doubt after a crash (src/messaging/in-doubt.ts). An SMSC on another SMPP
// implementation (Net::SMPP, Perl) accepts the first submits without answering them and loses
// the next ones, so the window is full of submits with no submit_sm_resp when the platform is
// killed (SIGKILL). After the restart the SMSC delivers the receipts of the ones it accepted:
// those messages take the receipt's outcome and are never sent again; the ones it lost get no
// receipt, are sent again after the provider's grace period, and say so. Every message reaches
// the handset once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kysely } from '../../src/store/index.js';
import { havePerlSmpp, startPerlSmsc, type PerlSmsc } from '../support/perl-smsc.js';
import { request } from '../support/platform.js';
import { serveSwitchboard, type Served } from '../support/serve.js';
import { waitFor } from './support.js';

const PERL = havePerlSmpp();
if (!PERL) {
  const why = 'perl with Net::SMPP missing (scripts/setup-system.sh installs libnet-smpp-perl)';
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`!!! in-doubt tests skipped: ${why}`);
}

const HELD = 3;
const DROPPED = 2;
const N = 12;
const dir = mkdtempSync(join(tmpdir(), 'sb-doubt-'));
let node: Served | undefined;
let smsc: PerlSmsc | undefined;
afterAll(async () => {
  await node?.cleanup();
  await smsc?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  sid: string;
  status: string;
  body: string;
  error_code: number | null;
  routing: { event: string; detail: string }[];
}

describe.skipIf(!PERL)('messages in doubt after a crash', () => {
  it(
    'settles each by its receipt, or sends it again after the grace period and says so',
    {
      timeout: 300_000,
    },
    async () => {
      smsc = await startPerlSmsc([
        ...['--hold', String(HELD), '--drop', String(DROPPED)],
        ...['--spool', join(dir, 'receipts')],
      ]);
      node = await serveSwitchboard({
        rtpPorts: '43040-43050',
        env: { SWITCHBOARD_SIP: 'false', SWITCHBOARD_TLS: 'false' },
      });
      const n = node;
      await n.start();
      const t = { url: n.url, accountSid: n.accountSid, authToken: n.authToken };
      const form = new URLSearchParams({
        Name: 'perl-doubt',
        Kind: 'smpp',
        Settings: JSON.stringify({
          host: '127.0.0.1',
          port: smsc.port,
          systemId: 'test',
          password: 'secret',
          binds: 1,
          window: HELD + DROPPED,
          reconnectMinMs: 100,
          reconnectMaxMs: 500,
          // Long enough that only the kill ends the unanswered submits.
          responseTimeoutMs: 120_000,
          inDoubt: 'resend',
          inDoubtGraceMs: 3000,
        }),
        Prices: JSON.stringify({ '44': 0.01 }),
        Throughput: '50',
      });
      const created = await request(t, 'POST', '/messaging/v1/Providers', form.toString());
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const bad = new URLSearchParams(form);
      bad.set('Name', 'bad');
      bad.set(
        'Settings',
        JSON.stringify({ ...JSON.parse(form.get('Settings')!), inDoubt: 'hope' }),
      );
      const refused = await request(t, 'POST', '/messaging/v1/Providers', bad.toString());
      expect(refused.status).toBe(400);
      expect(String(refused.json.message)).toContain('inDoubt');

      const path = `/2010-04-01/Accounts/${t.accountSid}/Messages.json`;
      for (let i = 0; i < N; i++) {
        const body = new URLSearchParams({
          To: `+4479009${String(i).padStart(5, '0')}`,
          From: '+15550001',
          Body: `m${i} in doubt after a kill`,
        });
        const res = await request(t, 'POST', path, body.toString());
        expect(res.status).toBe(201);
      }
      const s = smsc;
      await waitFor(
        () => s.submits.length >= HELD && s.drops.length >= DROPPED,
        60_000,
        'the window full of unanswered submits',
      );
      await n.crash();

      // The kill landed with submits outstanding: messages `sending` with no answer recorded, and
      // others still queued.
      const atKill = await n.inspect(async (db: Kysely<{ messaging_messages: Row }>) =>
        db.selectFrom('messaging_messages').select(['status', 'body']).execute(),
      );
      const sendingAtKill = atKill.filter((r) => r.status === 'sending').map((r) => r.body);
      expect(sendingAtKill.length).toBeGreaterThanOrEqual(HELD + DROPPED);
      expect(atKill.filter((r) => r.status === 'queued').length).toBeGreaterThan(0);
      const held = s.submits.map((x) => x.text);
      const dropped = s.drops.map((x) => x.text);

      await n.start();
      let rows: Row[] = [];
      await waitFor(
        async () => {
          rows = (await request(t, 'GET', `${path}?PageSize=100`)).json.messages as Row[];
          return rows.length === N && rows.every((r) => r.status === 'delivered');
        },
        180_000,
        'every message delivered after the restart',
      );

      for (const row of rows) {
        const times = s.submits.filter((x) => x.text === row.body).length;
        expect(times, `${row.body} accepted by the SMSC ${times} times`).toBe(1);
        const log = row.routing.map((e) => e.detail).join(' | ');
        if (held.includes(row.body)) {
          // Accepted before the kill: settled by its receipt, never sent again.
          expect(log).toContain('learnt from its receipt');
          expect(log).not.toContain('sent again');
        } else if (dropped.includes(row.body)) {
          // Lost by the SMSC: no receipt, so sent again after the grace period, and it says so.
          expect(log).toMatch(/in doubt: waiting 3000 ms/);
          expect(log).toContain('sent again: no receipt within 3000 ms');
        }
      }
    },
  );
});
