import { LRUCache } from 'lru-cache';
import { Errors, TwilioError, fail, isSid, newSid } from '../core/index.js';
import type { AccountContext, AccountStatus, Principal } from '../core/rest.js';
import {
  OLDEST_FIRST,
  selectPage,
  type KeysetPage,
  type Kysely,
  type PageCursor,
  type Store,
} from '../store/index.js';
import {
  hashSecret,
  matchesHash,
  newAuthToken,
  newKeySecret,
  parseBasic,
  sameSecret,
} from './credentials.js';
import type { Secrets } from './secrets.js';
import type { AccountRecord, AccountRow, AccountTables, KeyRow } from './tables.js';

export interface NewKey {
  readonly row: KeyRow;
  /** Shown once, never stored. */
  readonly secret: string;
}

export interface OwnerAccount {
  readonly sid: string;
  readonly authToken: string;
  readonly created: boolean;
}

// Authentication runs on every request; rows are cached briefly so a request costs no query.
// Writes through this service invalidate the local copy at once; another node sees a change
// (suspension, key deletion) within CACHE_TTL_MS.
const CACHE_TTL_MS = 2000;
const REFUSED_TTL_MS = 5000;
/** What a header that proves nothing is remembered as. */
const NOBODY: Principal = Object.freeze({ accountSid: '', credentialSid: '' });

/** A restricted key's allowed permissions (parsed once per check of its credentials). */
export function policyOf(row: KeyRow): ReadonlySet<string> | undefined {
  if (!row.policy) return undefined;
  const parsed = JSON.parse(row.policy) as { allow?: unknown };
  const allow = Array.isArray(parsed.allow) ? parsed.allow : [];
  return new Set(allow.filter((p): p is string => typeof p === 'string'));
}

export function toContext(row: AccountRow): AccountContext {
  return {
    sid: row.sid,
    parentSid: row.parent_sid,
    status: row.status,
    authToken: row.auth_token,
    friendlyName: row.friendly_name,
  };
}

/** Accounts, subaccounts and API keys: who may call the API and on which account. */
export class Accounts {
  private readonly db: Kysely<AccountTables>;
  private readonly accountCache = new LRUCache<string, AccountRow>({
    max: 50_000,
    ttl: CACHE_TTL_MS,
  });
  private readonly keyCache = new LRUCache<string, KeyRow>({ max: 50_000, ttl: CACHE_TTL_MS });
  /**
   * Authorization headers that were checked: the principal they prove, or NOBODY when they
   * prove nothing (remembered for less time, so a flood of wrong secrets costs one check per
   * header every few seconds). Keyed by the header itself, so a busy client costs one map lookup
   * per request instead of a base64 decode and a constant-time comparison of hashes; a hash of
   * the header would cost more, and a weak one could be made to collide with another client's.
   * Cleared by every status change or key deletion made here.
   */
  private readonly verified = new LRUCache<string, Principal>({ max: 50_000, ttl: CACHE_TTL_MS });
  /** The context of an account row (rows are immutable: an update makes a new one). */
  private readonly contexts = new WeakMap<AccountRow, AccountContext>();
  /** Set by ensureOwner at start. */
  private operatorSid: string | undefined;

  /** `secrets` seals tokens and key secrets as they are written and opens them as read. */
  constructor(
    store: Store,
    private readonly secrets: Secrets,
  ) {
    this.db = store.kysely<AccountTables>();
  }

  get kysely(): Kysely<AccountTables> {
    return this.db;
  }

