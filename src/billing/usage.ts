// Usage Records: Twilio's aggregation of what an account used, computed from the closed
// segments (one SQL aggregate per family, grouped by UTC day; months and years are rolled up
// from days here). Twilio categories `calls`, `calls-inbound`, `calls-outbound` count calls and
// their minutes (each call rounded up to the minute, as Twilio bills), and `calls-client` the
// calls Voice SDK devices place (segments metered as `inbound-client`); the extension category
// `module:<ModuleCode>` counts a module's invocations and billed seconds under its plan.
import { sql } from 'kysely';
import type { Kysely } from '../store/index.js';
import { microsToNumber } from './money.js';
import type { BillingTables } from './tables.js';

export type Granularity = 'all' | 'daily' | 'monthly' | 'yearly';

export interface UsageQuery {
  readonly accountSids: readonly string[];
  /** First day included (epoch ms of 00:00 UTC). */
  readonly startDay: number;
  /** Last day included (epoch ms of 00:00 UTC). */
  readonly endDay: number;
  readonly granularity: Granularity;
  readonly category?: string | undefined;
}

export interface UsageRecord {
  readonly category: string;
  readonly description: string;
  readonly startDay: number;
  readonly endDay: number;
  readonly count: number;
  readonly countUnit: string;
  readonly usage: number;
  readonly usageUnit: string;
  readonly priceMicros: number;
  readonly currency: string;
}

const DAY = 86_400_000;
export const CALL_CATEGORIES = ['calls', 'calls-inbound', 'calls-outbound'] as const;
const DESCRIPTIONS: Record<string, string> = {
  calls: 'Voice Minutes',
  'calls-inbound': 'Inbound Voice Minutes',
  'calls-outbound': 'Outbound Voice Minutes',
  'calls-client': 'Client Calls',
};

/** The call category of a metered direction (a segment's). */
function subCategory(direction: string): string {
  if (direction === 'inbound-client') return 'calls-client';
  return direction === 'inbound' ? 'calls-inbound' : 'calls-outbound';
}

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

export function isoDay(dayMs: number): string {
  return new Date(dayMs).toISOString().slice(0, 10);
}

function periodOf(day: number, g: Granularity, q: UsageQuery): [number, number] {
  if (g === 'daily') return [day, day];
  if (g === 'all') return [q.startDay, q.endDay];
  const d = new Date(day);
  const y = d.getUTCFullYear();
  const start = g === 'monthly' ? Date.UTC(y, d.getUTCMonth(), 1) : Date.UTC(y, 0, 1);
  const next = g === 'monthly' ? Date.UTC(y, d.getUTCMonth() + 1, 1) : Date.UTC(y + 1, 0, 1);
  return [Math.max(start, q.startDay), Math.min(next - DAY, q.endDay)];
}

interface Acc {
  category: string;
  currency: string;
  start: number;
  end: number;
  count: number;
  usage: number;
  price: number;
  description: string;
  countUnit: string;
  usageUnit: string;
}

