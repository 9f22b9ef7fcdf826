// The schedule's rules on their own: SendAt parsing and its window, and the sweeper's promise
// that a due message is handed over by exactly one sweeper, never when canceled, and again
// when a crash lost its release — on SQLite, and on PostgreSQL when DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, isTwilioError } from '../../src/core/index.js';
import { dueTime, ScheduleSweeper } from '../../src/messaging/schedule.js';
import { migrations, type MessageRow, type MessagingTables } from '../../src/messaging/tables.js';
import { openStore, type Store } from '../../src/store/index.js';
import { testSchema } from '../support/schema.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (isTwilioError(e)) return e.code;
    throw e;
  }
  return undefined;
};

describe('dueTime', () => {
  const svc = { messagingServiceSid: 'MG' + '0'.repeat(32), scheduleType: 'fixed' };
  it('reads an ISO 8601 SendAt within 300 s .. 35 days', () => {
    expect(dueTime({ ...svc, sendAt: '2026-12-06T12:05:00Z' }, NOW, 300)).toBe(NOW + 300_000);
    expect(dueTime({ ...svc, sendAt: '2026-12-06T13:10:00.500+01:00' }, NOW, 300)).toBe(
      NOW + 600_500,
    );
    expect(dueTime({ ...svc, sendAt: '2027-01-10T12:00:00Z' }, NOW, 300)).toBe(
      NOW + 35 * 86_400_000,
    );
  });
  it('is undefined without ScheduleType (SendAt alone is ignored, as Twilio)', () => {
    expect(dueTime({ sendAt: '2026-12-06T12:05:00Z' }, NOW, 300)).toBeUndefined();
  });
  it("answers Twilio's codes", () => {
    expect(code(() => dueTime({ ...svc, scheduleType: 'weekly' }, NOW, 300))).toBe(35126);
    expect(code(() => dueTime(svc, NOW, 300))).toBe(35111);
    expect(
      code(() => dueTime({ scheduleType: 'fixed', sendAt: '2026-12-06T13:00:00Z' }, NOW, 300)),
    ).toBe(35118);
    for (const sendAt of [
      '2026-12-06T12:04:59Z',
      '2027-01-10T12:00:01Z',
      'tomorrow',
      '2026-12-06 13:00',
      '2026-12-06T13:00:00', // no zone
      '2026-13-45T99:00:00Z',
    ]) {
      expect(code(() => dueTime({ ...svc, sendAt }, NOW, 300))).toBe(35114);
    }
  });
});

const dir = mkdtempSync(join(tmpdir(), 'sb-schedule-'));
const targets: [string, () => Promise<Store>][] = [
  ['sqlite', () => openStore({ dataDir: dir, sqliteFile: 'schedule.db' })],
];
if (process.env.DATABASE_URL) {
  const url = process.env.DATABASE_URL;
  targets.push([
    'postgres',
    () => openStore({ dataDir: dir, databaseUrl: url, schema: testSchema('sbtest') }),
  ]);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logger = createLogger('silent');

function scheduled(sid: string, sendAt: number, status: MessageRow['status'] = 'scheduled') {
  const t = Date.now() - 60_000;
  return {
    sid,
    account_sid: 'AC' + '1'.repeat(32),
    messaging_service_sid: 'MG' + '1'.repeat(32),
    direction: 'outbound-api' as const,
    from_addr: '+15550001111',
    to_addr: '+4915100000000',
    body: 'later',
    status,
    num_segments: 1,
    encoding: 'GSM-7',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    provider_sid: null,
    route: '[]',
    status_callback: null,
    validity_period: null,
    date_created: t,
    date_updated: t,
    date_sent: null,
    num_media: 0,
    send_at: sendAt,
  };
}

describe.each(targets)('ScheduleSweeper on %s', (_name, open) => {
  it('hands each due message to exactly one of two sweepers, and never a canceled one', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<MessagingTables>();
    const past = Date.now() - 1000;
    const sids = Array.from({ length: 40 }, () => 'SM' + randomBytes(16).toString('hex'));
    await db
      .insertInto('messaging_messages')
      .values(sids.map((sid) => scheduled(sid, past)))
      .execute();
    const later = 'SM' + randomBytes(16).toString('hex');
    const canceled = 'SM' + randomBytes(16).toString('hex');
    await db
      .insertInto('messaging_messages')
      .values([scheduled(later, Date.now() + 60_000), scheduled(canceled, past, 'canceled')])
      .execute();
    const released: string[] = [];
    const sweeper = () =>
      new ScheduleSweeper(db, logger, async (rows) => {
        released.push(...rows.map((r) => r.sid));
        await db
          .updateTable('messaging_messages')
          .set({ send_at: null })
          .where(
            'sid',
            'in',
            rows.map((r) => r.sid),
          )
          .execute();
      });
    // Both read the same due rows before either flips them.
    await Promise.all([sweeper().sweep(), sweeper().sweep()]);
    expect(released.sort()).toEqual([...sids].sort());
    const rows = await db.selectFrom('messaging_messages').select(['sid', 'status']).execute();
    const status = new Map(rows.map((r) => [r.sid, r.status]));
    expect(sids.every((s) => status.get(s) === 'queued')).toBe(true);
    expect(status.get(later)).toBe('scheduled');
    expect(status.get(canceled)).toBe('canceled');
    await store.close();
  });

  it('releases again, once, a message whose release a crash lost', async () => {
    const store = await open();
    await store.migrate(migrations);
    const db = store.kysely<MessagingTables>();
    // Flipped to queued over 30 s ago, send_at never cleared: its job was never added.
    const lost = 'SM' + randomBytes(16).toString('hex');
    await db
      .insertInto('messaging_messages')
      .values(scheduled(lost, Date.now() - 90_000, 'queued'))
      .execute();
    const released: string[] = [];
    const sweeper = () =>
      new ScheduleSweeper(db, logger, async (rows) => {
        released.push(...rows.map((r) => r.sid));
      });
    // Two nodes find it at once: one of them releases it.
    await Promise.all([sweeper().sweep(), sweeper().sweep()]);
    expect(released).toEqual([lost]);
    await store.close();
  });
});