  /**
   * The operator account, made on first start (with preset credentials if given) and recorded;
   * an account named in configuration (SWITCHBOARD_ACCOUNT_SID) takes the role over. Every
   * other account without a parent is a tenant.
   */
  async ensureOwner(preset: {
    sid?: string | undefined;
    authToken?: string | undefined;
  }): Promise<OwnerAccount> {
    if (preset.sid !== undefined && !isSid(preset.sid, 'AC')) {
      throw new Error('SWITCHBOARD_ACCOUNT_SID must be AC followed by 32 lowercase hex digits');
    }
    if (preset.authToken !== undefined && !/^[0-9A-Za-z_-]{16,64}$/.test(preset.authToken)) {
      throw new Error('SWITCHBOARD_AUTH_TOKEN must be 16-64 letters, digits, - or _');
    }
    const recorded = await this.recordedOperator();
    let row: AccountRow | undefined;
    let created = false;
    if (preset.sid) {
      row = await this.find(preset.sid);
      if (row?.parent_sid) {
        throw new Error(
          `SWITCHBOARD_ACCOUNT_SID ${preset.sid} is a subaccount, not a main account`,
        );
      }
    } else if (recorded) {
      row = await this.find(recorded);
    } else {
      // Installations from before the role was recorded: their first main account.
      const first = await this.db
        .selectFrom('accounts')
        .selectAll()
        .where('parent_sid', 'is', null)
        .orderBy('date_created')
        .orderBy('sid')
        .limit(1)
        .executeTakeFirst();
      row = first && this.secrets.openAccount(first);
    }
    if (!row) {
      row = await this.insertAccount(null, 'Operator account', preset.sid, preset.authToken);
      created = true;
    }
    if (!recorded) {
      // Two nodes starting at once on an empty database: the first to record the role keeps it.
      await this.db
        .insertInto('platform_roles')
        .values({ role: 'operator', account_sid: row.sid })
        .onConflict((oc) => oc.column('role').doNothing())
        .execute();
      const winner = await this.recordedOperator();
      if (winner && winner !== row.sid) {
        row = (await this.find(winner)) ?? row;
        created = false;
      }
    } else if (recorded !== row.sid) {
      await this.db
        .updateTable('platform_roles')
        .set({ account_sid: row.sid })
        .where('role', '=', 'operator')
        .execute();
    }
    this.operatorSid = row.sid;
    return { sid: row.sid, authToken: row.auth_token, created };
  }

  private async recordedOperator(): Promise<string | undefined> {
    const role = await this.db
      .selectFrom('platform_roles')
      .select('account_sid')
      .where('role', '=', 'operator')
      .executeTakeFirst();
    return role?.account_sid;
  }

  /** Makes (or replaces) the account's secondary AuthToken, valid beside the primary one. */
  async createSecondaryToken(sid: string): Promise<AccountRow> {
    const row = await this.reread(sid);
    const now = Date.now();
    // Both tokens sealed again together: a row names one key.
    const sealed = this.secrets.sealAccount(sid, {
      auth_token: row.auth_token,
      secondary_auth_token: newAuthToken(),
    });
    await this.db
      .updateTable('accounts')
      .set({ ...sealed, secondary_created: now, date_updated: now })
      .where('sid', '=', sid)
      .execute();
    return this.reread(sid);
  }

  /** Deletes the secondary AuthToken: it authenticates no more (on other nodes within 2 s). */
  async deleteSecondaryToken(sid: string): Promise<void> {
    const row = await this.reread(sid);
    if (!row.secondary_auth_token) fail('notFound', `secondary AuthToken of ${sid}`);
    await this.db
      .updateTable('accounts')
      .set({ secondary_auth_token: null, secondary_created: null, date_updated: Date.now() })
      .where('sid', '=', sid)
      .execute();
    await this.reread(sid);
  }

  /**
   * Promotes the secondary AuthToken to primary: the old primary stops authenticating and
   * webhooks are signed with the new one from now on.
   */
  async promoteSecondaryToken(sid: string): Promise<AccountRow> {
    this.accountCache.delete(sid);
    const record = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (!record) fail('notFound', `Account ${sid}`);
    const secondary = this.secrets.openAccount(record).secondary_auth_token;
    if (!secondary || !record.secondary_auth_token) {
      fail('notFound', `secondary AuthToken of ${sid}`);
    }
    await this.db
      .updateTable('accounts')
      .set({
        ...this.secrets.sealAccount(sid, { auth_token: secondary, secondary_auth_token: null }),
        secondary_created: null,
        date_updated: Date.now(),
      })
      .where('sid', '=', sid)
      .where('secondary_auth_token', '=', record.secondary_auth_token)
      .execute();
    return this.reread(sid);
  }

