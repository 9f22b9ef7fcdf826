import type { Logger } from '../core/index.js';
import { newTimeOrderedSid } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { EventKind, EventRow } from './tables.js';

/** An event row's values in EVENT_COLUMNS order: what the store inserts, built once. */
type EventValues = [
  sid: string,
  accountSid: string | null,
  kind: EventKind,
  actorSid: string | null,
  method: string | null,
  resource: string | null,
  status: number | null,
  durationMs: number | null,
  subjectSid: string | null,
  occurredAt: number,
  tags: string,
  data: string | null,
];

const EVENT_COLUMNS: readonly (keyof EventRow)[] = [
  'sid',
  'account_sid',
  'kind',
  'actor_sid',
  'method',
  'resource',
  'status',
  'duration_ms',
  'subject_sid',
  'occurred_at',
  'tags',
  'data',
];

export interface InteractionEvent {
  readonly accountSid: string | null;
  readonly kind: EventKind;
  readonly actorSid?: string | null;
  readonly method?: string | null;
  readonly resource?: string | null;
  readonly status?: number | null;
  readonly durationMs?: number | null;
  readonly subjectSid?: string | null;
  readonly occurredAt?: number;
  readonly tags?: readonly string[];
  readonly data?: Readonly<Record<string, unknown>> | null;
}

export interface EventLogOptions {
  /** Flush when this many events wait (default 500). */
  readonly batchSize?: number;
  /** Flush at least this often (default 250 ms). */
  readonly flushMs?: number;
  /** Drop events beyond this backlog (the database is down) and count them (default 100 000). */
  readonly maxBacklog?: number;
}

/**
 * The interaction event log. Recording is synchronous and allocation-light; rows are written
 * in batches (one multi-row INSERT per flush) so that the request path never waits on a write.
 */
export class EventLog {
  private buffer: EventValues[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxBacklog: number;
  /** Events written, and events lost because the backlog overflowed. */
  written = 0;
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    options: EventLogOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.flushMs = options.flushMs ?? 250;
    this.maxBacklog = options.maxBacklog ?? 100_000;
  }

  record(event: InteractionEvent): void {
    if (this.buffer.length >= this.maxBacklog) {
      this.dropped++;
      return;
    }
    this.buffer.push([
      newTimeOrderedSid('EV'),
      event.accountSid,
      event.kind,
      event.actorSid ?? null,
      event.method ?? null,
      event.resource ?? null,
      event.status ?? null,
      event.durationMs ?? null,
      event.subjectSid ?? null,
      event.occurredAt ?? Date.now(),
      event.tags && event.tags.length ? JSON.stringify(event.tags) : '[]',
      event.data ? JSON.stringify(event.data) : null,
    ]);
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes everything recorded so far. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    if (this.buffer.length >= this.batchSize) await this.flush();
  }

  private async write(batch: EventValues[]): Promise<void> {
    for (let i = 0; i < batch.length; i += 1000) {
      const chunk = batch.slice(i, i + 1000);
      try {
        await this.store.insertValues('events', EVENT_COLUMNS, chunk);
        this.written += chunk.length;
      } catch (err) {
        // Keep the events for the next flush rather than lose them (bounded by maxBacklog).
        this.logger.error({ err, events: chunk.length }, 'event log write failed; will retry');
        this.buffer = batch.slice(i).concat(this.buffer).slice(0, this.maxBacklog);
        this.timer ??= setTimeout(() => void this.flush(), Math.max(this.flushMs, 1000));
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
