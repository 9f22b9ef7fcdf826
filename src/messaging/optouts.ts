// Opt-out checks of the send path, batched: every check asked in the same turn of the event
// loop is answered by one query (the pairs travel as one JSON parameter), instead of one query
// per message. Each message is still checked just before it is stored.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/index.js';
import type { MessagingTables } from './tables.js';

interface Ask {
  readonly account_sid: string;
  readonly recipient: string;
  readonly sender: string;
}

export class OptOutChecks {
  private asks: { keys: Ask[]; resolve: (out: boolean) => void; reject: (e: unknown) => void }[] =
    [];
  private scheduled = false;
  private readonly db: Kysely<MessagingTables>;

  constructor(private readonly store: Store) {
    this.db = store.kysely<MessagingTables>();
  }

  /** True when the recipient opted out of any of these senders (numbers or a service SID). */
  optedOut(accountSid: string, recipient: string, senders: readonly string[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const keys = senders.map((sender) => ({ account_sid: accountSid, recipient, sender }));
      this.asks.push({ keys, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.run());
    });
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    const asks = this.asks.splice(0);
    try {
      const columns = ['account_sid', 'recipient', 'sender'] as const;
      const found = await sql<Ask>`SELECT o.account_sid, o.recipient, o.sender
        FROM ${this.store.rows(
          'messaging_optouts',
          columns,
          asks.flatMap((a) => a.keys),
        )} AS v
        JOIN messaging_optouts o ON o.account_sid = v.account_sid
          AND o.sender = v.sender AND o.recipient = v.recipient`.execute(this.db);
      const out = new Set(found.rows.map(key));
      for (const a of asks) a.resolve(a.keys.some((k) => out.has(key(k))));
    } catch (e) {
      for (const a of asks) a.reject(e);
    }
  }
}

function key(k: Ask): string {
  return `${k.account_sid}\n${k.sender}\n${k.recipient}`;
}
