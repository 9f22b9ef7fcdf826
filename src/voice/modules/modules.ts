import { Errors, TwilioError, fail, isSid, newSid } from '../../core/index.js';
import type { AccountStatus } from '../../core/rest.js';
import type { UsagePlan } from '../../billing/index.js';
import type { SharedCache } from '../../cache/index.js';
import type { Kysely, KeysetPage, Store } from '../../store/index.js';
import {
  AccountTable,
  type Page,
  smsWebhookDefaults,
  voiceWebhookDefaults,
} from '../shared/index.js';
import type { ApplicationRow, HttpMethod, ModuleTables, Visibility } from './tables.js';

/** A module as the call engine sees it. */
export interface ModuleInfo {
  readonly sid: string;
  /** The publisher: the account that owns the Application. */
  readonly accountSid: string;
  readonly friendlyName: string;
  readonly moduleCode: string | null;
  readonly visibility: Visibility;
  readonly sharedWith: readonly string[];
  readonly voiceUrl: string | null;
  readonly voiceMethod: HttpMethod;
  readonly voiceFallbackUrl: string | null;
  readonly voiceFallbackMethod: HttpMethod;
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: HttpMethod;
  /** The module's messaging webhook (inbound SMS to numbers naming it as SmsApplicationSid). */
  readonly smsUrl: string | null;
  readonly smsMethod: HttpMethod;
  readonly smsFallbackUrl: string | null;
  readonly smsFallbackMethod: HttpMethod;
  readonly plan: UsagePlan;
}

// Lowercase identity codes, dot-separated segments: `voicemail`, `acme.ivr`, `acme.ivr-v2`.
const MODULE_CODE = /^[a-z][a-z0-9_-]{0,62}(\.[a-z][a-z0-9_-]{0,62}){0,3}$/;
const MODULE_REF = /^module:(.+)$/;

/** Validates a ModuleCode; throws 20001 with the rule when it is malformed. */
export function validateModuleCode(code: string): string {
  if (code.length > 128 || !MODULE_CODE.test(code)) {
    throw new TwilioError(
      Errors.invalidParameter,
      'ModuleCode must be lowercase letters, digits, - or _, starting with a letter, in up to 4 dot-separated parts (e.g. voicemail, acme.ivr)',
    );
  }
  return code;
}

/** `module:acme.ivr` -> `acme.ivr`; undefined for anything else (a plain URL). */
export function parseModuleRef(ref: string): string | undefined {
  return MODULE_REF.exec(ref.trim())?.[1];
}

export function toModuleInfo(row: ApplicationRow, sharedWith: readonly string[]): ModuleInfo {
  return {
    sid: row.sid,
    accountSid: row.account_sid,
    friendlyName: row.friendly_name,
    moduleCode: row.module_code,
    visibility: row.visibility,
    sharedWith,
    voiceUrl: row.voice_url,
    voiceMethod: row.voice_method,
    voiceFallbackUrl: row.voice_fallback_url,
    voiceFallbackMethod: row.voice_fallback_method,
    statusCallback: row.status_callback,
    statusCallbackMethod: row.status_callback_method,
    smsUrl: row.sms_url,
    smsMethod: row.sms_method,
    smsFallbackUrl: row.sms_fallback_url,
    smsFallbackMethod: row.sms_fallback_method,
    plan: {
      perMinuteMicros: row.per_minute_rate_micros,
      incrementSeconds: row.billing_increment,
      perInvocationMicros: row.per_invocation_fee_micros,
      currency: row.currency,
    },
  };
}

// ---------------------------------------------------------------- policy

/** What the policy needs to know about accounts and money (the platform wires these). */
export interface PolicyDeps {
  accountStatus(accountSid: string): Promise<AccountStatus | undefined>;
  /** True when the account has used up its allotted cost. */
  spendLimitReached(accountSid: string): Promise<boolean>;
}

export interface PolicyOptions {
  /**
   * The call reached its spend limit and is handed to its configured module: only a module
   * that costs nothing may take it (although the limit is reached); a priced one is refused.
   */
  readonly spendLimitHandoff?: boolean;
}

