// Scheduled messages (Twilio's ScheduleType=fixed with SendAt, through a Messaging Service).
// A scheduled message is stored `scheduled` with its due time in `send_at`, unrouted: the
// provider is chosen when it is due, as the queues then stand. Every node sweeps once a second;
// a sweep hands due messages to their queues in two steps:
//  1. one UPDATE … WHERE status = 'scheduled' RETURNING flips them to `queued`: each row is
//     flipped by exactly one node, and a cancel (which needs `scheduled`) can no longer win;
//  2. the release routes them and adds their jobs, clearing `send_at` in the same commit.
// A crash between the two leaves `queued` rows whose `send_at` is still set: a later sweep
// releases them again (a provider already chosen is kept, and adding a job twice is a no-op),
// so a scheduled message is neither lost nor queued twice.
import type { Kysely } from 'kysely';
import { fail, type Logger } from '../core/index.js';
import type { MessageRow, MessagingTables } from './tables.js';

/** Twilio's window: from the minimum lead time up to 35 days ahead. */
const MAX_AHEAD_S = 35 * 24 * 3600;
const SWEEP_MS = 1000;
/** Due messages handed over per statement. */
const BATCH = 500;
/** A `queued` row still carrying send_at this long after it was flipped: its release was lost. */
const STRANDED_MS = 30_000;

export interface ScheduleRequest {
  readonly scheduleType?: string | undefined;
  readonly sendAt?: string | undefined;
  readonly messagingServiceSid?: string | undefined;
}

/**
 * The due time (ms) a create asks for, or undefined for a message sent at once; Twilio's
 * errors otherwise. SendAt without ScheduleType is ignored, as Twilio does.
 */
export function dueTime(r: ScheduleRequest, now: number, minLeadS: number): number | undefined {
  if (r.scheduleType === undefined) return undefined;
  if (r.scheduleType !== 'fixed') fail('scheduleTypeNotSupported', r.scheduleType);
  if (!r.sendAt) return fail('sendAtMissing');
  if (!r.messagingServiceSid) fail('scheduleNeedsService');
  // ISO 8601 with a date, a time and a zone (Z or ±hh:mm), as Twilio documents it.
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
  const at = iso.test(r.sendAt) ? Date.parse(r.sendAt) : NaN;
  if (Number.isNaN(at)) return fail('sendAtOutOfRange', `SendAt ${r.sendAt} is not ISO 8601`);
  const ahead = (at - now) / 1000;
  if (ahead < minLeadS || ahead > MAX_AHEAD_S) {
    fail(
      'sendAtOutOfRange',
      `SendAt must be between ${minLeadS} seconds and 35 days from now (it is ${Math.round(ahead)} s)`,
    );
  }
  return at;
}

export class ScheduleSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<MessagingTables>,
    private readonly logger: Logger,
    /** Routes and queues flipped messages, clearing their send_at once their job is added. */
    private readonly release: (rows: readonly MessageRow[]) => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass (sweeps do not overlap); resolves when it is done. */
  sweep(): Promise<void> {
    this.running ??= this.pass()
      .catch((e: Error) => this.logger.error({ err: e }, 'scheduled messages: sweep failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    for (;;) {
      const due = await this.db
        .selectFrom('messaging_messages')
        .select('sid')
        .where('send_at', '<=', now)
        .where('status', '=', 'scheduled')
        .orderBy('send_at')
        .limit(BATCH)
        .execute();
      if (!due.length) break;
      const flipped = await this.db
        .updateTable('messaging_messages')
        .set({ status: 'queued', date_updated: now })
        .where(
          'sid',
          'in',
          due.map((d) => d.sid),
        )
        .where('status', '=', 'scheduled')
        .returningAll()
        .execute();
      if (flipped.length) {
        this.logger.info({ count: flipped.length }, 'scheduled messages due: handed to queues');
        await this.release(flipped);
      }
      if (due.length < BATCH) break;
    }
    // Taken the way due rows are (date_updated moves on, so each goes to one node only).
    const lost = await this.db
      .selectFrom('messaging_messages')
      .select('sid')
      .where('send_at', 'is not', null)
      .where('status', '=', 'queued')
      .where('date_updated', '<', now - STRANDED_MS)
      .limit(BATCH)
      .execute();
    if (!lost.length) return;
    const stranded = await this.db
      .updateTable('messaging_messages')
      .set({ date_updated: now })
      .where(
        'sid',
        'in',
        lost.map((l) => l.sid),
      )
      .where('send_at', 'is not', null)
      .where('status', '=', 'queued')
      .where('date_updated', '<', now - STRANDED_MS)
      .returningAll()
      .execute();
    if (stranded.length) {
      this.logger.warn(
        { count: stranded.length },
        'scheduled messages flipped but not queued (a crash in between): releasing them again',
      );
      await this.release(stranded);
    }
  }
}
