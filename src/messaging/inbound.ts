// Inbound (MO) messages, from SMPP deliver_sm or an HTTP carrier's callback: find who owns the
// number (a Messaging Service's sender pool, else the IncomingPhoneNumber's SmsUrl or its SMS
// application's), apply opt-out keywords, store the message (and its media), call the webhook
// signed, and run the TwiML reply: <Message> sends, <Redirect> follows (up to 5 hops); the
// number's SmsFallbackUrl (or the service's FallbackUrl) is used when the first URL fails. A
// service with UseInboundWebhookOnNumber sends a message to a sender that has its own SmsUrl
// (or SMS application) there, as Twilio does.
import { XMLParser } from 'fast-xml-parser';
import type { Kysely } from 'kysely';
import { newSid, type Logger } from '../core/index.js';
import { callWebhook, type WebhookMethod } from '../webhook/index.js';
import type { InboundSms } from './carriers/carrier.js';
import { describeText } from './encoding.js';
import { mediaRows } from './media.js';
import type { MessagingTables, ServiceRow } from './tables.js';

/** Where an inbound message to a number that no service owns goes (IncomingPhoneNumbers). */
export interface NumberSmsRoute {
  readonly accountSid: string;
  readonly numberSid: string;
  /** The number's SmsUrl, or its SMS application's (SmsApplicationSid); null: none. */
  readonly url: string | null;
  readonly method: WebhookMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: WebhookMethod;
}

/** The port the platform wires to the numbers capability. */
export type NumberSmsLookup = (to: string) => Promise<NumberSmsRoute | undefined>;

export interface InboundDeps {
  readonly db: Kysely<MessagingTables>;
  readonly logger: Logger;
  readonly webhookAttempts: number;
  tokenOf(accountSid: string): Promise<string | undefined>;
  numberRoute: NumberSmsLookup | undefined;
  /** Sends a TwiML <Message> reply. */
  reply(
    accountSid: string,
    m: {
      to: string;
      from: string;
      body: string;
      statusCallback?: string | undefined;
      mediaUrls?: string[];
    },
  ): Promise<unknown>;
}

const STOP = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'];
const START = ['START', 'UNSTOP', 'YES'];

interface Target {
  readonly accountSid: string;
  readonly service: ServiceRow | undefined;
  readonly url: string | null;
  readonly method: WebhookMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: WebhookMethod;
}

