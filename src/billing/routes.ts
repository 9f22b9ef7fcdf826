import { fail, rfc2822 } from '../core/index.js';
import { PAGE_PARAMS, listPage2010, type RestRoute } from '../core/rest.js';
import { slicePage } from '../store/index.js';
import type { Billing } from './billing.js';
import { formatMicros, parseCurrency, parseMicros } from './money.js';
import type { LedgerEntryRow, SegmentRow } from './tables.js';
import { dayOf, isoDay, priceNumber, type Granularity, type UsageRecord } from './usage.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';
const DAY = 86_400_000;

export interface BillingRouteOptions {
  /** The subaccounts of an account (Usage Records include them unless IncludeSubaccounts=false). */
  readonly subaccountsOf: (accountSid: string) => Promise<readonly string[]>;
  /** Clock (tests may pin it). */
  readonly now?: () => number;
}

export function segmentJson(row: SegmentRow): Record<string, unknown> {
  return {
    sid: row.sid,
    account_sid: row.user_account_sid,
    call_sid: row.call_sid,
    sequence: row.seq,
    module_sid: row.module_sid,
    module_code: row.module_code,
    publisher_account_sid: row.publisher_account_sid,
    direction: row.direction,
    status: row.status,
    start_time: rfc2822(row.started_ms),
    end_time: rfc2822(row.ended_ms),
    duration_ms: row.duration_ms,
    start_reason: row.start_reason,
    transition_reason: row.transition_reason,
    billable_units: row.billable_units,
    billing_increment: row.increment_s,
    billed_seconds: row.billable_units * row.increment_s,
    invocations: row.invocations,
    per_minute_rate: formatMicros(row.rate_micros),
    per_invocation_fee: formatMicros(row.fee_micros),
    price: row.status === 'closed' ? formatMicros(row.price_micros) : null,
    price_unit: row.currency,
    accounted: row.accounted_ms !== null,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    uri: `/2010-04-01/Accounts/${row.user_account_sid}/Calls/${row.call_sid}/Segments/${row.sid}.json`,
  };
}

export function entryJson(row: LedgerEntryRow): Record<string, unknown> {
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    counterparty_account_sid: row.counterparty_account_sid,
    kind: row.kind,
    amount: formatMicros(row.amount_micros),
    currency: row.currency,
    call_sid: row.call_sid,
    segment_sid: row.segment_sid,
    module_sid: row.module_sid,
    module_code: row.module_code,
    description: row.description,
    date_created: rfc2822(row.date_created),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Ledger/${row.sid}.json`,
  };
}

const USAGE_PERIODS: readonly { name: string; key: string; granularity: Granularity }[] = [
  { name: '', key: 'records', granularity: 'all' },
  { name: 'AllTime', key: 'all_time', granularity: 'all' },
  { name: 'Daily', key: 'daily', granularity: 'daily' },
  { name: 'Monthly', key: 'monthly', granularity: 'monthly' },
  { name: 'Yearly', key: 'yearly', granularity: 'yearly' },
  { name: 'Today', key: 'today', granularity: 'all' },
  { name: 'Yesterday', key: 'yesterday', granularity: 'all' },
  { name: 'ThisMonth', key: 'this_month', granularity: 'all' },
  { name: 'LastMonth', key: 'last_month', granularity: 'all' },
];

/** The fixed range of the named periods; undefined for the open ones (Records, Daily…). */
function fixedRange(name: string, now: number): [number, number] | undefined {
  const today = dayOf(now);
  const d = new Date(today);
  const [y, m] = [d.getUTCFullYear(), d.getUTCMonth()];
  switch (name) {
    case 'Today':
      return [today, today];
    case 'Yesterday':
      return [today - DAY, today - DAY];
    case 'ThisMonth':
      return [Date.UTC(y, m, 1), today];
    case 'LastMonth':
      return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1) - DAY];
    default:
      return undefined;
  }
}

function usageJson(accountSid: string, r: UsageRecord, now: number): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${accountSid}/Usage/Records`;
  const category = encodeURIComponent(r.category);
  const range = `Category=${category}&StartDate=${isoDay(r.startDay)}&EndDate=${isoDay(r.endDay)}`;
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    as_of: new Date(now).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    category: r.category,
    count: String(r.count),
    count_unit: r.countUnit,
    description: r.description,
    end_date: isoDay(r.endDay),
    price: priceNumber(r.priceMicros),
    price_unit: r.currency.toLowerCase(),
    start_date: isoDay(r.startDay),
    subresource_uris: Object.fromEntries(
      USAGE_PERIODS.filter((p) => p.name !== '').map((p) => [
        p.key,
        `${base}/${p.name}.json?Category=${category}`,
      ]),
    ),
    uri: `${base}.json?${range}`,
    usage: String(r.usage),
    usage_unit: r.usageUnit,
  };
}