export type PolicyDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly error: TwilioError };

/** Whether an account may see a module at all (visibility and share list only). */
export function isVisibleTo(module: ModuleInfo, accountSid: string): boolean {
  if (module.accountSid === accountSid) return true;
  if (module.visibility === 'public') return true;
  if (module.visibility === 'shared') return module.sharedWith.includes(accountSid);
  return false;
}

/**
 * May account `accountSid` pass control of a call to `module`? Checks, in order: visibility
 * (private: the publisher only; shared: the publisher and the share list; public: anyone),
 * the using account is active, the publisher is active, and the using account has not used
 * up its allotted cost. A module the account may not see is refused like a missing one
 * (21218), so a private module's existence never leaks.
 */
export async function canUseModule(
  deps: PolicyDeps,
  module: ModuleInfo,
  accountSid: string,
  options: PolicyOptions = {},
): Promise<PolicyDecision> {
  const refuse = (error: TwilioError): PolicyDecision => ({ allowed: false, error });
  const name = module.moduleCode ?? module.sid;
  if (!isVisibleTo(module, accountSid)) {
    return refuse(
      new TwilioError(
        Errors.invalidApplicationSid,
        `module ${name} is not available to this account`,
      ),
    );
  }
  const status = await deps.accountStatus(accountSid);
  if (status !== 'active') {
    return refuse(
      new TwilioError(Errors.userAccountNotActive, `${accountSid} is ${status ?? 'unknown'}`),
    );
  }
  if (
    module.accountSid !== accountSid &&
    (await deps.accountStatus(module.accountSid)) !== 'active'
  ) {
    return refuse(
      new TwilioError(
        Errors.invalidApplicationSid,
        `module ${name} is not available (publisher inactive)`,
      ),
    );
  }
  if (options.spendLimitHandoff) {
    // The call has reached a limit (its own or its account's): only a module that costs
    // nothing may take it over, whatever the account's spending.
    const free = module.plan.perMinuteMicros === 0 && module.plan.perInvocationMicros === 0;
    if (!free)
      return refuse(
        new TwilioError(
          Errors.spendLimitReached,
          `module ${name} is priced and cannot take a call that reached its spend limit`,
        ),
      );
  } else if (await deps.spendLimitReached(accountSid)) {
    return refuse(new TwilioError(Errors.spendLimitReached, accountSid));
  }
  return { allowed: true };
}

// ---------------------------------------------------------------- dispatcher

export interface DispatchDeps extends PolicyDeps {
  findByCode(code: string): Promise<ModuleInfo | undefined>;
}

/** Where control passes: the module and the webhook to fetch. */
export interface DispatchTarget {
  readonly module: ModuleInfo;
  readonly url: string;
  readonly method: HttpMethod;
  readonly fallbackUrl: string | null;
  readonly fallbackMethod: HttpMethod;
}

/**
 * Resolves `module:<ModuleCode>` (or a bare code) for a call of `accountSid`: looks the module
 * up, applies the policy, and returns its voice webhook. Throws a TwilioError on refusal
 * (21218 unknown/not visible/no VoiceUrl, 10001 inactive account, 86002 spend limit), which
 * the engine reports to the current module's action/fallback.
 */
export async function dispatch(
  deps: DispatchDeps,
  ref: string,
  accountSid: string,
  options: PolicyOptions = {},
): Promise<DispatchTarget> {
  const code = parseModuleRef(ref) ?? ref.trim();
  const module = MODULE_CODE.test(code) ? await deps.findByCode(code) : undefined;
  if (!module)
    throw new TwilioError(Errors.invalidApplicationSid, `no module ${code.slice(0, 128)}`);
  const decision = await canUseModule(deps, module, accountSid, options);
  if (!decision.allowed) throw decision.error;
  if (!module.voiceUrl) {
    throw new TwilioError(Errors.invalidApplicationSid, `module ${code} has no VoiceUrl`);
  }
  return {
    module,
    url: module.voiceUrl,
    method: module.voiceMethod,
    fallbackUrl: module.voiceFallbackUrl,
    fallbackMethod: module.voiceFallbackMethod,
  };
}

