// Usage Triggers (2010 API): a threshold on one usage category of an account's usage records;
// crossing it calls the trigger's CallbackUrl, signed like every webhook, once per period
// (daily, monthly, yearly in UTC; alltime and non-recurring once ever). Evaluated when a call
// segment of the account closes (the usage it adds is what crosses), and by a sweep every few
// seconds for what no segment of this node announced (a subaccount's usage, another node's
// calls, a restart). Firing is the callback's entry in the webhook outbox under the key
// (trigger, period), added once whatever the nodes evaluating at once, in the transaction that
// sets the trigger's date_fired; the outbox retries it with back-off until answered, so a crash
// between firing and calling back loses nothing.
import { LRUCache } from 'lru-cache';
import type { Logger } from '../core/index.js';
import { fail, newSid, rfc2822 } from '../core/index.js';
import type { Kysely, Store } from '../store/index.js';
import type { OutboxTables, WebhookMethod, WebhookOutbox } from '../webhook/index.js';
import { microsToNumber } from './money.js';
import type { BillingTables, UsageTriggerRow } from './tables.js';
import { CALL_CATEGORIES, dayOf, firstUsageDay, usageRecords } from './usage.js';

export const RECURRING = ['daily', 'monthly', 'yearly', 'alltime'] as const;
export const TRIGGER_BY = ['count', 'usage', 'price'] as const;

export interface TriggerInput {
  readonly friendlyName?: string | undefined;
  readonly usageCategory: string;
  readonly triggerBy?: string | undefined;
  readonly triggerValue: string;
  readonly recurring?: string | undefined;
  readonly callbackUrl: string;
  readonly callbackMethod?: string | undefined;
}

export interface TriggerAccounts {
  authToken(accountSid: string): Promise<string | undefined>;
  subaccountsOf(accountSid: string): Promise<readonly string[]>;
}

export interface UsageTriggerOptions {
  readonly store: Store;
  readonly accounts: TriggerAccounts;
  readonly logger: Logger;
  /** How often every trigger is evaluated, ms (default 10 s). */
  readonly sweepMs?: number;
  /** Where the callbacks go out from. */
  readonly outbox: WebhookOutbox;
}

/** A category Switchboard's usage records have: the call categories or a module's. */
export function knownCategory(category: string): boolean {
  return (
    (CALL_CATEGORIES as readonly string[]).includes(category) ||
    /^module:[A-Za-z0-9._-]{1,64}$/.test(category)
  );
}

/** The period a trigger is in at `now`: its key and the first day of usage it covers. */
export function periodOf(recurring: string, now: number): { key: string; startDay?: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (recurring) {
    case 'daily':
      return { key: new Date(dayOf(now)).toISOString().slice(0, 10), startDay: dayOf(now) };
    case 'monthly':
      return { key: `${y}-${String(m + 1).padStart(2, '0')}`, startDay: Date.UTC(y, m, 1) };
    case 'yearly':
      return { key: String(y), startDay: Date.UTC(y, 0, 1) };
    case 'alltime':
      return { key: 'alltime' };
    default:
      return { key: 'once' };
  }
}

export class UsageTriggers {
  private readonly db: Kysely<BillingTables>;
  private readonly o: Required<Pick<UsageTriggerOptions, 'sweepMs'>> & UsageTriggerOptions;
  private timers: NodeJS.Timeout[] = [];
  private readonly pending = new Set<string>();
  private evaluating: Promise<void> | undefined;
  private stopped = false;
  /** Accounts known to have no trigger: a segment of theirs costs no query (cleared on create). */
  private readonly none = new LRUCache<string, true>({ max: 100_000, ttl: 10_000 });

  constructor(options: UsageTriggerOptions) {
    this.db = options.store.kysely<BillingTables>();
    this.o = { sweepMs: 10_000, ...options };
  }