/** Routes of the billing capability: call segments, the ledger, spend limits, usage records. */
export function billingRoutes(billing: Billing, options: BillingRouteOptions): RestRoute[] {
  const now = options.now ?? Date.now;

  const usageRoutes: RestRoute[] = USAGE_PERIODS.map((period) => ({
    method: 'GET',
    domain: 'api',
    path: `${ACCOUNT}/Usage/Records${period.name ? `/${period.name}` : ''}.json`,
    summary: `Usage records${period.name ? ` (${period.name})` : ''}: calls, calls-inbound, calls-outbound, calls-client and module:<ModuleCode>`,
    paged: true,
    params: [
      { name: 'Category', type: 'string', max: 160 },
      { name: 'StartDate', type: 'date' },
      { name: 'EndDate', type: 'date' },
      { name: 'IncludeSubaccounts', type: 'bool' },
      ...PAGE_PARAMS,
    ],
    async handler(req) {
      const at = now();
      const include = req.input.bool('IncludeSubaccounts') ?? true;
      const sids = [
        req.account.sid,
        ...(include ? await options.subaccountsOf(req.account.sid) : []),
      ];
      const fixed = fixedRange(period.name, at);
      const startIn = req.input.date('StartDate');
      const endIn = req.input.date('EndDate');
      let startDay: number;
      let endDay: number;
      if (fixed) [startDay, endDay] = fixed;
      else {
        endDay = endIn !== undefined ? dayOf(endIn) : dayOf(at);
        startDay =
          startIn !== undefined
            ? dayOf(startIn)
            : Math.min((await billing.firstUsageDay(sids)) ?? endDay, endDay);
      }
      if (endDay < startDay) fail('invalidParameter', 'EndDate is before StartDate');
      const category = req.input.string('Category');
      const all = await billing.usageRecords({
        accountSids: sids,
        startDay,
        endDay,
        granularity: period.granularity,
        category,
      });
      const { items, next } = slicePage(all, req.page);
      return listPage2010(
        req,
        'usage_records',
        items.map((r) => usageJson(req.account.sid, r, at)),
        next,
        {
          Category: category,
          StartDate: startIn !== undefined ? isoDay(startIn) : undefined,
          EndDate: endIn !== undefined ? isoDay(endIn) : undefined,
          IncludeSubaccounts: req.input.has('IncludeSubaccounts') ? String(include) : undefined,
        },
      );
    },
  }));

  return [
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Segments.json`,
      summary: 'List the segments of a call: one per period a module controlled it (extension)',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const { items, next } = await billing.listSegments(
          req.account.sid,
          req.params.CallSid ?? '',
          req.page,
        );
        return listPage2010(req, 'segments', items.map(segmentJson), next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Segments/:Sid.json`,
      summary: 'Fetch a call segment (extension)',
      async handler(req) {
        const row = await billing.getSegment(req.params.Sid ?? '');
        if (
          !row ||
          row.user_account_sid !== req.account.sid ||
          row.call_sid !== req.params.CallSid
        ) {
          fail('notFound', `Segment ${(req.params.Sid ?? '').slice(0, 40)}`);
        }
        return { status: 200, body: segmentJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Ledger.json`,
      summary:
        'List ledger entries: debits for modules used, credits for modules published (extension)',
      paged: true,
      params: [
        { name: 'CallSid', type: 'sid', prefix: 'CA' },
        { name: 'Currency', type: 'string', max: 3 },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        const callSid = req.input.string('CallSid');
        const currency = req.input.string('Currency')?.toUpperCase();
        const { items, next } = await billing.listEntries(
          req.account.sid,
          { callSid, currency },
          req.page,
        );
        return listPage2010(req, 'entries', items.map(entryJson), next, {
          CallSid: callSid,
          Currency: currency,
        });
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Ledger/Balance.json`,
      summary: "The account's balance per currency and its spend limit (extension)",
      async handler(req) {
        const [rows, limit] = await Promise.all([
          billing.balances(req.account.sid),
          billing.spendLimit(req.account.sid),
        ]);
        return {
          status: 200,
          body: {
            account_sid: req.account.sid,
            balances: rows.map((r) => ({
              currency: r.currency,
              balance: formatMicros(r.balance_micros),
              spent: formatMicros(r.spent_micros),
              date_updated: rfc2822(r.date_updated),
            })),
            spend_limit: limit
              ? { amount: formatMicros(limit.limit_micros), currency: limit.currency }
              : null,
            uri: `/2010-04-01/Accounts/${req.account.sid}/Ledger/Balance.json`,
          },
        };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Ledger/:Sid.json`,
      summary: 'Fetch a ledger entry (extension)',
      async handler(req) {
        const row = await billing.entry(req.account.sid, req.params.Sid ?? '');
        if (!row) return fail('notFound', `Ledger entry ${(req.params.Sid ?? '').slice(0, 40)}`);
        return { status: 200, body: entryJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/SpendLimit.json`,
      summary: "Fetch the account's allotted cost (extension)",
      async handler(req) {
        return { status: 200, body: await spendLimitJson(billing, req.account.sid) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}/SpendLimit.json`,
      summary:
        "Set the account's allotted cost; Amount='' removes it (extension; a subaccount's is set by its parent)",
      params: [
        { name: 'Amount', type: 'string', required: true, max: 20 },
        { name: 'Currency', type: 'string', max: 3 },
        { name: 'HandoffModule', type: 'string', max: 260 },
      ],
      async handler(req) {
        if (req.account.parentSid !== null && req.principal.accountSid !== req.account.parentSid) {
          fail('forbidden', "a subaccount's spend limit is set by its parent account");
        }
        const raw = req.input.string('Amount') ?? '';
        const currency = parseCurrency('Currency', req.input.string('Currency') ?? 'USD');
        const handoff = req.input.string('HandoffModule')?.trim() || null;
        if (handoff !== null && !HANDOFF_MODULE.test(handoff))
          fail('invalidParameter', `HandoffModule "${handoff.slice(0, 64)}" is not a ModuleCode`);
        await billing.setSpendLimit(
          req.account.sid,
          raw.trim() === '' ? null : parseMicros('Amount', raw),
          currency,
          handoff,
        );
        return { status: 200, body: await spendLimitJson(billing, req.account.sid) };
      },
    },
    ...usageRoutes,
  ];
}

/**
 * The syntax of a ModuleCode (see voice/modules): whether the module exists and may be used
 * is decided by the dispatcher and the policy when a call reaches the limit.
 */
const HANDOFF_MODULE = /^[a-z][a-z0-9_-]{0,62}(\.[a-z][a-z0-9_-]{0,62}){0,3}$/;

async function spendLimitJson(
  billing: Billing,
  accountSid: string,
): Promise<Record<string, unknown>> {
  const limit = await billing.spendLimit(accountSid);
  const spent = limit ? await billing.spent(accountSid, limit.currency) : 0;
  return {
    account_sid: accountSid,
    amount: limit ? formatMicros(limit.limit_micros) : null,
    currency: limit?.currency ?? null,
    spent: limit ? formatMicros(spent) : null,
    remaining: limit ? formatMicros(Math.max(0, limit.limit_micros - spent)) : null,
    handoff_module: limit?.handoff_module ?? null,
    date_updated: rfc2822(limit?.date_updated),
    uri: `/2010-04-01/Accounts/${accountSid}/SpendLimit.json`,
  };
}