// ---------------------------------------------------------------- the service

/** Two writers racing for one code: the unique index decides; the loser gets 20409. */
function codeConflict(code: string | null): (err: unknown) => never {
  return (err) => {
    const e = err as { code?: unknown; message?: unknown };
    const unique = e.code === '23505' || String(e.message).includes('UNIQUE constraint failed');
    if (unique && code !== null) throw new TwilioError(Errors.moduleCodeInUse, code);
    throw err;
  };
}

export type ApplicationInput = Partial<
  Omit<ApplicationRow, 'sid' | 'account_sid' | 'date_created' | 'date_updated'>
> & { shared_with?: readonly string[] | undefined };

/** Applications as modules: storage, lookup by code, and the policy/dispatcher dependencies. */
export class Modules implements DispatchDeps {
  private readonly db: Kysely<ModuleTables>;
  private readonly apps: AccountTable<'applications', ApplicationRow>;

  constructor(
    store: Store,
    private readonly deps: PolicyDeps,
    /**
     * The voice directory's cache (modules, and the numbers' routes that embed them): every
     * inbound call and module hand-off reads a module, and modules change rarely.
     */
    private readonly cache?: SharedCache,
  ) {
    this.db = store.kysely<ModuleTables>();
    this.apps = new AccountTable(store.kysely(), 'applications', 'AP', 'Application');
  }

  accountStatus(accountSid: string): Promise<AccountStatus | undefined> {
    return this.deps.accountStatus(accountSid);
  }

  spendLimitReached(accountSid: string): Promise<boolean> {
    return this.deps.spendLimitReached(accountSid);
  }

