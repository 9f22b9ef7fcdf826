// Opt-out checks of the send path, batched: the messages accepted in the same turn of the event
// loop are checked by one query (the pairs travel as one JSON parameter) just before they are
// stored, instead of one query per message.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/index.js';
import type { MessagingTables } from './tables.js';

interface Ask {
  readonly account_sid: string;
  readonly recipient: string;
  readonly sender: string;
}

export class OptOutChecks {
  private readonly db: Kysely<MessagingTables>;

  constructor(private readonly store: Store) {
    this.db = store.kysely<MessagingTables>();
  }

  /**
   * For each ask (a recipient and the senders it may have opted out of: numbers or a service
   * SID), whether the recipient opted out of any of them; one query for all of them.
   */
  async optedOut(
    asks: readonly { accountSid: string; recipient: string; senders: readonly string[] }[],
  ): Promise<boolean[]> {
    const keys = asks.flatMap((a) =>
      a.senders.map((sender) => ({ account_sid: a.accountSid, recipient: a.recipient, sender })),
    );
    if (!keys.length) return asks.map(() => false);
    const columns = ['account_sid', 'recipient', 'sender'] as const;
    const found = await sql<Ask>`SELECT o.account_sid, o.recipient, o.sender
      FROM ${this.store.rows('messaging_optouts', columns, keys)} AS v
      JOIN messaging_optouts o ON o.account_sid = v.account_sid
        AND o.sender = v.sender AND o.recipient = v.recipient`.execute(this.db);
    const out = new Set(found.rows.map(key));
    return asks.map((a) =>
      a.senders.some((sender) =>
        out.has(key({ account_sid: a.accountSid, recipient: a.recipient, sender })),
      ),
    );
  }
}

function key(k: Ask): string {
  return `${k.account_sid}\n${k.sender}\n${k.recipient}`;
}