  /** The row as stored now; every credential this node checked is checked again. */
  private async reread(sid: string): Promise<AccountRow> {
    this.accountCache.delete(sid);
    this.verified.clear();
    const row = await this.find(sid);
    if (!row) fail('notFound', `Account ${sid}`);
    return row;
  }

  /**
   * Whether a request comes from the operator: its AuthToken, or an API key of the operator
   * account (an operator automates as any customer does, with keys rather than its AuthToken;
   * a restricted key is further held to its policy). Providers, nodes and platform-wide
   * settings are theirs alone (not a tenant's nor a subaccount's, nor their keys').
   */
  isOperator(principal: Principal): boolean {
    return this.operatorSid !== undefined && principal.accountSid === this.operatorSid;
  }

  async createAccount(
    parentSid: string | null,
    friendlyName: string | undefined,
  ): Promise<AccountRow> {
    return this.insertAccount(parentSid, friendlyName, undefined, undefined);
  }

  private async insertAccount(
    parentSid: string | null,
    friendlyName: string | undefined,
    sid: string | undefined,
    authToken: string | undefined,
  ): Promise<AccountRow> {
    const now = Date.now();
    const row: AccountRow = {
      sid: sid ?? newSid('AC'),
      parent_sid: parentSid,
      friendly_name: friendlyName ?? `SubAccount Created at ${new Date(now).toUTCString()}`,
      status: 'active',
      auth_token: authToken ?? newAuthToken(),
      date_created: now,
      date_updated: now,
    };
    const sealed = this.secrets.sealAccount(row.sid, {
      auth_token: row.auth_token,
      secondary_auth_token: null,
    });
    await this.db
      .insertInto('accounts')
      .values({ ...row, auth_token: sealed.auth_token, seal_key_id: sealed.seal_key_id })
      .execute();
    return row;
  }

  /** An account row; at once when it was read recently (every API request reads one). */
  find(sid: string): AccountRow | undefined | Promise<AccountRow | undefined> {
    const cached = this.accountCache.get(sid);
    if (cached) return cached;
    return this.db
      .selectFrom('accounts')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst()
      .then((record) => {
        if (!record) return undefined;
        const row = this.secrets.openAccount(record);
        this.accountCache.set(sid, row);
        return row;
      });
  }

  /**
   * Checks an HTTP Basic `Authorization` header: the principal it proves, or undefined (the
   * caller answers 401). Answers at once when the header was checked recently.
   */
  authenticate(authorization: string): Principal | undefined | Promise<Principal | undefined> {
    const known = this.verified.get(authorization);
    if (known !== undefined) return known === NOBODY ? undefined : known;
    const basic = parseBasic(authorization);
    if (!basic) return undefined;
    return this.check(basic[0], basic[1]).then((principal) => {
      this.verified.set(
        authorization,
        principal ?? NOBODY,
        principal ? undefined : { ttl: REFUSED_TTL_MS },
      );
      return principal;
    });
  }

  private async check(username: string, password: string): Promise<Principal | undefined> {
    if (isSid(username, 'AC')) {
      const row = await this.find(username);
      if (!row) return undefined;
      const secondary = row.secondary_auth_token;
      if (
        !sameSecret(password, row.auth_token) &&
        !(secondary && sameSecret(password, secondary))
      ) {
        return undefined;
      }
      if (row.status !== 'active') throw new TwilioError(Errors.accountNotActive, row.sid);
      return { accountSid: row.sid, credentialSid: row.sid };
    }
    if (isSid(username, 'SK')) {
      const key = await this.findKeyRow(username);
      if (!key || !matchesHash(password, key.secret_hash)) return undefined;
      const account = await this.find(key.account_sid);
      if (!account) return undefined;
      if (account.status !== 'active') throw new TwilioError(Errors.accountNotActive, account.sid);
      const allow = policyOf(key);
      return allow
        ? { accountSid: account.sid, credentialSid: key.sid, allow }
        : { accountSid: account.sid, credentialSid: key.sid };
    }
    return undefined;
  }