/** Computes the usage records of the accounts over the days asked, one per category and period. */
export async function usageRecords(
  db: Kysely<BillingTables>,
  q: UsageQuery,
): Promise<UsageRecord[]> {
  if (q.accountSids.length === 0 || q.endDay < q.startDay) return [];
  const from = q.startDay;
  const until = q.endDay + DAY;
  const wantCalls = q.category === undefined || q.category.startsWith('calls');
  const wantModules = q.category === undefined || q.category.startsWith('module:');
  const accounts = sql.join(q.accountSids.map((s) => sql`${s}`));

  const out = new Map<string, Acc>();
  const add = (
    day: number,
    category: string,
    currency: string,
    count: number,
    usage: number,
    price: number,
    meta: Pick<Acc, 'description' | 'countUnit' | 'usageUnit'>,
  ) => {
    if (q.category !== undefined && q.category !== category) return;
    const [start, end] = periodOf(day, q.granularity, q);
    const key = `${start}|${category}|${currency}`;
    const acc = out.get(key) ?? {
      category,
      currency,
      start,
      end,
      count: 0,
      usage: 0,
      price: 0,
      ...meta,
    };
    acc.count += count;
    acc.usage += usage;
    acc.price += price;
    out.set(key, acc);
  };

  if (wantCalls) {
    // One row per call (and currency): its first segment's day, direction, rounded minutes.
    const rows = await sql<{
      day: number;
      direction: string;
      currency: string;
      calls: number;
      minutes: number;
      price: number;
    }>`
      SELECT c.first_ms / ${sql.lit(DAY)} AS day, c.direction AS direction, c.currency AS currency,
             COUNT(*) AS calls, SUM((c.duration_ms + 59999) / 60000) AS minutes,
             SUM(c.price) AS price
      FROM (
        SELECT call_sid, currency, MIN(started_ms) AS first_ms, MIN(direction) AS direction,
               CAST(SUM(duration_ms) AS BIGINT) AS duration_ms, SUM(price_micros) AS price
        FROM billing_segments
        WHERE status = 'closed' AND user_account_sid IN (${accounts})
        GROUP BY call_sid, currency
        HAVING MIN(started_ms) >= ${from} AND MIN(started_ms) < ${until}
      ) c
      GROUP BY c.first_ms / ${sql.lit(DAY)}, c.direction, c.currency`.execute(db);
    for (const r of rows.rows) {
      const day = Number(r.day) * DAY;
      const [calls, minutes, price] = [Number(r.calls), Number(r.minutes), Number(r.price)];
      const unit = { countUnit: 'calls', usageUnit: 'minutes' };
      add(day, 'calls', r.currency, calls, minutes, price, {
        ...unit,
        description: DESCRIPTIONS.calls ?? '',
      });
      const sub = subCategory(r.direction);
      add(day, sub, r.currency, calls, minutes, price, {
        ...unit,
        description: DESCRIPTIONS[sub] ?? '',
      });
    }
  }

  if (wantModules) {
    const rows = await sql<{
      day: number;
      module_sid: string;
      module_code: string | null;
      currency: string;
      invocations: number;
      seconds: number;
      price: number;
    }>`
      SELECT started_ms / ${sql.lit(DAY)} AS day, module_sid, module_code, currency,
             SUM(invocations) AS invocations, SUM(billable_units * increment_s) AS seconds,
             SUM(price_micros) AS price
      FROM billing_segments
      WHERE status = 'closed' AND module_sid IS NOT NULL
        AND user_account_sid IN (${accounts})
        AND started_ms >= ${from} AND started_ms < ${until}
      GROUP BY started_ms / ${sql.lit(DAY)}, module_sid, module_code, currency`.execute(db);
    for (const r of rows.rows) {
      const name = r.module_code ?? r.module_sid;
      add(
        Number(r.day) * DAY,
        `module:${name}`,
        r.currency,
        Number(r.invocations),
        Number(r.seconds),
        Number(r.price),
        {
          description: `Module ${name}: invocations and billed seconds under its usage plan`,
          countUnit: 'invocations',
          usageUnit: 'seconds',
        },
      );
    }
  }

  // Whole-range lists always show the call categories, as Twilio lists every category.
  if (q.granularity === 'all') {
    // calls-client is listed (at zero) when asked for by name only.
    const listed: string[] = [...CALL_CATEGORIES, 'calls-client'];
    for (const category of listed) {
      if (q.category === undefined ? category === 'calls-client' : q.category !== category)
        continue;
      if ([...out.values()].some((a) => a.category === category)) continue;
      add(q.startDay, category, 'USD', 0, 0, 0, {
        description: DESCRIPTIONS[category] ?? '',
        countUnit: 'calls',
        usageUnit: 'minutes',
      });
    }
    if (q.category?.startsWith('module:') && out.size === 0) {
      add(q.startDay, q.category, 'USD', 0, 0, 0, {
        description: `Module ${q.category.slice(7)}: invocations and billed seconds under its usage plan`,
        countUnit: 'invocations',
        usageUnit: 'seconds',
      });
    }
  }

  return [...out.values()]
    .sort(
      (a, b) =>
        a.start - b.start ||
        (a.category < b.category ? -1 : a.category > b.category ? 1 : 0) ||
        (a.currency < b.currency ? -1 : 1),
    )
    .map((a) => ({
      category: a.category,
      description: a.description,
      startDay: a.start,
      endDay: a.end,
      count: a.count,
      countUnit: a.countUnit,
      usage: a.usage,
      usageUnit: a.usageUnit,
      priceMicros: a.price,
      currency: a.currency,
    }));
}

/** The earliest day with usage for these accounts (for AllTime), or undefined. */
export async function firstUsageDay(
  db: Kysely<BillingTables>,
  accountSids: readonly string[],
): Promise<number | undefined> {
  if (accountSids.length === 0) return undefined;
  const row = await db
    .selectFrom('billing_segments')
    .select((eb) => eb.fn.min('started_ms').as('first'))
    .where('user_account_sid', 'in', accountSids)
    .executeTakeFirst();
  return row?.first === null || row?.first === undefined ? undefined : dayOf(Number(row.first));
}

export function priceNumber(micros: number): number {
  return microsToNumber(micros);
}
