// Three modules on three plans, fed with synthetic segments; every price, ledger entry,
// balance and usage record is checked against figures worked out by hand below.
//
//   A  acme.ivr     (publisher P1)  0.02/min, 60 s increment, 0.01 per invocation
//   B  expert.line  (publisher P2)  0.10/min,  1 s increment
//   C  voicemail    (publisher P1)  free time (60 s increment), 0.05 per invocation
//
// User U, call CA1 (inbound), 2026-03-15 10:00:00Z:
//   seg 1  A  61.2 s  -> 2 increments = 120 s -> 120/60 x 0.02 = 0.04 + 0.01      = 0.05
//   seg 2  B   5.0 s  -> 5 increments =   5 s ->   5/60 x 0.10 = 0.0083333…       = 0.008333
//   seg 3  C   0.4 s  -> 1 increment  =  60 s ->   0            + 0.05            = 0.05
// User U, call CA2 (outbound-api), 11:00:00Z:
//   seg 1  B   0.4 s  -> 1 increment  =   1 s ->   1/60 x 0.10 = 0.0016666… (up) = 0.001667
//
// Ledger: U debited 0.05 + 0.008333 + 0.05 + 0.001667 = 0.11; P1 credited 0.05 + 0.05 = 0.10;
// P2 credited 0.008333 + 0.001667 = 0.01.
// Usage of U that day: calls 2 calls, CA1 66.6 s -> 2 min + CA2 0.4 s -> 1 min = 3 min, 0.11;
// calls-inbound 1 / 2 min / 0.108333; calls-outbound 1 / 1 min / 0.001667;
// module:acme.ivr 1 invocation / 120 s / 0.05; module:expert.line 2 / 6 s / 0.01;
// module:voicemail 1 / 60 s / 0.05.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Billing, type BillingTables, type SegmentRow } from '../../src/billing/index.js';
import type { ModuleInfo } from '../../src/voice/index.js';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

type Who = { url: string; accountSid: string; authToken: string };
let t: TestPlatform;
let billing: Billing;
let P1: Who;
let P2: Who;
let U: Who;
const mod: Record<'A' | 'B' | 'C', ModuleInfo> = {} as Record<'A' | 'B' | 'C', ModuleInfo>;
const CA1 = 'CA' + '1'.repeat(32);
const CA2 = 'CA' + '2'.repeat(32);
const T = Date.UTC(2026, 2, 15, 10, 0, 0);
const segs: Record<string, SegmentRow> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  // Our own Billing over the platform's store, posting only when told (accounting runs below).
  billing = new Billing({ store: t.platform.store, autoAccount: false });
  const mk = async (name: string): Promise<Who> => {
    const a = await t.client.api.v2010.accounts.create({ friendlyName: name });
    return { url: t.url, accountSid: a.sid, authToken: a.authToken };
  };
  [P1, P2, U] = [await mk('P1'), await mk('P2'), await mk('U')];
  const publish = async (who: Who, fields: Record<string, string>) => {
    const res = await request(
      who,
      'POST',
      `/2010-04-01/Accounts/${who.accountSid}/Applications.json`,
      new URLSearchParams({ Visibility: 'public', ...fields }).toString(),
    );
    expect(res.status).toBe(201);
    const info = await t.platform.modules.findByCode(fields.ModuleCode ?? '');
    if (!info) throw new Error('module missing');
    return info;
  };
  mod.A = await publish(P1, {
    ModuleCode: 'acme.ivr',
    VoiceUrl: 'https://p1.example.com/ivr',
    PerMinuteRate: '0.02',
    BillingIncrement: '60',
    PerInvocationFee: '0.01',
  });
  mod.B = await publish(P2, {
    ModuleCode: 'expert.line',
    VoiceUrl: 'https://p2.example.com/expert',
    PerMinuteRate: '0.10',
    BillingIncrement: '1',
  });
  mod.C = await publish(P1, {
    ModuleCode: 'voicemail',
    VoiceUrl: 'https://p1.example.com/vm',
    PerInvocationFee: '0.05',
  });
});
afterAll(async () => {
  await t?.cleanup();
});