  start(): void {
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.sweepMs, () => void this.sweep());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([this.evaluating]);
  }

  // ---------------------------------------------------------------- resources

  async create(accountSid: string, input: TriggerInput): Promise<UsageTriggerRow> {
    if (!knownCategory(input.usageCategory)) {
      fail(
        'invalidParameter',
        `UsageCategory ${input.usageCategory.slice(0, 80)} is not a usage category here`,
      );
    }
    const triggerBy = input.triggerBy ?? 'usage';
    const recurring = input.recurring ?? '';
    const offset = /^\+\d+(\.\d+)?$/.test(input.triggerValue);
    const value = Number(offset ? input.triggerValue.slice(1) : input.triggerValue);
    if (!Number.isFinite(value) || value < 0 || !/^\+?\d+(\.\d+)?$/.test(input.triggerValue)) {
      fail(
        'invalidParameter',
        'TriggerValue must be a number, or +N for N above the current value',
      );
    }
    const now = Date.now();
    const row: UsageTriggerRow = {
      sid: newSid('UT'),
      account_sid: accountSid,
      friendly_name: input.friendlyName ?? '',
      usage_category: input.usageCategory,
      trigger_by: triggerBy,
      trigger_value: input.triggerValue,
      threshold: value,
      recurring,
      callback_url: input.callbackUrl,
      callback_method: input.callbackMethod ?? 'POST',
      fired_period: null,
      date_fired: null,
      date_created: now,
      date_updated: now,
    };
    if (offset) row.threshold = value + (await this.currentValue(row, now));
    await this.db.insertInto('usage_triggers').values(row).execute();
    this.none.delete(accountSid);
    this.poke(accountSid);
    return row;
  }

  async get(accountSid: string, sid: string): Promise<UsageTriggerRow> {
    const row = await this.db
      .selectFrom('usage_triggers')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
    return row ?? fail('notFound', `UsageTrigger ${sid.slice(0, 40)}`);
  }

  async list(
    accountSid: string,
    filter: {
      recurring?: string | undefined;
      triggerBy?: string | undefined;
      category?: string | undefined;
    },
    page: { size: number; after?: readonly (string | number)[] | undefined },
  ): Promise<UsageTriggerRow[]> {
    let q = this.db.selectFrom('usage_triggers').selectAll().where('account_sid', '=', accountSid);
    if (filter.recurring !== undefined) q = q.where('recurring', '=', filter.recurring);
    if (filter.triggerBy !== undefined) q = q.where('trigger_by', '=', filter.triggerBy);
    if (filter.category !== undefined) q = q.where('usage_category', '=', filter.category);
    if (page.after) {
      const [created, sid] = page.after;
      if (typeof created !== 'number' || typeof sid !== 'string') fail('invalidPageToken');
      q = q.where((eb) => eb(eb.refTuple('date_created', 'sid'), '>', eb.tuple(created, sid)));
    }
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(page.size + 1)
      .execute();
  }

  async update(
    accountSid: string,
    sid: string,
    changes: {
      friendlyName?: string | undefined;
      callbackUrl?: string | undefined;
      callbackMethod?: string | undefined;
    },
  ): Promise<UsageTriggerRow> {
    const row = await this.get(accountSid, sid);
    const next: UsageTriggerRow = {
      ...row,
      friendly_name: changes.friendlyName ?? row.friendly_name,
      callback_url: changes.callbackUrl ?? row.callback_url,
      callback_method: changes.callbackMethod ?? row.callback_method,
      date_updated: Date.now(),
    };
    await this.db
      .updateTable('usage_triggers')
      .set({
        friendly_name: next.friendly_name,
        callback_url: next.callback_url,
        callback_method: next.callback_method,
        date_updated: next.date_updated,
      })
      .where('sid', '=', sid)
      .execute();
    return next;
  }

  async remove(accountSid: string, sid: string): Promise<void> {
    await this.get(accountSid, sid);
    await this.db.deleteFrom('usage_triggers').where('sid', '=', sid).execute();
  }

  /** The trigger's field (count, usage or price) over its current period, all currencies. */
  async currentValue(row: UsageTriggerRow, now = Date.now()): Promise<number> {
    const sids = [row.account_sid, ...(await this.o.accounts.subaccountsOf(row.account_sid))];
    const endDay = dayOf(now);
    const period = periodOf(row.recurring, now);
    const startDay = period.startDay ?? (await firstUsageDay(this.db, sids)) ?? endDay;
    const records = await usageRecords(this.db, {
      accountSids: sids,
      startDay: Math.min(startDay, endDay),
      endDay,
      granularity: 'all',
      category: row.usage_category,
    });
    let total = 0;
    for (const r of records) {
      if (row.trigger_by === 'count') total += r.count;
      else if (row.trigger_by === 'price') total += microsToNumber(r.priceMicros);
      else total += r.usage;
    }
    return total;
  }

  // ---------------------------------------------------------------- evaluation

  /** Usage of the account changed (a segment closed): its triggers are evaluated soon. */
  poke(accountSid: string): void {
    if (this.stopped || this.none.has(accountSid)) return;
    this.pending.add(accountSid);
    if (this.evaluating) return;
    this.evaluating = this.evaluatePending().finally(() => {
      this.evaluating = undefined;
      if (this.pending.size) this.poke([...this.pending][0]!);
    });
  }

  private async evaluatePending(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const accounts = [...this.pending];
      this.pending.clear();
      const rows = await this.db
        .selectFrom('usage_triggers')
        .selectAll()
        .where('account_sid', 'in', accounts)
        .execute();
      for (const a of accounts) if (!rows.some((r) => r.account_sid === a)) this.none.set(a, true);
      await this.evaluate(rows);
    }
  }

  /** Every trigger, for usage no segment of this node announced. */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      const rows = await this.db.selectFrom('usage_triggers').selectAll().execute();
      await this.evaluate(rows);
    } catch (err) {
      this.o.logger.warn({ err }, 'usage trigger sweep failed');
    }
  }

  private async evaluate(rows: readonly UsageTriggerRow[]): Promise<void> {
    const now = Date.now();
    let fired = false;
    for (const row of rows) {
      const { key } = periodOf(row.recurring, now);
      if (row.fired_period === key) continue;
      const value = await this.currentValue(row, now);
      if (value < row.threshold) continue;
      fired = (await this.fire(row, key, value, now)) || fired;
    }
    if (fired) this.o.outbox.kick();
  }

  /** Adds the period's callback once (whoever adds it first); true when this call did. */
  private async fire(
    row: UsageTriggerRow,
    period: string,
    value: number,
    now: number,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const added = await this.o.outbox.add(
        trx as unknown as Kysely<OutboxTables>,
        {
          key: `usage-trigger:${row.sid}:${period}`,
          accountSid: row.account_sid,
          url: row.callback_url,
          method: row.callback_method as WebhookMethod,
          params: callbackParams(row, period, value, now),
        },
        now,
      );
      if (!added) return false;
      await trx
        .updateTable('usage_triggers')
        .set({ fired_period: period, date_fired: now })
        .where('sid', '=', row.sid)
        .execute();
      return true;
    });
  }
}

/** Twilio's usage trigger callback parameters. */
export function callbackParams(
  t: UsageTriggerRow,
  period: string,
  value: number,
  firedAt: number,
): Record<string, string> {
  return {
    AccountSid: t.account_sid,
    UsageTriggerSid: t.sid,
    DateFired: rfc2822(firedAt) ?? '',
    Recurring: t.recurring,
    UsageCategory: t.usage_category,
    TriggerBy: t.trigger_by,
    TriggerValue: String(t.threshold),
    CurrentValue: String(value),
    UsageRecordUri: usageRecordUri(t),
    IdempotencyToken: `${t.sid}-${period}`,
  };
}

export function usageRecordUri(t: UsageTriggerRow): string {
  const period =
    { daily: '/Today', monthly: '/ThisMonth', yearly: '/Yearly', alltime: '/AllTime' }[
      t.recurring
    ] ?? '';
  return `/2010-04-01/Accounts/${t.account_sid}/Usage/Records${period}.json?Category=${encodeURIComponent(t.usage_category)}`;
}
