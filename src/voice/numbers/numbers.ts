import { Errors, TwilioError, newSid } from '../../core/index.js';
import type { SharedCache } from '../../cache/index.js';
import type { Kysely, KeysetPage, Store } from '../../store/index.js';
import {
  AccountTable,
  type Page,
  smsWebhookDefaults,
  voiceWebhookDefaults,
} from '../shared/index.js';
import { isVisibleTo, type HttpMethod, type ModuleInfo, type Modules } from '../modules/index.js';
import { parseAddress, routeKeys } from './address.js';
import type { NumberRow, NumberTables } from './tables.js';

export type NumberInput = Partial<
  Omit<
    NumberRow,
    'sid' | 'account_sid' | 'address_key' | 'address_type' | 'date_created' | 'date_updated'
  >
>;

/** Where an inbound call to a number goes. */
export interface NumberRoute {
  readonly numberSid: string;
  /** The account that owns the number (the call's account). */
  readonly accountSid: string;
  readonly phoneNumber: string;
  /** The module routed to (VoiceApplicationSid); null when the number routes to a URL. */
  readonly module: ModuleInfo | null;
  readonly url: string | null;
  readonly method: HttpMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: HttpMethod;
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: HttpMethod;
}

/** Where an inbound message to a number goes: its SmsUrl, or its SMS application's. */
export interface NumberSmsRoute {
  readonly numberSid: string;
  readonly accountSid: string;
  readonly url: string | null;
  readonly method: HttpMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: HttpMethod;
}

/** IncomingPhoneNumbers: numbers and SIP addresses routed to modules or URLs. */
export class Numbers {
  private readonly db: Kysely<NumberTables>;
  private readonly owned: AccountTable<'incoming_phone_numbers', NumberRow>;

  constructor(
    store: Store,
    private readonly modules: Modules,
    /** The voice directory's cache, shared with the modules (a route embeds its module). */
    private readonly cache?: SharedCache,
  ) {
    this.db = store.kysely<NumberTables>();
    this.owned = new AccountTable(
      store.kysely(),
      'incoming_phone_numbers',
      'PN',
      'IncomingPhoneNumber',
    );
  }

  /** A VoiceApplicationSid must name a module the number's account may see (21420). */
  private async checkApplication(
    accountSid: string,
    sid: string | null | undefined,
  ): Promise<void> {
    if (sid === null || sid === undefined) return;
    const module = await this.modules.findBySid(sid);
    if (!module || !isVisibleTo(module, accountSid)) {
      throw new TwilioError(Errors.applicationNotAccessible, sid);
    }
  }

  async create(accountSid: string, phoneNumber: string, input: NumberInput): Promise<NumberRow> {
    const address = parseAddress(phoneNumber);
    if (!address) {
      throw new TwilioError(
        Errors.invalidPhoneNumber,
        'PhoneNumber must be E.164 (+15551234567), a SIP URI (sip:user@host) or a SIP user part',
      );
    }
    await this.checkApplication(accountSid, input.voice_application_sid);
    await this.checkApplication(accountSid, input.sms_application_sid);
    const now = Date.now();
    const row: NumberRow = {
      sid: newSid('PN'),
      account_sid: accountSid,
      phone_number: address.display,
      address_key: address.key,
      address_type: address.type,
      friendly_name: input.friendly_name ?? address.display,
      api_version: input.api_version ?? '2010-04-01',
      voice_application_sid: input.voice_application_sid ?? null,
      ...voiceWebhookDefaults(input),
      sms_application_sid: input.sms_application_sid ?? null,
      ...smsWebhookDefaults(input),
      date_created: now,
      date_updated: now,
    };
    const taken = await this.db
      .selectFrom('incoming_phone_numbers')
      .select('sid')
      .where('address_key', '=', row.address_key)
      .executeTakeFirst();
    if (taken) throw new TwilioError(Errors.phoneNumberNotAvailable, address.display);
    await this.db
      .insertInto('incoming_phone_numbers')
      .values(row)
      .execute()
      .catch((err: unknown) => {
        const e = err as { code?: unknown; message?: unknown };
        if (e.code === '23505' || String(e.message).includes('UNIQUE constraint failed')) {
          throw new TwilioError(Errors.phoneNumberNotAvailable, address.display);
        }
        throw err;
      });
    await this.cache?.changed();
    return row;
  }

  get(accountSid: string, sid: string): Promise<NumberRow> {
    return this.owned.get(accountSid, sid);
  }

  async update(accountSid: string, sid: string, input: NumberInput): Promise<NumberRow> {
    const row = await this.get(accountSid, sid);
    await this.checkApplication(accountSid, input.voice_application_sid);
    await this.checkApplication(accountSid, input.sms_application_sid);
    const defined = Object.fromEntries(
      Object.entries(input).filter(([, v]) => v !== undefined),
    ) as Partial<NumberRow>;
    const next: NumberRow = { ...row, ...defined, date_updated: Date.now() };
    const {
      sid: _s,
      account_sid: _a,
      address_key: _k,
      address_type: _t,
      date_created: _c,
      ...set
    } = next;
    await this.db.updateTable('incoming_phone_numbers').set(set).where('sid', '=', sid).execute();
    await this.cache?.changed();
    return next;
  }

