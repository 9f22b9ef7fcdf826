import { LRUCache } from 'lru-cache';
import type { Logger } from '../core/index.js';
import { newTimeOrderedSid } from '../core/index.js';
import type { KeysetPage, Kysely, PageCursor, Statement, Store } from '../store/index.js';
import { listEvents, type EventFilter } from './event-list.js';
import type { EventKind, EventRow, EventTables, EventTagRow, InteractionRow } from './tables.js';

export interface InteractionEvent {
  readonly accountSid: string | null;
  readonly kind: EventKind;
  readonly actorSid?: string | null;
  readonly method?: string | null;
  readonly resource?: string | null;
  readonly status?: number | null;
  readonly durationMs?: number | null;
  readonly subjectSid?: string | null;
  /**
   * The interaction the event belongs to when its subject is not one (a segment's call, a
   * webhook's call or message); its tags and those of the interactions above it apply.
   */
  readonly interactionSid?: string | null;
  /** The subject belongs to this interaction (a child call's parent, a call's message). */
  readonly parentSid?: string | null;
  /** Resources whose tags the subject also carries (the application handling a call). */
  readonly via?: readonly (string | null)[];
  readonly occurredAt?: number;
  readonly tags?: readonly string[];
  readonly data?: Readonly<Record<string, unknown>> | null;
}

/** An event as written: its SID, its interaction and every tag that applies to it. */
export interface WrittenEvent {
  readonly sid: string;
  readonly accountSid: string | null;
  readonly kind: EventKind;
  readonly status: number | null;
  readonly durationMs: number | null;
  readonly subjectSid: string | null;
  /** The root interaction: a call (with its child legs), a message, or the event itself. */
  readonly interactionSid: string;
  readonly occurredAt: number;
  readonly tags: readonly string[];
  readonly data: Readonly<Record<string, unknown>> | null;
}

/**
 * Statements a reader of the log adds to the unit that writes a batch (tracking's counters),
 * so that what they count commits with the events or not at all; `committed` hears of the
 * batch once it is durable.
 */
export interface BatchListener {
  statements?(batch: readonly WrittenEvent[]): readonly Statement[];
  committed?(batch: readonly WrittenEvent[]): void;
}

export interface EventLogOptions {
  /** Flush when this many events wait (default 500). */
  readonly batchSize?: number;
  /** Flush at least this often (default 250 ms). */
  readonly flushMs?: number;
  /** Drop events beyond this backlog (the database is down) and count them (default 100 000). */
  readonly maxBacklog?: number;
  /** Delete events (and their tag index rows) older than this many days; 0 keeps them. */
  readonly retentionDays?: number;
}

interface Binding {
  readonly accountSid: string | null;
  readonly parent: string | null;
  readonly via: readonly string[];
  readonly tags: readonly string[];
}

const ABSENT: Binding = { accountSid: null, parent: null, via: [], tags: [] };
const NO_TAGS: readonly string[] = [];
const EVENT_COLUMNS: readonly (keyof EventRow & string)[] = [
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
  'interaction_sid',
];
const TAG_COLUMNS: readonly (keyof EventTagRow & string)[] = [
  'event_sid',
  'tag',
  'account_sid',
  'occurred_at',
];
/** An interaction's chain is short (a child leg, its parent); a loop must not hang a flush. */
const MAX_DEPTH = 8;

interface Pending {
  readonly event: InteractionEvent;
  readonly sid: string;
  readonly at: number;
}

/**
 * The interaction event log. Recording is synchronous and allocation-light; rows are written
 * in batches (one unit per flush) so that the request path never waits on a write. At the
 * flush each event gets the tags of its interaction (bound when the call or message was
 * created, inherited by child legs and by what a call sends) and a row per tag in the tag
 * index, and the readers that count events (tracking) add their statements to the same unit.
 */
