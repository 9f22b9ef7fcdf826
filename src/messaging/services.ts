// Messaging Services: an account's pools of senders, with their inbound webhook, status
// callback, sticky sender, validity period and per-sender throughput cap.
import type { Kysely } from 'kysely';
import { OLDEST_FIRST, selectPage, type KeysetPage, type PageCursor } from '../store/index.js';
import { fail, newSid } from '../core/index.js';
import type { MessagingTables, ServiceRow } from './tables.js';

export interface ServiceInput {
  readonly friendlyName?: string | undefined;
  readonly inboundRequestUrl?: string | null | undefined;
  readonly inboundMethod?: string | undefined;
  readonly fallbackUrl?: string | null | undefined;
  readonly fallbackMethod?: string | undefined;
  readonly useInboundWebhookOnNumber?: boolean | undefined;
  readonly statusCallback?: string | null | undefined;
  readonly stickySender?: boolean | undefined;
  readonly validityPeriod?: number | undefined;
  readonly senders?: readonly string[] | undefined;
  readonly senderThroughput?: number | undefined;
}

export class Services {
  constructor(private readonly db: Kysely<MessagingTables>) {}

  async create(accountSid: string, input: ServiceInput): Promise<ServiceRow> {
    const now = Date.now();
    const row: ServiceRow = {
      sid: newSid('MG'),
      account_sid: accountSid,
      friendly_name: input.friendlyName ?? '',
      inbound_request_url: input.inboundRequestUrl ?? null,
      inbound_method: input.inboundMethod ?? 'POST',
      fallback_url: input.fallbackUrl ?? null,
      fallback_method: input.fallbackMethod ?? 'POST',
      use_inbound_webhook_on_number: input.useInboundWebhookOnNumber ? 1 : 0,
      status_callback: input.statusCallback ?? null,
      sticky_sender: input.stickySender === false ? 0 : 1,
      validity_period: input.validityPeriod ?? 36_000,
      senders: JSON.stringify(input.senders ?? []),
      sender_throughput: input.senderThroughput ?? 0,
      date_created: now,
      date_updated: now,
    };
    await this.db.insertInto('messaging_services').values(row).execute();
    return row;
  }

  /** The account's service, if it has one of that SID. */
  find(accountSid: string, sid: string): Promise<ServiceRow | undefined> {
    return this.db
      .selectFrom('messaging_services')
      .selectAll()
      .where('sid', '=', sid)
      .where('account_sid', '=', accountSid)
      .executeTakeFirst();
  }

  async get(accountSid: string, sid: string): Promise<ServiceRow> {
    const row = await this.find(accountSid, sid);
    if (!row) return fail('notFound', `Service ${sid}`);
    return row;
  }

  /** Services by SID, whoever owns them (scheduled messages name theirs). */
  async bySid(sids: readonly string[]): Promise<Map<string, ServiceRow>> {
    const rows = await this.db
      .selectFrom('messaging_services')
      .selectAll()
      .where('sid', 'in', [...new Set(sids)])
      .execute();
    return new Map(rows.map((svc) => [svc.sid, svc]));
  }

  async list(accountSid: string, cursor: PageCursor): Promise<KeysetPage<ServiceRow>> {
    const q = this.db
      .selectFrom('messaging_services')
      .selectAll()
      .where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async update(accountSid: string, sid: string, input: ServiceInput): Promise<ServiceRow> {
    const old = await this.get(accountSid, sid);
    const row: ServiceRow = {
      ...old,
      ...(input.friendlyName !== undefined ? { friendly_name: input.friendlyName } : {}),
      ...(input.inboundRequestUrl !== undefined
        ? { inbound_request_url: input.inboundRequestUrl }
        : {}),
      ...(input.inboundMethod !== undefined ? { inbound_method: input.inboundMethod } : {}),
      ...(input.fallbackUrl !== undefined ? { fallback_url: input.fallbackUrl } : {}),
      ...(input.fallbackMethod !== undefined ? { fallback_method: input.fallbackMethod } : {}),
      ...(input.useInboundWebhookOnNumber !== undefined
        ? { use_inbound_webhook_on_number: input.useInboundWebhookOnNumber ? 1 : 0 }
        : {}),
      ...(input.statusCallback !== undefined ? { status_callback: input.statusCallback } : {}),
      ...(input.stickySender !== undefined ? { sticky_sender: input.stickySender ? 1 : 0 } : {}),
      ...(input.validityPeriod !== undefined ? { validity_period: input.validityPeriod } : {}),
      ...(input.senders !== undefined ? { senders: JSON.stringify(input.senders) } : {}),
      ...(input.senderThroughput !== undefined
        ? { sender_throughput: input.senderThroughput }
        : {}),
      date_updated: Date.now(),
    };
    await this.db.updateTable('messaging_services').set(row).where('sid', '=', sid).execute();
    return row;
  }

  async delete(accountSid: string, sid: string): Promise<void> {
    await this.get(accountSid, sid);
    await this.db.deleteFrom('messaging_services').where('sid', '=', sid).execute();
  }
}