  async create(accountSid: string, input: ApplicationInput): Promise<ApplicationRow> {
    const now = Date.now();
    const row: ApplicationRow = {
      sid: newSid('AP'),
      account_sid: accountSid,
      friendly_name: input.friendly_name ?? '',
      api_version: input.api_version ?? '2010-04-01',
      ...voiceWebhookDefaults(input),
      ...smsWebhookDefaults(input),
      sms_status_callback: input.sms_status_callback ?? null,
      message_status_callback: input.message_status_callback ?? null,
      public_application_connect_enabled: input.public_application_connect_enabled ?? 1,
      module_code: input.module_code ?? null,
      visibility: input.visibility ?? 'private',
      per_minute_rate_micros: input.per_minute_rate_micros ?? 0,
      billing_increment: input.billing_increment ?? 60,
      per_invocation_fee_micros: input.per_invocation_fee_micros ?? 0,
      currency: input.currency ?? 'USD',
      date_created: now,
      date_updated: now,
    };
    if (row.module_code !== null) await this.assertCodeFree(row.module_code, row.sid);
    await this.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('applications').values(row).execute();
        await this.writeShares(trx, row.sid, input.shared_with ?? []);
      })
      .catch(codeConflict(row.module_code));
    await this.cache?.changed();
    return row;
  }

  private async assertCodeFree(code: string, sid: string): Promise<void> {
    const other = await this.db
      .selectFrom('applications')
      .select('sid')
      .where('module_code', '=', code)
      .where('sid', '!=', sid)
      .executeTakeFirst();
    if (other) throw new TwilioError(Errors.moduleCodeInUse, code);
  }

  private async writeShares(
    trx: Kysely<ModuleTables>,
    sid: string,
    accounts: readonly string[],
  ): Promise<void> {
    await trx.deleteFrom('module_shares').where('module_sid', '=', sid).execute();
    const unique = [...new Set(accounts)];
    if (unique.length) {
      await trx
        .insertInto('module_shares')
        .values(unique.map((a) => ({ module_sid: sid, account_sid: a })))
        .execute();
    }
  }

  /** An application of this account (404 otherwise, as for any other account's resource). */
  get(accountSid: string, sid: string): Promise<ApplicationRow> {
    return this.apps.get(accountSid, sid);
  }

  async sharesOf(sid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('module_shares')
      .select('account_sid')
      .where('module_sid', '=', sid)
      .orderBy('account_sid')
      .execute();
    return rows.map((r) => r.account_sid);
  }

  async update(accountSid: string, sid: string, input: ApplicationInput): Promise<ApplicationRow> {
    const row = await this.get(accountSid, sid);
    const { shared_with, ...fields } = input;
    const defined = Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ) as Partial<ApplicationRow>;
    const next: ApplicationRow = { ...row, ...defined, date_updated: Date.now() };
    if (next.module_code !== null && next.module_code !== row.module_code) {
      await this.assertCodeFree(next.module_code, sid);
    }
    await this.db
      .transaction()
      .execute(async (trx) => {
        const { sid: _sid, account_sid: _a, date_created: _c, ...set } = next;
        await trx.updateTable('applications').set(set).where('sid', '=', sid).execute();
        if (shared_with !== undefined) await this.writeShares(trx, sid, shared_with);
      })
      .catch(codeConflict(next.module_code));
    await this.cache?.changed();
    return next;
  }

  async delete(accountSid: string, sid: string): Promise<void> {
    await this.get(accountSid, sid);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('module_shares').where('module_sid', '=', sid).execute();
      await trx.deleteFrom('applications').where('sid', '=', sid).execute();
    });
    await this.cache?.changed();
  }

  list(
    accountSid: string,
    filter: { friendlyName?: string | undefined },
    page: Page,
  ): Promise<KeysetPage<ApplicationRow>> {
    const name = filter.friendlyName;
    return this.apps.list(accountSid, page, (q) =>
      name === undefined ? q : q.where('friendly_name', '=', name),
    );
  }

  /**
   * The catalogue an account may use: its own modules with a code, public ones, and those
   * shared with it, ordered by code.
   */
  async available(accountSid: string, page: Page): Promise<ApplicationRow[]> {
    let q = this.db
      .selectFrom('applications')
      .selectAll()
      .where('module_code', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('account_sid', '=', accountSid),
          eb('visibility', '=', 'public'),
          eb.and([
            eb('visibility', '=', 'shared'),
            eb(
              'sid',
              'in',
              eb
                .selectFrom('module_shares')
                .select('module_sid')
                .where('module_shares.account_sid', '=', accountSid),
            ),
          ]),
        ]),
      );
    if (page.after) {
      const [code] = page.after;
      if (typeof code !== 'string') fail('invalidPageToken');
      q = q.where('module_code', '>', code);
    }
    return q
      .orderBy('module_code')
      .limit(page.size + 1)
      .execute();
  }

  /** A module by SID, whoever published it (the engine then applies canUseModule). */
  findBySid(sid: string): Promise<ModuleInfo | undefined> {
    if (!isSid(sid, 'AP')) return Promise.resolve(undefined);
    return this.cache
      ? this.cache.get(`module:${sid}`, () => this.readBySid(sid))
      : this.readBySid(sid);
  }

  private async readBySid(sid: string): Promise<ModuleInfo | undefined> {
    const row = await this.db
      .selectFrom('applications')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
    return row ? toModuleInfo(row, await this.sharesOf(row.sid)) : undefined;
  }

  /** A module by its platform-wide identity code. */
  findByCode(code: string): Promise<ModuleInfo | undefined> {
    return this.cache
      ? this.cache.get(`code:${code}`, () => this.readByCode(code))
      : this.readByCode(code);
  }

  private async readByCode(code: string): Promise<ModuleInfo | undefined> {
    const row = await this.db
      .selectFrom('applications')
      .selectAll()
      .where('module_code', '=', code)
      .executeTakeFirst();
    return row ? toModuleInfo(row, await this.sharesOf(row.sid)) : undefined;
  }

  /** Policy for this service's accounts (see canUseModule). */
  mayUse(module: ModuleInfo, accountSid: string): Promise<PolicyDecision> {
    return canUseModule(this, module, accountSid);
  }

  /** Dispatcher for this service's modules (see dispatch). */
  dispatch(ref: string, accountSid: string): Promise<DispatchTarget> {
    return dispatch(this, ref, accountSid);
  }
}