  /**
   * The account a principal acts on: its own, or one of its subaccounts. Anything else is a
   * 404, so that another account's existence never leaks.
   */
  resolve(principal: Principal, targetSid: string): AccountContext | Promise<AccountContext> {
    if (!isSid(targetSid, 'AC')) fail('notFound', `Account ${targetSid.slice(0, 40)}`);
    const row = this.find(targetSid);
    return row instanceof Promise
      ? row.then((r) => this.contextOf(principal, targetSid, r))
      : this.contextOf(principal, targetSid, row);
  }

  private contextOf(
    principal: Principal,
    targetSid: string,
    row: AccountRow | undefined,
  ): AccountContext {
    if (!row || (row.sid !== principal.accountSid && row.parent_sid !== principal.accountSid)) {
      fail('notFound', `Account ${targetSid}`);
    }
    let context = this.contexts.get(row);
    if (!context) {
      context = toContext(row);
      this.contexts.set(row, context);
    }
    return context;
  }

  async update(
    actor: Principal,
    sid: string,
    changes: { friendlyName?: string | undefined; status?: AccountStatus | undefined },
  ): Promise<AccountRow> {
    const row = await this.find(sid);
    if (!row) fail('notFound', `Account ${sid}`);
    if (row.status === 'closed') throw new TwilioError(Errors.accountClosed, sid);
    if (changes.status && changes.status !== row.status) {
      // An account's status is its parent's to change; a main account changes its own.
      const mayChange =
        row.parent_sid === null
          ? actor.accountSid === row.sid
          : actor.accountSid === row.parent_sid;
      if (!mayChange) fail('forbidden', 'only the parent account can change a subaccount status');
    }
    const next: AccountRow = {
      ...row,
      friendly_name: changes.friendlyName ?? row.friendly_name,
      status: changes.status ?? row.status,
      date_updated: Date.now(),
    };
    await this.db
      .updateTable('accounts')
      .set({
        friendly_name: next.friendly_name,
        status: next.status,
        date_updated: next.date_updated,
      })
      .where('sid', '=', sid)
      .execute();
    this.accountCache.delete(sid);
    if (next.status !== row.status) this.verified.clear();
    if (next.status === 'closed') {
      // Closing an account closes its subaccounts and revokes its keys, as Twilio does.
      await this.db
        .updateTable('accounts')
        .set({ status: 'closed', date_updated: next.date_updated })
        .where('parent_sid', '=', sid)
        .execute();
      await this.db.deleteFrom('api_keys').where('account_sid', '=', sid).execute();
      this.accountCache.clear();
      this.keyCache.clear();
    }
    return next;
  }

  /** Lists the account and its subaccounts (or only the subaccounts of a parent). */
  async list(
    principal: Principal,
    filter: { friendlyName?: string | undefined; status?: AccountStatus | undefined },
    cursor: PageCursor,
  ): Promise<KeysetPage<AccountRow>> {
    let q = this.db
      .selectFrom('accounts')
      .selectAll()
      .where((eb) =>
        eb.or([eb('sid', '=', principal.accountSid), eb('parent_sid', '=', principal.accountSid)]),
      );
    if (filter.friendlyName !== undefined) q = q.where('friendly_name', '=', filter.friendlyName);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    const page = await selectPage(q, cursor, OLDEST_FIRST);
    return { ...page, items: page.items.map((r) => this.secrets.openAccount(r)) };
  }

  // ---------------------------------------------------------------- API keys

  private async findKeyRow(sid: string): Promise<KeyRow | undefined> {
    const cached = this.keyCache.get(sid);
    if (cached) return cached;
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (row) this.keyCache.set(sid, row);
    return row;
  }

