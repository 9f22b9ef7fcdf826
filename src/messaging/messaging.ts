// The messaging capability, a thin facade over its concerns: providers (providers.ts) and
// their workers (worker.ts), services (services.ts), outbound sends (outbound.ts), what the
// workers report (delivery.ts), receipts (receipts.ts), status callbacks (callbacks.ts),
// inbound messages (inbound.ts), the Messages resource (messages.ts) and its media (media.ts).
import type { Kysely } from 'kysely';
import type { KeysetPage, PageCursor } from '../store/index.js';
import { StatusCallbacks } from './callbacks.js';
import type { Carrier } from './carriers/carrier.js';
import { HttpCarrier, type CallbackReply } from './carriers/http/carrier.js';
import { Delivery } from './delivery.js';
import { Inbound } from './inbound.js';
import { MessageMedia } from './media.js';
import { Messages, type MessageFilters } from './messages.js';
import type { MessagingOptions } from './options.js';
import { OptOutChecks } from './optouts.js';
import { Outbound, type SendInput } from './outbound.js';
import { Providers, type ProviderInput } from './providers.js';
import { Receipts } from './receipts.js';
import type { RouteWeights } from './router.js';
import { ScheduleSweeper } from './schedule.js';
import { SenderCaps } from './sender-cap.js';
import { Services, type ServiceInput } from './services.js';
import type { MediaRow, MessageRow, MessagingTables, ProviderRow, ServiceRow } from './tables.js';
import { MessageWrites } from './writes.js';

export class Messaging {
  private readonly writes: MessageWrites;
  private readonly callbacks: StatusCallbacks;
  private readonly providers: Providers;
  private readonly services: Services;
  private readonly messages: Messages;
  private readonly mediaFiles: MessageMedia;
  private readonly outbound: Outbound;
  private readonly receipts: Receipts;
  private readonly inbound: Inbound;
  private readonly scheduled: ScheduleSweeper;

  constructor(private readonly o: MessagingOptions) {
    const db: Kysely<MessagingTables> = o.store.kysely<MessagingTables>();
    this.writes = new MessageWrites(o.store, o.logger);
    this.callbacks = new StatusCallbacks({
      logger: o.logger,
      writes: this.writes,
      authToken: (sid) => o.authToken(sid),
      attempts: o.webhookAttempts ?? 3,
      pipelining: o.callbackPipelining ?? 1,
      onStatus: o.onStatus,
    });
    const delivery = new Delivery({
      db,
      writes: this.writes,
      callbacks: this.callbacks,
      providers: () => this.providers,
      receipts: () => this.receipts,
    });
    this.providers = new Providers({
      db,
      options: o,
      caps: o.state ? new SenderCaps(o.state) : undefined,
      hooks: delivery,
      attach: (sid, carrier) => this.attach(sid, carrier),
    });
    this.receipts = new Receipts({
      db,
      logger: o.logger,
      writes: this.writes,
      providers: this.providers,
      callbacks: this.callbacks,
    });
    this.services = new Services(db);
    this.messages = new Messages(db, this.writes);
    this.mediaFiles = new MessageMedia(db, (acct, sid) => this.messages.get(acct, sid));
    this.outbound = new Outbound({
      db,
      writes: this.writes,
      optOuts: new OptOutChecks(o.store),
      providers: this.providers,
      services: this.services,
      messages: this.messages,
      media: this.mediaFiles,
      callbacks: this.callbacks,
      delivery,
      scheduleMinLeadSeconds: o.scheduleMinLeadSeconds ?? 300,
    });
    this.inbound = new Inbound({
      db,
      logger: o.logger,
      webhookAttempts: o.webhookAttempts ?? 3,
      tokenOf: (sid) => this.callbacks.tokenOf(sid),
      numberRoute: o.numberSmsRoute,
      reply: (accountSid, m) => this.send(accountSid, { ...m, direction: 'outbound-reply' }),
    });
    this.scheduled = new ScheduleSweeper(db, o.logger, (rows) =>
      this.outbound.releaseScheduled(rows),
    );
  }

  async start(): Promise<void> {
    this.callbacks.start();
    await this.providers.start();
    this.scheduled.start();
  }

  async stop(): Promise<void> {
    await this.scheduled.stop();
    await this.providers.stop();
    await this.flush();
    await this.callbacks.close();
  }

