// A durable outbox of signed callbacks, each under a unique key: adding a key that exists does
// nothing, so a key naming what happened ("trigger UT… fired in 2026-12") makes it happen once,
// whatever the nodes deciding at once, and adding it in the same transaction as the record of
// it makes the callback exactly as durable as that record. A node leases a due entry for 30 s,
// sends it signed with the account's AuthToken, and marks it delivered or retries it with
// back-off (connection failures, 5xx and 429; any other answer is the receiver's word, as on
// Twilio); after a crash the lease runs out and any node takes it up again. Used by usage
// triggers and tracker triggers.
import type { Logger } from '../core/index.js';
import type { Kysely, Migration, Store } from '../store/index.js';
import { callWebhook, type WebhookMethod } from './client.js';

export interface OutboxRow {
  key: string;
  account_sid: string;
  url: string;
  method: string;
  /** The form parameters, as JSON. */
  params: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
}

export interface OutboxTables {
  webhook_outbox: OutboxRow;
}

export const outboxMigrations: Record<string, Migration> = {
  webhook_0001_outbox: {
    async up(db) {
      await db.schema
        .createTable('webhook_outbox')
        .addColumn('key', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('method', 'varchar(4)', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('webhook_outbox_due')
        .on('webhook_outbox')
        .columns(['delivered_at', 'next_attempt_at'])
        .execute();
    },
  },
};

export interface OutboxEntry {
  readonly key: string;
  readonly accountSid: string;
  readonly url: string;
  readonly method?: WebhookMethod;
  readonly params: Readonly<Record<string, string>>;
}

export interface OutboxOptions {
  readonly store: Store;
  /** The AuthToken that signs an account's callbacks; undefined: the account is gone. */
  readonly authToken: (accountSid: string) => Promise<string | undefined>;
  readonly logger: Logger;
  readonly pollMs?: number;
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  readonly timeoutMs?: number;
  /** An entry still failing this long after it was added is given up on (ms). */
  readonly giveUpAfterMs?: number;
}

const LEASE_MS = 30_000;
const BATCH = 32;

export class WebhookOutbox {
  private readonly db: Kysely<OutboxTables>;
  private readonly o: Required<
    Pick<OutboxOptions, 'pollMs' | 'firstRetryMs' | 'maxRetryMs' | 'timeoutMs' | 'giveUpAfterMs'>
  > &
    OutboxOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(options: OutboxOptions) {
    this.db = options.store.kysely<OutboxTables>();
    this.o = {
      pollMs: 1000,
      firstRetryMs: 1000,
      maxRetryMs: 60_000,
      timeoutMs: 10_000,
      giveUpAfterMs: 24 * 3600_000,
      ...options,
    };
  }

  /**
   * Adds an entry (in `db`, which may be a transaction of the caller's); false when its key
   * was added before, by this node or another.
   */
  async add(db: Kysely<OutboxTables>, entry: OutboxEntry, now = Date.now()): Promise<boolean> {
    const res = await db
      .insertInto('webhook_outbox')
      .values({
        key: entry.key,
        account_sid: entry.accountSid,
        url: entry.url,
        method: entry.method ?? 'POST',
        params: JSON.stringify(entry.params),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: null,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.o.pollMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Looks for due entries soon (one was just added). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.o.logger.warn({ err }, 'webhook outbox pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    const due = await this.db
      .selectFrom('webhook_outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(BATCH)
      .execute();
    await Promise.all(due.map((row) => this.deliver(row, now)));
  }

  private async deliver(row: OutboxRow, now: number): Promise<void> {
    // Leased to this node: another sees it again only if this one dies mid-way.
    const leased = await this.db
      .updateTable('webhook_outbox')
      .set({ next_attempt_at: now + LEASE_MS, attempts: row.attempts + 1 })
      .where('key', '=', row.key)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .where('delivered_at', 'is', null)
      .executeTakeFirst();
    if (Number(leased.numUpdatedRows) === 0) return;
    const done = () =>
      this.db
        .updateTable('webhook_outbox')
        .set({ delivered_at: Date.now() })
        .where('key', '=', row.key)
        .execute();
    const token = await this.o.authToken(row.account_sid);
    // The account is gone: nobody is left to sign for, or to tell.
    if (!token) return void (await done());
    const res = await callWebhook({
      url: row.url,
      method: row.method as WebhookMethod,
      params: JSON.parse(row.params) as Record<string, string>,
      authToken: token,
      timeoutMs: this.o.timeoutMs,
      attempts: 1,
    });
    if (res.ok && res.status < 500 && res.status !== 429) return void (await done());
    if (now - row.created_at >= this.o.giveUpAfterMs) {
      this.o.logger.warn({ key: row.key, url: row.url }, 'callback given up on');
      return void (await done());
    }
    const delay = Math.min(this.o.firstRetryMs * 2 ** row.attempts, this.o.maxRetryMs);
    await this.db
      .updateTable('webhook_outbox')
      .set({ next_attempt_at: Date.now() + delay })
      .where('key', '=', row.key)
      .execute();
  }
}