  /** A key; restricted to the permissions of `allow` when given (iam v1 KeyType=restricted). */
  async createKey(
    accountSid: string,
    friendlyName: string | undefined,
    allow?: readonly string[],
  ): Promise<NewKey> {
    const now = Date.now();
    const secret = newKeySecret();
    const sid = newSid('SK');
    const row: KeyRow = {
      sid,
      account_sid: accountSid,
      friendly_name: friendlyName ?? '',
      secret_hash: hashSecret(secret),
      policy: allow ? JSON.stringify({ allow }) : null,
      ...this.secrets.sealKeySecret(sid, secret),
      date_created: now,
      date_updated: now,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return { row, secret };
  }

  /**
   * The key an AccessToken names (its `iss`), read from the database, not the cache: a key
   * deleted on any node must stop signing at once. Undefined when it does not exist.
   */
  async signingKey(
    sid: string,
  ): Promise<{ accountSid: string; secret: string | null } | undefined> {
    if (!isSid(sid, 'SK')) return undefined;
    const row = await this.db
      .selectFrom('api_keys')
      .select(['account_sid', 'signing_secret', 'seal_key_id', 'policy'])
      .where('sid', '=', sid)
      .executeTakeFirst();
    // Restricted keys sign no AccessTokens (as on Twilio): to a token, such a key is unknown.
    if (row?.policy) return undefined;
    return (
      row && {
        accountSid: row.account_sid,
        secret: this.secrets.openKeySecret(sid, row.signing_secret, row.seal_key_id),
      }
    );
  }

  /** The account a key belongs to, or undefined when there is no such key. */
  async keyAccount(sid: string): Promise<string | undefined> {
    return (await this.findKeyRow(sid))?.account_sid;
  }

  async getKey(accountSid: string, sid: string): Promise<KeyRow> {
    const row = isSid(sid, 'SK') ? await this.findKeyRow(sid) : undefined;
    if (!row || row.account_sid !== accountSid) fail('notFound', `Key ${sid.slice(0, 40)}`);
    return row;
  }

  /**
   * Renames a key; a restricted key's policy may be replaced too (a standard key stays
   * standard). A new policy holds on this node at once and on the others within CACHE_TTL_MS.
   */
  async updateKey(
    accountSid: string,
    sid: string,
    friendlyName: string | undefined,
    allow?: readonly string[],
  ): Promise<KeyRow> {
    const row = await this.getKey(accountSid, sid);
    if (allow && !row.policy) fail('policyConstraint', 'a standard key takes no Policy');
    const next = {
      ...row,
      friendly_name: friendlyName ?? row.friendly_name,
      policy: allow ? JSON.stringify({ allow }) : (row.policy ?? null),
      date_updated: Date.now(),
    };
    await this.db
      .updateTable('api_keys')
      .set({
        friendly_name: next.friendly_name,
        policy: next.policy,
        date_updated: next.date_updated,
      })
      .where('sid', '=', sid)
      .execute();
    this.keyCache.delete(sid);
    if (allow) this.verified.clear();
    return next;
  }

  async deleteKey(accountSid: string, sid: string): Promise<void> {
    await this.getKey(accountSid, sid);
    await this.db.deleteFrom('api_keys').where('sid', '=', sid).execute();
    this.keyCache.delete(sid);
    this.verified.clear();
  }

  async listKeys(accountSid: string, cursor: PageCursor): Promise<KeysetPage<KeyRow>> {
    const q = this.db.selectFrom('api_keys').selectAll().where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async subaccountsOf(sid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .select('sid')
      .where('parent_sid', '=', sid)
      .execute();
    return rows.map((r) => r.sid);
  }

  /** All accounts, for the operator's CLI. */
  async listAll(): Promise<AccountRow[]> {
    const records = await this.db
      .selectFrom('accounts')
      .selectAll()
      .orderBy('date_created')
      .orderBy('sid')
      .execute();
    return records.map((r: AccountRecord) => this.secrets.openAccount(r));
  }
}