  /** A provider's carrier: its receipts and inbound messages come here. */
  private attach(providerSid: string, carrier: Carrier): void {
    carrier.on('receipt', (r, stored) => this.receipts.onReceipt(providerSid, r, stored));
    carrier.on(
      'inbound',
      (m) =>
        void this.inbound
          .handle(m)
          .catch((e: Error) => this.o.logger.warn({ err: e }, 'inbound failed')),
    );
  }

  /** Makes every status reported so far durable (readers call it to see their writes). */
  flush(): Promise<boolean> {
    return this.writes.flush();
  }

  // ------------------------------------------------------------------ providers (operator)

  createProvider(input: ProviderInput): Promise<ProviderRow> {
    return this.providers.create(input);
  }
  listProviders(): Promise<ProviderRow[]> {
    return this.providers.list();
  }
  provider(sid: string): Promise<ProviderRow> {
    return this.providers.get(sid);
  }
  updateProvider(sid: string, input: ProviderInput): Promise<ProviderRow> {
    return this.providers.update(sid, input);
  }
  deleteProvider(sid: string): Promise<void> {
    return this.providers.delete(sid);
  }
  /** Live figures of a provider (the read-only part of the Providers resource). */
  figures(sid: string): Record<string, unknown> {
    return this.providers.figures(sid);
  }
  routingWeights(): RouteWeights {
    return this.providers.routingWeights();
  }
  setRoutingWeights(update: Partial<RouteWeights>): Promise<RouteWeights> {
    return this.providers.setRoutingWeights(update);
  }

  /**
   * A callback an HTTP carrier posted (raw body as signed): verified with the provider's
   * secret, then handled as a receipt or an inbound message (see carriers/http/carrier.ts).
   */
  async carrierCallback(
    providerSid: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    raw: string,
  ): Promise<CallbackReply> {
    const carrier = this.providers.worker(providerSid)?.carrier;
    if (!(carrier instanceof HttpCarrier)) {
      // Disabled or unknown: nothing can verify the signature, so nothing is taken.
      await this.providers.get(providerSid);
      return { status: 503, why: 'the provider is disabled' };
    }
    return carrier.callback(headers, raw);
  }

  // ------------------------------------------------------------------ services

  createService(accountSid: string, input: ServiceInput): Promise<ServiceRow> {
    return this.services.create(accountSid, input);
  }
  service(accountSid: string, sid: string): Promise<ServiceRow> {
    return this.services.get(accountSid, sid);
  }
  listServices(accountSid: string, cursor: PageCursor): Promise<KeysetPage<ServiceRow>> {
    return this.services.list(accountSid, cursor);
  }
  updateService(accountSid: string, sid: string, input: ServiceInput): Promise<ServiceRow> {
    return this.services.update(accountSid, sid, input);
  }
  deleteService(accountSid: string, sid: string): Promise<void> {
    return this.services.delete(accountSid, sid);
  }

  // ------------------------------------------------------------------ messages

  /** Validates, routes and queues an outbound message. */
  send(accountSid: string, input: SendInput): Promise<MessageRow> {
    return this.outbound.send(accountSid, input);
  }
  /** Status=canceled: a scheduled message is canceled. */
  cancel(accountSid: string, sid: string): Promise<MessageRow> {
    return this.outbound.cancel(accountSid, sid);
  }
  message(accountSid: string, sid: string): Promise<MessageRow> {
    return this.messages.get(accountSid, sid);
  }
  listMessages(
    accountSid: string,
    filters: MessageFilters,
    cursor: PageCursor,
  ): Promise<KeysetPage<MessageRow>> {
    return this.messages.list(accountSid, filters, cursor);
  }
  /** Body="" redacts a message once it is no longer in flight. */
  redact(accountSid: string, sid: string): Promise<MessageRow> {
    return this.messages.redact(accountSid, sid);
  }
  deleteMessage(accountSid: string, sid: string): Promise<void> {
    return this.messages.delete(accountSid, sid);
  }

  // ------------------------------------------------------------------ media (MMS)

  listMedia(
    accountSid: string,
    messageSid: string,
    cursor: PageCursor,
  ): Promise<KeysetPage<MediaRow>> {
    return this.mediaFiles.list(accountSid, messageSid, cursor);
  }
  media(accountSid: string, messageSid: string, sid: string): Promise<MediaRow> {
    return this.mediaFiles.get(accountSid, messageSid, sid);
  }
  deleteMedia(accountSid: string, messageSid: string, sid: string): Promise<void> {
    return this.mediaFiles.delete(accountSid, messageSid, sid);
  }
}
