// Tracker triggers (extension): a threshold on one of a tracker's figures (count, events, or a
// measure's sum) over a period (minute, hour, day in UTC, or all time). Evaluated when a batch
// of events this tracker counts is committed on this node, and by a sweep for other nodes'
// events; crossing it adds a signed callback to the webhook outbox under the key (trigger,
// period), once whatever the nodes evaluating at once, retried there until answered.
import type { Logger } from '../core/index.js';
import { fail, iso8601, newSid } from '../core/index.js';
import type { Kysely } from '../store/index.js';
import type { OutboxTables, WebhookMethod, WebhookOutbox } from '../webhook/index.js';
import { measure } from './measurements.js';
import type { TrackerTriggerRow, TrackingTables } from './tables.js';
import type { WrittenLogEvent } from '../plugin/index.js';
import { MEASURES, follows, type Tracker } from './trackers.js';

export const TRIGGER_FIELDS = ['count', 'events', ...MEASURES] as const;
export const TRIGGER_PERIODS = ['minute', 'hour', 'day', 'alltime'] as const;
const PERIOD_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface TrackerTriggerInput {
  readonly field: string;
  readonly threshold: number;
  readonly period: string;
  readonly callbackUrl: string;
  readonly callbackMethod: string;
}

/** The period a trigger is in at `now`: its key and start (ms). */
export function periodAt(period: string, now: number): { key: string; start: number } {
  const ms = PERIOD_MS[period];
  if (ms === undefined) return { key: 'alltime', start: 0 };
  const start = now - (now % ms);
  return { key: iso8601(start) ?? String(start), start };
}

export class TrackerTriggers {
  private readonly pending = new Set<string>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Trackers with at least one trigger (refreshed by the sweep and on create). */
  private armed = new Set<string>();

  constructor(
    private readonly db: Kysely<TrackingTables>,
    private readonly outbox: WebhookOutbox,
    private readonly trackers: {
      bySid(sid: string): Tracker | undefined;
      of(accountSid: string): readonly Tracker[];
    },
    private readonly logger: Logger,
    private readonly sweepMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.sweepMs);
    this.timer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async create(tracker: Tracker, input: TrackerTriggerInput): Promise<TrackerTriggerRow> {
    const row: TrackerTriggerRow = {
      sid: newSid('TT'),
      tracker_sid: tracker.sid,
      account_sid: tracker.accountSid,
      field: input.field,
      threshold: input.threshold,
      period: input.period,
      callback_url: input.callbackUrl,
      callback_method: input.callbackMethod,
      fired_period: null,
      date_fired: null,
      date_created: Date.now(),
    };
    await this.db.insertInto('tracker_triggers').values(row).execute();
    this.armed.add(tracker.sid);
    this.poke([tracker.sid]);
    return row;
  }

  list(trackerSid: string): Promise<TrackerTriggerRow[]> {
    return this.db
      .selectFrom('tracker_triggers')
      .selectAll()
      .where('tracker_sid', '=', trackerSid)
      .orderBy('date_created')
      .orderBy('sid')
      .limit(1000)
      .execute();
  }

  async get(trackerSid: string, sid: string): Promise<TrackerTriggerRow> {
    const row = await this.db
      .selectFrom('tracker_triggers')
      .selectAll()
      .where('tracker_sid', '=', trackerSid)
      .where('sid', '=', sid)
      .executeTakeFirst();
    return row ?? fail('notFound', `Trigger ${sid.slice(0, 40)}`);
  }

  async remove(trackerSid: string, sid: string): Promise<void> {
    await this.get(trackerSid, sid);
    await this.db.deleteFrom('tracker_triggers').where('sid', '=', sid).execute();
  }

  /** A batch of events was committed (and counted): the triggers of trackers it touched. */
  committed(batch: readonly WrittenLogEvent[]): void {
    if (this.armed.size === 0) return;
    const touched = new Set<string>();
    for (const e of batch) {
      if (!e.accountSid || e.tags.length === 0) continue;
      for (const t of this.trackers.of(e.accountSid))
        if (this.armed.has(t.sid) && follows(t, e)) touched.add(t.sid);
    }
    if (touched.size) this.poke(touched);
  }

  /** Events these trackers count were committed: their triggers are evaluated soon. */
  poke(trackerSids: Iterable<string>): void {
    if (this.stopped) return;
    for (const sid of trackerSids) if (this.armed.has(sid)) this.pending.add(sid);
    if (this.pending.size === 0 || this.running) return;
    this.running = this.drain()
      .catch((err: unknown) => this.logger.warn({ err }, 'tracker trigger evaluation failed'))
      .finally(() => {
        this.running = undefined;
        if (this.pending.size) this.poke([]);
      });
  }

  private async drain(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const sids = [...this.pending];
      this.pending.clear();
      const rows = await this.db
        .selectFrom('tracker_triggers')
        .selectAll()
        .where('tracker_sid', 'in', sids)
        .execute();
      await this.evaluate(rows);
    }
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      const rows = await this.db.selectFrom('tracker_triggers').selectAll().execute();
      this.armed = new Set(rows.map((r) => r.tracker_sid));
      await this.evaluate(rows);
    } catch (err) {
      this.logger.warn({ err }, 'tracker trigger sweep failed');
    }
  }

  /** The trigger's field over its current period. */
  async valueOf(row: TrackerTriggerRow, now = Date.now()): Promise<number | undefined> {
    const tracker = this.trackers.bySid(row.tracker_sid);
    if (!tracker) return undefined;
    const { start } = periodAt(row.period, now);
    const m = await measure(this.db, tracker, start, now + 60_000, 'day');
    if (row.field === 'count') return m.totals.count;
    if (row.field === 'events') return m.totals.events;
    return m.totals.measures.get(row.field as (typeof MEASURES)[number])?.sum ?? 0;
  }

  private async evaluate(rows: readonly TrackerTriggerRow[]): Promise<void> {
    const now = Date.now();
    let fired = false;
    for (const row of rows) {
      const { key, start } = periodAt(row.period, now);
      if (row.fired_period === key) continue;
      const value = await this.valueOf(row, now);
      if (value === undefined || value < row.threshold) continue;
      const added = await this.db.transaction().execute(async (trx) => {
        const ok = await this.outbox.add(
          trx as unknown as Kysely<OutboxTables>,
          {
            key: `tracker-trigger:${row.sid}:${key}`,
            accountSid: row.account_sid,
            url: row.callback_url,
            method: row.callback_method as WebhookMethod,
            params: {
              AccountSid: row.account_sid,
              TrackerSid: row.tracker_sid,
              TriggerSid: row.sid,
              Field: row.field,
              Threshold: String(row.threshold),
              CurrentValue: String(value),
              Period: row.period,
              PeriodStart: iso8601(start) ?? '',
              DateFired: iso8601(now) ?? '',
              IdempotencyToken: `${row.sid}-${key}`,
            },
          },
          now,
        );
        if (ok) {
          await trx
            .updateTable('tracker_triggers')
            .set({ fired_period: key, date_fired: now })
            .where('sid', '=', row.sid)
            .execute();
        }
        return ok;
      });
      fired ||= added;
    }
    if (fired) this.outbox.kick();
  }
}