export class Inbound {
  private readonly xml = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'Message' || name === 'Redirect' || name === 'Media',
  });

  constructor(private readonly d: InboundDeps) {}

  private async target(to: string): Promise<Target | undefined> {
    const services = await this.d.db.selectFrom('messaging_services').selectAll().execute();
    const service = services.find((s) => (JSON.parse(s.senders) as string[]).includes(to));
    if (service) {
      if (service.use_inbound_webhook_on_number === 1) {
        const n = await this.d.numberRoute?.(to);
        if (n?.url && n.accountSid === service.account_sid) return { ...n, service };
      }
      return {
        accountSid: service.account_sid,
        service,
        url: service.inbound_request_url,
        method: service.inbound_method === 'GET' ? 'GET' : 'POST',
        fallbackUrl: service.fallback_url,
        fallbackMethod: service.fallback_method === 'GET' ? 'GET' : 'POST',
      };
    }
    const n = await this.d.numberRoute?.(to);
    return n && { ...n, service: undefined };
  }

  async handle(mo: InboundSms): Promise<void> {
    const target = await this.target(mo.to);
    if (!target) {
      this.d.logger.warn({ to: mo.to }, 'inbound message to a number no service or account owns');
      // Nothing will ever take it: let the carrier drop it rather than send it again.
      mo.stored?.();
      return;
    }
    const { accountSid, service } = target;
    const db = this.d.db;
    const now = Date.now();
    const media = mo.media ?? [];
    const text = describeText(mo.body);
    const sid = newSid(media.length ? 'MM' : 'SM');
    // Opt-out keywords take effect before the message is visible.
    const keyword = mo.body.trim().toUpperCase();
    const senders = service ? [mo.to, service.sid] : [mo.to];
    if (STOP.includes(keyword)) {
      await db
        .insertInto('messaging_optouts')
        .values(
          senders.map((sender) => ({
            account_sid: accountSid,
            sender,
            recipient: mo.from,
            date_created: now,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    } else if (START.includes(keyword)) {
      await db
        .deleteFrom('messaging_optouts')
        .where('account_sid', '=', accountSid)
        .where('recipient', '=', mo.from)
        .where('sender', 'in', senders)
        .execute();
    }
    const files = mediaRows(accountSid, sid, media, now);
    if (files.length) await db.insertInto('messaging_media').values(files).execute();
    await db
      .insertInto('messaging_messages')
      .values({
        sid,
        account_sid: accountSid,
        messaging_service_sid: service?.sid ?? null,
        direction: 'inbound',
        from_addr: mo.from,
        to_addr: mo.to,
        body: mo.body,
        status: 'received',
        num_segments: text.numSegments,
        encoding: text.encoding,
        price: null,
        price_unit: 'USD',
        error_code: null,
        error_message: null,
        provider_sid: null,
        route: '[]',
        status_callback: null,
        validity_period: null,
        date_created: now,
        date_updated: now,
        date_sent: now,
        num_media: files.length,
      })
      .execute();
    mo.stored?.();
    if (!target.url) return;
    const token = await this.d.tokenOf(accountSid);
    if (token === undefined) return;
    const params: Record<string, string> = {
      MessageSid: sid,
      SmsSid: sid,
      SmsMessageSid: sid,
      AccountSid: accountSid,
      ...(service ? { MessagingServiceSid: service.sid } : {}),
      From: mo.from,
      To: mo.to,
      Body: mo.body,
      NumMedia: String(files.length),
      NumSegments: String(text.numSegments),
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    };
    files.forEach((f, i) => {
      params[`MediaUrl${i}`] = f.url;
      params[`MediaContentType${i}`] = f.content_type;
    });
    await this.converse(target, params, token, mo);
  }

  /** The webhook and its TwiML: replies sent, redirects followed, the fallback on failure. */
  private async converse(
    target: Target,
    params: Record<string, string>,
    token: string,
    mo: InboundSms,
  ): Promise<void> {
    let url = target.url!;
    let method = target.method;
    let fallback = target.fallbackUrl;
    for (let hop = 0; hop < 5; hop++) {
      const res = await callWebhook({
        url,
        method,
        params,
        authToken: token,
        attempts: this.d.webhookAttempts,
        retryOnStatus: true,
      });
      const failed = !res.ok || res.status >= 400;
      if (failed && fallback) {
        this.d.logger.warn({ url, fallback }, 'inbound webhook failed; trying SmsFallbackUrl');
        url = fallback;
        method = target.fallbackMethod;
        fallback = null;
        continue;
      }
      if (!res.ok) {
        this.d.logger.warn({ url, code: res.code, err: res.message }, 'inbound webhook failed');
        return;
      }
      if (res.status >= 300 || !res.body.trim().startsWith('<')) return;
      fallback = null;
      const doc = this.xml.parse(res.body) as { Response?: Record<string, unknown> | string };
      const response = typeof doc.Response === 'object' ? doc.Response : {};
      for (const m of (response.Message ?? []) as unknown[]) await this.replyWith(m, target, mo);
      const next = ((response.Redirect ?? []) as unknown[])[0];
      if (!next) return;
      const attrs = typeof next === 'object' && next ? (next as Record<string, unknown>) : {};
      const ref = typeof next === 'string' ? next : String(attrs['#text'] ?? '');
      url = new URL(ref, url).toString();
      method = attrs.method === 'GET' ? 'GET' : 'POST';
    }
  }

  private async replyWith(m: unknown, target: Target, mo: InboundSms): Promise<void> {
    const attrs = typeof m === 'object' && m ? (m as Record<string, unknown>) : {};
    const raw = typeof m === 'string' ? m : (attrs.Body ?? attrs['#text'] ?? '');
    const body = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
    const mediaUrls = ((attrs.Media ?? []) as unknown[]).map((x) => String(x)).filter(Boolean);
    if (!body && !mediaUrls.length) return;
    const str = (k: string) => (typeof attrs[k] === 'string' ? (attrs[k] as string) : undefined);
    await this.d
      .reply(target.accountSid, {
        to: str('to') ?? mo.from,
        from: str('from') ?? mo.to,
        body,
        statusCallback: str('statusCallback') ?? str('action'),
        ...(mediaUrls.length ? { mediaUrls } : {}),
      })
      .catch((e: Error) => this.d.logger.warn({ err: e.message }, 'TwiML <Message> reply refused'));
  }
}