export class EventLog {
  private buffer: Pending[] = [];
  private binds = new Map<string, InteractionRow>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxBacklog: number;
  private readonly listeners: BatchListener[] = [];
  private readonly db: Kysely<EventTables>;
  private readonly retention: NodeJS.Timeout | undefined;
  /** What each interaction is known by; other nodes' changes are seen within the TTL. */
  private readonly known = new LRUCache<string, Binding>({ max: 200_000, ttl: 30_000 });
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
    this.db = store.kysely<EventTables>();
    const days = options.retentionDays ?? 0;
    if (days > 0) {
      const sweep = () =>
        void this.deleteBefore(Date.now() - days * 86_400_000).catch((err: unknown) =>
          this.logger.error({ err }, 'event retention sweep failed'),
        );
      this.retention = setInterval(sweep, 3_600_000);
      this.retention.unref();
      setImmediate(sweep);
    }
  }

  /** Hears of every batch; see BatchListener. */
  listen(listener: BatchListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  record(event: InteractionEvent): void {
    if (this.buffer.length >= this.maxBacklog) {
      this.dropped++;
      return;
    }
    if (event.subjectSid && (event.parentSid || event.via?.some((v) => v))) {
      this.bind(event.subjectSid, {
        accountSid: event.accountSid,
        parentSid: event.parentSid ?? null,
        via: event.via,
      });
    }
    this.buffer.push({ event, sid: newTimeOrderedSid('EV'), at: event.occurredAt ?? Date.now() });
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /**
   * Says what an interaction (a call, a message, an application) is known by: its tags
   * (replacing those it had), the interaction it belongs to, resources whose tags it carries.
   * Written with the next batch; `flush()` makes it durable.
   */
  bind(
    sid: string,
    b: {
      accountSid: string | null;
      tags?: readonly string[] | undefined;
      parentSid?: string | null | undefined;
      via?: readonly (string | null)[] | undefined;
    },
  ): void {
    const had = this.known.get(sid);
    const current = had === ABSENT ? undefined : had;
    const via = [...new Set([...(current?.via ?? []), ...(b.via ?? []).filter((v) => v)])];
    const next: Binding = {
      accountSid: b.accountSid ?? current?.accountSid ?? null,
      parent: b.parentSid ?? current?.parent ?? null,
      via: via as string[],
      tags: b.tags ? [...b.tags] : (current?.tags ?? NO_TAGS),
    };
    if (
      current &&
      current.parent === next.parent &&
      current.via.length === next.via.length &&
      current.tags.join(',') === next.tags.join(',')
    )
      return;
    this.known.set(sid, next);
    this.binds.set(sid, {
      sid,
      account_sid: next.accountSid,
      parent_sid: next.parent,
      via: next.via.length ? JSON.stringify(next.via) : null,
      tags: b.tags ? JSON.stringify(next.tags) : null,
      date_updated: Date.now(),
    });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** The account's events, newest first; what was recorded before the call is included. */
  async list(
    accountSid: string,
    filter: EventFilter,
    cursor: PageCursor,
  ): Promise<KeysetPage<EventRow>> {
    await this.flush();
    return listEvents(this.db, accountSid, filter, cursor);
  }

  /** Writes everything recorded so far. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0 && this.binds.size === 0) return;
    const batch = this.buffer;
    const binds = [...this.binds.values()];
    this.buffer = [];
    this.binds = new Map();
    this.flushing = this.write(batch, binds).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    if (this.buffer.length >= this.batchSize) await this.flush();
  }

  private async write(batch: Pending[], binds: InteractionRow[]): Promise<void> {
    for (let i = 0; i < Math.max(batch.length, 1); i += 1000) {
      const chunk = batch.slice(i, i + 1000);
      try {
        await this.writeChunk(chunk, i === 0 ? binds : []);
        this.written += chunk.length;
      } catch (err) {
        // Keep the events for the next flush rather than lose them (bounded by maxBacklog).
        this.logger.error({ err, events: chunk.length }, 'event log write failed; will retry');
        this.buffer = batch.slice(i).concat(this.buffer).slice(0, this.maxBacklog);
        if (i === 0) for (const b of binds) if (!this.binds.has(b.sid)) this.binds.set(b.sid, b);
        this.timer ??= setTimeout(() => void this.flush(), Math.max(this.flushMs, 1000));
        return;
      }
    }
  }

  private async writeChunk(chunk: Pending[], binds: InteractionRow[]): Promise<void> {
    await this.load(chunk);
    const written = chunk.map((p) => this.resolve(p));
    const statements: Statement[] = [];
    if (binds.length) statements.push(this.upsertBindings(binds));
    if (written.length) {
      statements.push(
        this.store.insertRows<EventRow>(
          'events',
          EVENT_COLUMNS,
          written.map((w, i) => eventRow(w, chunk[i]!.event)),
        ),
      );
      const tagRows: EventTagRow[] = [];
      for (const w of written)
        for (const tag of w.tags)
          tagRows.push({
            event_sid: w.sid,
            tag,
            account_sid: w.accountSid,
            occurred_at: w.occurredAt,
          });
      if (tagRows.length)
        statements.push(this.store.insertRows<EventTagRow>('event_tags', TAG_COLUMNS, tagRows));
      for (const l of this.listeners) if (l.statements) statements.push(...l.statements(written));
    }
    await this.store.commit(statements);
    if (written.length)
      for (const l of this.listeners) {
        try {
          l.committed?.(written);
        } catch (err) {
          this.logger.error({ err }, 'event log listener failed');
        }
      }
  }

  private upsertBindings(rows: InteractionRow[]): Statement {
    return this.db
      .insertInto('interactions')
      .values(rows)
      .onConflict((oc) =>
        oc.column('sid').doUpdateSet((eb) => ({
          account_sid: eb.fn.coalesce('excluded.account_sid', 'interactions.account_sid'),
          parent_sid: eb.fn.coalesce('excluded.parent_sid', 'interactions.parent_sid'),
          via: eb.fn.coalesce('excluded.via', 'interactions.via'),
          tags: eb.fn.coalesce('excluded.tags', 'interactions.tags'),
          date_updated: eb.ref('excluded.date_updated'),
        })),
      )
      .compile();
  }

  /** Reads the bindings of the batch's interactions (and those above them) not in memory. */
  private async load(chunk: Pending[]): Promise<void> {
    let wanted = new Set<string>();
    const want = (sid: string | null | undefined) => {
      if (sid && !this.known.has(sid)) wanted.add(sid);
    };
    for (const { event } of chunk) {
      want(event.interactionSid ?? event.subjectSid);
      for (const v of event.via ?? []) want(v);
    }
    for (let depth = 0; depth < MAX_DEPTH && wanted.size > 0; depth++) {
      const sids = [...wanted];
      wanted = new Set();
      for (let i = 0; i < sids.length; i += 500) {
        const part = sids.slice(i, i + 500);
        const rows = await this.db
          .selectFrom('interactions')
          .selectAll()
          .where('sid', 'in', part)
          .execute();
        const found = new Map(rows.map((r) => [r.sid, r]));
        for (const sid of part) {
          const r = found.get(sid);
          if (!r) {
            this.known.set(sid, ABSENT, { ttl: 2_000 });
            continue;
          }
          const b: Binding = {
            accountSid: r.account_sid,
            parent: r.parent_sid,
            via: r.via ? (JSON.parse(r.via) as string[]) : [],
            tags: r.tags ? (JSON.parse(r.tags) as string[]) : NO_TAGS,
          };
          this.known.set(sid, b);
          want(b.parent);
          for (const v of b.via) want(v);
        }
      }
    }
  }

  private resolve({ event, sid, at }: Pending): WrittenEvent {
    const tags = new Set(event.tags ?? NO_TAGS);
    const start = event.interactionSid ?? event.subjectSid ?? null;
    const addVia = (via: readonly (string | null)[]) => {
      for (const v of via) {
        if (!v) continue;
        const vb = this.known.get(v);
        if (vb) for (const t of vb.tags) tags.add(t);
      }
    };
    addVia(event.via ?? []);
    let root = start ?? sid;
    if (start) {
      let cur: string = start;
      for (let depth = 0; depth < MAX_DEPTH; depth++) {
        const b = this.known.get(cur);
        if (!b || b === ABSENT) break;
        for (const t of b.tags) tags.add(t);
        addVia(b.via);
        if (!b.parent) break;
        cur = b.parent;
      }
      root = cur;
    }
    return {
      sid,
      accountSid: event.accountSid,
      kind: event.kind,
      status: event.status ?? null,
      durationMs: event.durationMs ?? null,
      subjectSid: event.subjectSid ?? null,
      interactionSid: root,
      occurredAt: at,
      tags: tags.size ? [...tags].sort() : NO_TAGS,
      data: event.data ?? null,
    };
  }

  /** Deletes events (and their tags) older than `cutoff` (epoch ms); returns how many. */
  async deleteBefore(cutoff: number): Promise<number> {
    await this.db.deleteFrom('event_tags').where('occurred_at', '<', cutoff).execute();
    // Applications keep their tags for as long as they exist; calls and messages end.
    await this.db
      .deleteFrom('interactions')
      .where('date_updated', '<', cutoff)
      .where('sid', 'not like', 'AP%')
      .execute();
    const r = await this.db
      .deleteFrom('events')
      .where('occurred_at', '<', cutoff)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async close(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    await this.flush();
  }
}

function eventRow(w: WrittenEvent, e: InteractionEvent): EventRow {
  return {
    sid: w.sid,
    account_sid: w.accountSid,
    kind: w.kind,
    actor_sid: e.actorSid ?? null,
    method: e.method ?? null,
    resource: e.resource ?? null,
    status: w.status,
    duration_ms: w.durationMs,
    subject_sid: w.subjectSid,
    occurred_at: w.occurredAt,
    tags: w.tags.length ? JSON.stringify(w.tags) : '[]',
    data: e.data ? JSON.stringify(e.data) : null,
    interaction_sid: w.interactionSid,
  };
}