  async delete(accountSid: string, sid: string): Promise<void> {
    await this.get(accountSid, sid);
    await this.db.deleteFrom('incoming_phone_numbers').where('sid', '=', sid).execute();
    await this.cache?.changed();
  }

  list(
    accountSid: string,
    filter: {
      phoneNumber?: string | undefined;
      friendlyName?: string | undefined;
      addressType?: string | undefined;
      /** Twilio's Beta and Origin: Switchboard's numbers are never beta, and all `hosted`. */
      beta?: boolean | undefined;
      origin?: string | undefined;
    },
    page: Page,
  ): Promise<KeysetPage<NumberRow>> {
    const none =
      filter.beta === true || (filter.origin !== undefined && filter.origin !== 'hosted');
    return this.owned.list(accountSid, page, (query) => {
      let q = none ? query.where('sid', '=', '') : query;
      if (filter.addressType !== undefined) q = q.where('address_type', '=', filter.addressType);
      if (filter.phoneNumber !== undefined) {
        const key = parseAddress(filter.phoneNumber)?.key;
        // Twilio matches a partial number too; an exact address matches its key.
        q = key
          ? q.where('address_key', '=', key)
          : q.where('phone_number', 'like', `%${filter.phoneNumber.replace(/[%_\\]/g, '')}%`);
      }
      if (filter.friendlyName !== undefined) q = q.where('friendly_name', '=', filter.friendlyName);
      return q;
    });
  }

  /**
   * The route of an inbound call to `to` (E.164, tel:, sip: URI or user part): the number,
   * its account, and the module or URL it names. A number naming a module uses the module's
   * voice webhook and status callback (as Twilio does with an application). The engine still
   * applies canUseModule before passing control. undefined when nothing matches.
   */
  findRoute(to: string): Promise<NumberRoute | undefined> {
    return this.cache
      ? this.cache.get(`route:${to}`, () => this.readRoute(to))
      : this.readRoute(to);
  }

  private async readRoute(to: string): Promise<NumberRoute | undefined> {
    const keys = routeKeys(to);
    if (keys.length === 0) return undefined;
    const rows = await this.db
      .selectFrom('incoming_phone_numbers')
      .selectAll()
      .where('address_key', 'in', keys)
      .execute();
    const row = keys.map((k) => rows.find((r) => r.address_key === k)).find((r) => r !== undefined);
    if (!row) return undefined;
    const module = row.voice_application_sid
      ? ((await this.modules.findBySid(row.voice_application_sid)) ?? null)
      : null;
    const base = { numberSid: row.sid, accountSid: row.account_sid, phoneNumber: row.phone_number };
    if (module) {
      return {
        ...base,
        module,
        url: module.voiceUrl,
        method: module.voiceMethod,
        fallbackUrl: module.voiceFallbackUrl,
        fallbackMethod: module.voiceFallbackMethod,
        statusCallback: module.statusCallback,
        statusCallbackMethod: module.statusCallbackMethod,
      };
    }
    return {
      ...base,
      module: null,
      url: row.voice_url,
      method: row.voice_method,
      fallbackUrl: row.voice_fallback_url,
      fallbackMethod: row.voice_fallback_method,
      statusCallback: row.status_callback,
      statusCallbackMethod: row.status_callback_method,
    };
  }

  /**
   * The messaging webhook of the E.164 number `to`: the module named by SmsApplicationSid
   * (when the number's account may use it), else the number's own SmsUrl. undefined when no
   * number matches.
   */
  async findSmsRoute(to: string): Promise<NumberSmsRoute | undefined> {
    const key = parseAddress(to)?.key;
    if (!key) return undefined;
    const row = await this.db
      .selectFrom('incoming_phone_numbers')
      .selectAll()
      .where('address_key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    const base = { numberSid: row.sid, accountSid: row.account_sid };
    if (row.sms_application_sid) {
      const module = await this.modules.findBySid(row.sms_application_sid);
      if (module && (await this.modules.mayUse(module, row.account_sid)).allowed) {
        return {
          ...base,
          url: module.smsUrl,
          method: module.smsMethod,
          fallbackUrl: module.smsFallbackUrl,
          fallbackMethod: module.smsFallbackMethod,
        };
      }
      // A module the account may no longer use routes nowhere rather than to its stale URL.
      if (module)
        return { ...base, url: null, method: 'POST', fallbackUrl: null, fallbackMethod: 'POST' };
    }
    return {
      ...base,
      url: row.sms_url,
      method: row.sms_method,
      fallbackUrl: row.sms_fallback_url,
      fallbackMethod: row.sms_fallback_method,
    };
  }

  /** Called when an application is deleted: numbers routed to it fall back to their URL. */
  async detachApplication(applicationSid: string): Promise<void> {
    await this.db
      .updateTable('incoming_phone_numbers')
      .set({ voice_application_sid: null })
      .where('voice_application_sid', '=', applicationSid)
      .execute();
    await this.db
      .updateTable('incoming_phone_numbers')
      .set({ sms_application_sid: null })
      .where('sms_application_sid', '=', applicationSid)
      .execute();
    await this.cache?.changed();
  }
}