const next = (m: ModuleInfo, callSid: string, direction: string) => ({
  callSid,
  moduleSid: m.sid,
  moduleCode: m.moduleCode,
  publisherAccountSid: m.accountSid,
  userAccountSid: U.accountSid,
  direction,
  plan: m.plan,
});

describe('three modules on three plans, checked by hand', () => {
  it('meters each segment by its own plan', async () => {
    const s1 = await billing.openSegment({ ...next(mod.A, CA1, 'inbound'), startedMs: T });
    const t1 = await billing.transition(
      s1.sid,
      T + 61_200,
      'redirect',
      next(mod.B, CA1, 'inbound'),
    );
    const t2 = await billing.transition(
      t1.opened.sid,
      T + 66_200,
      'redirect',
      next(mod.C, CA1, 'inbound'),
    );
    const c3 = await billing.closeSegment(t2.opened.sid, T + 66_600, 'hangup');
    const s4 = await billing.openSegment({
      ...next(mod.B, CA2, 'outbound-api'),
      startedMs: T + 3_600_000,
    });
    const c4 = await billing.closeSegment(s4.sid, T + 3_600_400, 'hangup');
    Object.assign(segs, { a: t1.closed, b: t2.closed, c: c3, d: c4 });

    expect([segs.a, segs.b, segs.c, segs.d].map((s) => s?.price_micros)).toEqual([
      50_000, 8_333, 50_000, 1_667,
    ]);
    expect([segs.a, segs.b, segs.c, segs.d].map((s) => s?.billable_units)).toEqual([2, 5, 1, 1]);
    expect([segs.a, segs.b, segs.c, segs.d].map((s) => s?.duration_ms)).toEqual([
      61_200, 5_000, 400, 400,
    ]);
    // Closing again changes nothing.
    expect((await billing.closeSegment(c3.sid, T + 999_999, 'hangup')).price_micros).toBe(50_000);

    // Segments through the API (the call's account).
    const res = await request(
      U,
      'GET',
      `/2010-04-01/Accounts/${U.accountSid}/Calls/${CA1}/Segments.json`,
    );
    expect(res.status).toBe(200);
    const rows = res.json.segments as Record<string, unknown>[];
    expect(
      rows.map((r) => [
        r.sequence,
        r.module_code,
        r.duration_ms,
        r.billable_units,
        r.billed_seconds,
        r.price,
        r.start_reason,
        r.transition_reason,
      ]),
    ).toEqual([
      [1, 'acme.ivr', 61_200, 2, 120, '0.05', 'start', 'redirect'],
      [2, 'expert.line', 5_000, 5, 5, '0.008333', 'redirect', 'redirect'],
      [3, 'voicemail', 400, 1, 60, '0.05', 'redirect', 'hangup'],
    ]);
    expect(rows[0]).toMatchObject({
      account_sid: U.accountSid,
      call_sid: CA1,
      publisher_account_sid: P1.accountSid,
      status: 'closed',
      per_minute_rate: '0.02',
      per_invocation_fee: '0.01',
      billing_increment: 60,
      price_unit: 'USD',
      start_time: 'Sun, 15 Mar 2026 10:00:00 +0000',
      end_time: 'Sun, 15 Mar 2026 10:01:01 +0000',
    });
    const one = await request(U, 'GET', String(rows[1]?.uri));
    expect(one.json.sid).toBe(rows[1]?.sid);
    // Another account sees no segments of U's call.
    const other = await request(
      P1,
      'GET',
      `/2010-04-01/Accounts/${P1.accountSid}/Calls/${CA1}/Segments.json`,
    );
    expect(other.json.segments).toEqual([]);
  });

  it('posts each segment to the ledger exactly once, however often accounting runs', async () => {
    const first = await billing.runAccounting();
    const second = await billing.runAccounting();
    // The platform's own sweep may have posted some in between; together they post four, once.
    expect(second).toBe(0);
    expect(first).toBeLessThanOrEqual(4);
    for (const s of Object.values(segs)) expect(await billing.postSegment(s.sid)).toBe(false);
    const count = await t.platform.store
      .kysely<BillingTables>()
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('call_sid', 'in', [CA1, CA2])
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(8);
  });

  it('debits the user, credits each publisher, and keeps balances', async () => {
    const ledger = async (who: Who) =>
      (await request(who, 'GET', `/2010-04-01/Accounts/${who.accountSid}/Ledger.json?PageSize=2`))
        .json;
    const u = await ledger(U);
    // Paged: follow next_page_uri.
    const firstPage = u.entries as Record<string, unknown>[];
    expect(firstPage).toHaveLength(2);
    const rest = await request(U, 'GET', String(u.next_page_uri));
    const uEntries = [...firstPage, ...(rest.json.entries as Record<string, unknown>[])];
    expect(uEntries.map((e) => e.amount).sort()).toEqual([
      '-0.001667',
      '-0.008333',
      '-0.05',
      '-0.05',
    ]);
    expect(uEntries.every((e) => e.kind === 'debit' && e.currency === 'USD')).toBe(true);
    expect(new Set(uEntries.map((e) => e.counterparty_account_sid))).toEqual(
      new Set([P1.accountSid, P2.accountSid]),
    );
    const p1 = await request(P1, 'GET', `/2010-04-01/Accounts/${P1.accountSid}/Ledger.json`);
    expect(
      (p1.json.entries as Record<string, unknown>[])
        .map((e) => [e.kind, e.amount, e.module_code])
        .sort(),
    ).toEqual([
      ['credit', '0.05', 'acme.ivr'],
      ['credit', '0.05', 'voicemail'],
    ]);
    const p2 = await request(
      P2,
      'GET',
      `/2010-04-01/Accounts/${P2.accountSid}/Ledger.json?CallSid=${CA2}`,
    );
    expect((p2.json.entries as Record<string, unknown>[]).map((e) => e.amount)).toEqual([
      '0.001667',
    ]);

    const balance = async (who: Who) =>
      (await request(who, 'GET', `/2010-04-01/Accounts/${who.accountSid}/Ledger/Balance.json`))
        .json;
    expect((await balance(U)).balances).toMatchObject([
      { currency: 'USD', balance: '-0.11', spent: '0.11' },
    ]);
    expect((await balance(P1)).balances).toMatchObject([
      { currency: 'USD', balance: '0.10', spent: '0.00' },
    ]);
    expect((await balance(P2)).balances).toMatchObject([
      { currency: 'USD', balance: '0.01', spent: '0.00' },
    ]);
    // The ledger balances: every debit has its credit.
    const sum = await t.platform.store
      .kysely<BillingTables>()
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.sum<number>('amount_micros').as('total'))
      .where('call_sid', 'in', [CA1, CA2])
      .executeTakeFirstOrThrow();
    expect(Number(sum.total)).toBe(0);
  });

  it('aggregates usage records by Twilio and module categories', async () => {
    const u = sdkClient(t.url, U.accountSid, U.authToken).api.v2010.accounts(U.accountSid);
    const day = {
      startDate: new Date('2026-03-15T00:00:00Z'),
      endDate: new Date('2026-03-15T00:00:00Z'),
    };
    const records = await u.usage.records.list(day);
    const pick = (r: {
      category: string;
      count: string;
      countUnit: string;
      usage: string;
      usageUnit: string;
      price: number;
      priceUnit: string;
    }) => [r.category, r.count, r.countUnit, r.usage, r.usageUnit, Number(r.price), r.priceUnit];
    expect(records.map(pick)).toEqual([
      ['calls', '2', 'calls', '3', 'minutes', 0.11, 'usd'],
      ['calls-inbound', '1', 'calls', '2', 'minutes', 0.108333, 'usd'],
      ['calls-outbound', '1', 'calls', '1', 'minutes', 0.001667, 'usd'],
      ['module:acme.ivr', '1', 'invocations', '120', 'seconds', 0.05, 'usd'],
      ['module:expert.line', '2', 'invocations', '6', 'seconds', 0.01, 'usd'],
      ['module:voicemail', '1', 'invocations', '60', 'seconds', 0.05, 'usd'],
    ]);
    expect(records[0]).toMatchObject({ accountSid: U.accountSid, apiVersion: '2010-04-01' });
    expect(records[0]?.startDate.toISOString().slice(0, 10)).toBe('2026-03-15');

    // Category filter, Daily and Monthly over March.
    const march = {
      startDate: new Date('2026-03-01T00:00:00Z'),
      endDate: new Date('2026-03-31T00:00:00Z'),
    };
    const vm = await u.usage.records.list({ ...march, category: 'module:voicemail' });
    expect(vm.map(pick)).toEqual([
      ['module:voicemail', '1', 'invocations', '60', 'seconds', 0.05, 'usd'],
    ]);
    const daily = await u.usage.records.daily.list({ ...march, category: 'calls' });
    expect(
      daily.map((r) => [r.startDate.toISOString().slice(0, 10), r.count, r.usage, Number(r.price)]),
    ).toEqual([['2026-03-15', '2', '3', 0.11]]);
    const monthly = await u.usage.records.monthly.list({ ...march, pageSize: 2 });
    expect(monthly).toHaveLength(6);
    expect(monthly[0]).toMatchObject({ category: 'calls', count: '2' });
    expect(monthly[0]?.startDate.toISOString().slice(0, 10)).toBe('2026-03-01');
    expect(monthly[0]?.endDate.toISOString().slice(0, 10)).toBe('2026-03-31');

    // The parent sees its subaccounts' usage unless IncludeSubaccounts=false.
    const owner = t.client.api.v2010.accounts(t.accountSid);
    const withSubs = await owner.usage.records.list({ ...day, category: 'calls' });
    expect(withSubs.map(pick)).toEqual([['calls', '2', 'calls', '3', 'minutes', 0.11, 'usd']]);
    const alone = await owner.usage.records.list({
      ...day,
      category: 'calls',
      includeSubaccounts: false,
    });
    expect(alone.map((r) => r.count)).toEqual(['0']);
    // Nothing on another day.
    const empty = await u.usage.records.daily.list({
      startDate: new Date('2026-03-16T00:00:00Z'),
      endDate: new Date('2026-03-20T00:00:00Z'),
    });
    expect(empty).toEqual([]);
  });

  it('lists Yearly, AllTime, Today, Yesterday, ThisMonth and LastMonth records through the SDK', async () => {
    // A module at 0.06/min in 1 s increments (0.001 per second) used today, yesterday, and
    // on the 1st of last month, by a user of its own.
    const V = await (async () => {
      const a = await t.client.api.v2010.accounts.create({ friendlyName: 'V' });
      return { url: t.url, accountSid: a.sid, authToken: a.authToken };
    })();
    const res = await request(
      V,
      'POST',
      `/2010-04-01/Accounts/${V.accountSid}/Applications.json`,
      'ModuleCode=periods.d&VoiceUrl=https%3A%2F%2Fv.example.com%2Fd&PerMinuteRate=0.06&BillingIncrement=1',
    );
    expect(res.status).toBe(201);
    const d = (await t.platform.modules.findByCode('periods.d'))!;
    const DAY = 86_400_000;
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const n = new Date(today);
    const lastMonthFirst = Date.UTC(n.getUTCFullYear(), n.getUTCMonth() - 1, 1, 12);
    const uses: [number, number][] = [
      [Math.max(today, now - 120_000), 10_000],
      [now - DAY, 20_000],
      [lastMonthFirst, 30_000],
    ];
    for (const [at, ms] of uses) {
      const seg = await billing.openSegment({
        callSid: 'CA' + randomHex(),
        moduleSid: d.sid,
        moduleCode: d.moduleCode,
        publisherAccountSid: V.accountSid,
        userAccountSid: V.accountSid,
        direction: 'inbound',
        plan: d.plan,
        startedMs: at,
      });
      await billing.closeSegment(seg.sid, at + ms, 'hangup');
    }
    const v = sdkClient(t.url, V.accountSid, V.authToken).api.v2010.accounts(V.accountSid);
    const category = 'module:periods.d';
    /** Seconds used and price of the uses whose start passes `keep`. */
    const expected = (keep: (at: number) => boolean) => {
      const s = uses.filter(([at]) => keep(at)).reduce((acc, [, ms]) => acc + ms / 1000, 0);
      return s ? [[String(s), Number((s * 0.001).toFixed(6))]] : [];
    };
    const got = (rows: { usage: string; price: number }[]) =>
      rows.map((r) => [r.usage, Number(r.price)]);
    const month = (at: number) => new Date(at).toISOString().slice(0, 7);
    const thisMonth = month(today);
    const lastMonth = month(lastMonthFirst);
    expect(got(await v.usage.records.today.list({ category }))).toEqual(
      expected((at) => at >= today),
    );
    expect(got(await v.usage.records.yesterday.list({ category }))).toEqual(
      expected((at) => at >= today - DAY && at < today),
    );
    expect(got(await v.usage.records.thisMonth.list({ category }))).toEqual(
      expected((at) => month(at) === thisMonth),
    );
    expect(got(await v.usage.records.lastMonth.list({ category }))).toEqual(
      expected((at) => month(at) === lastMonth),
    );
    expect(got(await v.usage.records.allTime.list({ category }))).toEqual(expected(() => true));
    const yearly = await v.usage.records.yearly.list({ category });
    const years = [...new Set(uses.map(([at]) => new Date(at).getUTCFullYear()))].sort();
    expect(yearly.map((r) => r.startDate.toISOString().slice(0, 4))).toEqual(years.map(String));
    expect(yearly.map((r) => [r.usage, Number(r.price)])).toEqual(
      years.flatMap((y) => expected((at) => new Date(at).getUTCFullYear() === y)),
    );
  });

  it("answers 'has this call reached its limit?' and when it will", async () => {
    // U has spent 0.11; its parent allots 0.20, leaving 0.09 for a live call on B (0.10/min,
    // 1 s increments): 0.09 is reached at 54 increments, i.e. from 53.001 s.
    const set = await request(
      t,
      'POST',
      `/2010-04-01/Accounts/${U.accountSid}/SpendLimit.json`,
      'Amount=0.20',
    );
    expect(set.json).toMatchObject({ amount: '0.20', spent: '0.11', remaining: '0.09' });
    const CA3 = 'CA' + '3'.repeat(32);
    // Live calls start now: the platform's sweep leaves segments alone until unseen for 60 s.
    const start = Date.now();
    await billing.openSegment({ ...next(mod.B, CA3, 'inbound'), startedMs: start });
    const at = (ms: number, callLimitMicros?: number) =>
      billing.checkSpend({
        accountSid: U.accountSid,
        callSid: CA3,
        nowMs: start + ms,
        callLimitMicros,
      });

    const early = await at(10_000);
    expect(early).toMatchObject({
      reached: false,
      limit: null,
      callCostMicros: 16_667,
      accountSpentMicros: 126_667,
      accountLimitMicros: 200_000,
      msUntilLimit: 43_001,
    });
    expect((await at(53_000)).reached).toBe(false);
    expect(await at(53_001)).toMatchObject({
      reached: true,
      limit: 'account',
      callCostMicros: 90_000,
      msUntilLimit: 0,
    });

    // A call's own limit (0.05) is tighter: reached at 30 increments, from 29.001 s.
    expect((await at(10_000, 50_000)).msUntilLimit).toBe(19_001);
    expect((await at(29_000, 50_000)).reached).toBe(false);
    expect(await at(29_001, 50_000)).toMatchObject({ reached: true, limit: 'call' });

    // A second live call of U counts against the same allotment: at 10 s each costs 0.016667,
    // so 0.073333 is left for CA3 — reached at 44 increments, from 43.001 s (then re-checked).
    const CA4 = 'CA' + '4'.repeat(32);
    await billing.openSegment({ ...next(mod.B, CA4, 'inbound'), startedMs: start });
    expect(await at(10_000)).toMatchObject({
      reached: false,
      callCostMicros: 16_667,
      accountSpentMicros: 143_334,
      msUntilLimit: 33_001,
    });
    expect(await at(48_001)).toMatchObject({ reached: true, limit: 'account' });
  });
});

function randomHex(): string {
  return randomBytes(16).toString('hex');
}
