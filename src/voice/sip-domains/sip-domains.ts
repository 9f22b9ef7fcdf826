// SIP Domains, CredentialLists, Credentials and the mappings between them (Twilio's
// /SIP resources), and the two questions the telephony edge asks of them: may this phone
// register to this domain with these credentials, and where are an account's clients.
import { randomBytes } from 'node:crypto';
import { Errors, TwilioError, fail, isSid, newSid, type Logger } from '../../core/index.js';
import type { Kysely, Store } from '../../store/index.js';
import { SecretBox } from './secret-box.js';
import type {
  CredentialListMappingRow,
  CredentialListRow,
  CredentialRow,
  MappingKind,
  SipDomainRow,
  SipDomainTables,
} from './tables.js';

type Page = { size: number; after?: readonly (string | number)[] | undefined };

/** Twilio's rule for SIP credential passwords: 12+ characters, a digit, mixed case. */
export function isStrongSipPassword(p: string): boolean {
  return p.length >= 12 && /\d/.test(p) && /[a-z]/.test(p) && /[A-Z]/.test(p);
}

/** A host name (RFC 1123 labels); DomainName is not limited to *.sip.twilio.com here. */
const HOST =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** SIP user part characters (RFC 3261 unreserved + user-unreserved), as a digest username. */
const USERNAME = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,32}$/;

export type DomainInput = Partial<
  Omit<SipDomainRow, 'sid' | 'account_sid' | 'date_created' | 'date_updated'>
>;

/** What the registrar needs for one domain (structurally the SIP edge's DomainDecision). */
export type RegistrationPolicy =
  | {
      realm: string;
      owner: string;
      lookup: (username: string) => Promise<{ password: string } | undefined>;
    }
  | { refuse: 403 | 404; reason: string };

/** How an INVITE to a domain is handled: its VoiceUrl, behind the credentials mapped for calls. */
export interface CallPolicy {
  readonly domainSid: string;
  readonly accountSid: string;
  /** The domain name: the digest realm of the challenge. */
  readonly realm: string;
  readonly voiceUrl: string | null;
  readonly voiceMethod: 'GET' | 'POST';
  readonly voiceFallbackUrl: string | null;
  readonly voiceFallbackMethod: 'GET' | 'POST';
  readonly statusCallback: string | null;
  readonly statusCallbackMethod: 'GET' | 'POST';
  /** undefined when no list is mapped for calls: Twilio blocks such calls, and so do we. */
  readonly lookup: ((username: string) => Promise<{ password: string } | undefined>) | undefined;
}

const method = (m: string): 'GET' | 'POST' => (m === 'GET' ? 'GET' : 'POST');

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === '23505' || String(e.message).includes('UNIQUE constraint failed');
}

function afterKey(page: Page): [number, string] | undefined {
  if (!page.after) return undefined;
  const [created, sid] = page.after;
  if (typeof created !== 'number' || typeof sid !== 'string') fail('invalidPageToken');
  return [created, sid];
}

export class SipDomains {
  private readonly db: Kysely<SipDomainTables>;
  private box: SecretBox | undefined;
  /** Earlier keys, by id: they open passwords not yet sealed again under the current one. */
  private earlier = new Map<string, SecretBox>();

  constructor(
    store: Store,
    private readonly logger: Logger,
    private readonly credentialKey: string | undefined,
    private readonly previousKeys: readonly string[] = [],
  ) {
    this.db = store.kysely<SipDomainTables>();
  }

  /**
   * Loads the credential key: the configured one, else one generated once and kept in the
   * database (shared by every node, but then a database dump holds both key and secrets).
   * Passwords sealed under an earlier key (SWITCHBOARD_SIP_CREDENTIAL_PREVIOUS_KEYS, or the key
   * kept in the database before one was configured) are sealed again under the current one.
   */
  async start(): Promise<void> {
    const kept = await this.keptKey(!this.credentialKey);
    if (this.credentialKey) {
      this.box = new SecretBox(this.credentialKey);
    } else {
      this.box = new SecretBox(kept!);
      this.logger.warn(
        'SWITCHBOARD_SIP_CREDENTIAL_KEY is not set: SIP credential passwords are sealed with a key kept in the database',
      );
    }
    const earlier = this.previousKeys.map((k) => new SecretBox(k));
    if (kept && this.credentialKey) earlier.push(new SecretBox(kept));
    this.earlier = new Map(
      earlier.filter((b) => b.keyId !== this.box!.keyId).map((b) => [b.keyId, b]),
    );
    await this.sealAgain();
  }

  /** The generated key kept in the database: made when `create` (no key configured). */
  private async keptKey(create: boolean): Promise<Buffer | undefined> {
    if (create) {
      await this.db
        .insertInto('sip_settings')
        .values({ name: 'credential_key', value: randomBytes(32).toString('base64') })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    }
    const row = await this.db
      .selectFrom('sip_settings')
      .select('value')
      .where('name', '=', 'credential_key')
      .executeTakeFirst();
    return row ? Buffer.from(row.value, 'base64') : undefined;
  }

  /**
   * Seals every password found under an earlier key again under the current one. A row is
   * replaced only if it is still what was read (a password set meanwhile, or another node
   * doing the same at its start, wins). Passwords under a key no one configured stay as they
   * are and are counted: they must be set again.
   */
  private async sealAgain(): Promise<void> {
    const current = this.secrets;
    const rows = await this.db
      .selectFrom('sip_credentials')
      .select(['sid', 'secret', 'key_id'])
      .where('key_id', '!=', current.keyId)
      .execute();
    let sealed = 0;
    let unopenable = 0;
    for (const row of rows) {
      const password = this.earlier.get(row.key_id)?.open(row.secret, row.sid);
      if (password === undefined) {
        unopenable++;
        continue;
      }
      await this.db
        .updateTable('sip_credentials')
        .set({ secret: current.seal(password, row.sid), key_id: current.keyId })
        .where('sid', '=', row.sid)
        .where('key_id', '=', row.key_id)
        .where('secret', '=', row.secret)
        .execute();
      sealed++;
    }
    if (sealed) this.logger.info({ credentials: sealed }, 'SIP credential passwords sealed again');
    if (unopenable)
      this.logger.error(
        { credentials: unopenable },
        'SIP credential passwords under a key that is not configured: set SWITCHBOARD_SIP_CREDENTIAL_PREVIOUS_KEYS or set the passwords again',
      );
  }

  private get secrets(): SecretBox {
    if (!this.box) throw new Error('SipDomains.start() was not awaited');
    return this.box;
  }

  // ------------------------------------------------------------ credential lists

  async createList(accountSid: string, friendlyName: string): Promise<CredentialListRow> {
    const name = friendlyName.trim();
    if (name === '' || name.length > 64)
      throw new TwilioError(
        Errors.credentialListInvalid,
        'FriendlyName must be 1 to 64 characters',
      );
    const now = Date.now();
    const row: CredentialListRow = {
      sid: newSid('CL'),
      account_sid: accountSid,
      friendly_name: name,
      date_created: now,
      date_updated: now,
    };
    await this.db
      .insertInto('sip_credential_lists')
      .values(row)
      .execute()
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new TwilioError(Errors.credentialListInvalid, `FriendlyName "${name}" is in use`);
        throw err;
      });
    return row;
  }

  async getList(accountSid: string, sid: string): Promise<CredentialListRow> {
    const row = isSid(sid, 'CL')
      ? await this.db
          .selectFrom('sip_credential_lists')
          .selectAll()
          .where('sid', '=', sid)
          .where('account_sid', '=', accountSid)
          .executeTakeFirst()
      : undefined;
    if (!row) fail('notFound', `CredentialList ${sid.slice(0, 40)}`);
    return row;
  }

  async renameList(
    accountSid: string,
    sid: string,
    friendlyName: string,
  ): Promise<CredentialListRow> {
    const row = await this.getList(accountSid, sid);
    const name = friendlyName.trim();
    if (name === '' || name.length > 64)
      throw new TwilioError(
        Errors.credentialListInvalid,
        'FriendlyName must be 1 to 64 characters',
      );
    const next = { ...row, friendly_name: name, date_updated: Date.now() };
    await this.db
      .updateTable('sip_credential_lists')
      .set({ friendly_name: name, date_updated: next.date_updated })
      .where('sid', '=', sid)
      .execute()
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new TwilioError(Errors.credentialListInvalid, `FriendlyName "${name}" is in use`);
        throw err;
      });
    return next;
  }

  /** Deletes the list, its credentials and every mapping of it. */
  async deleteList(accountSid: string, sid: string): Promise<void> {
    await this.getList(accountSid, sid);
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('sip_credential_list_mappings')
        .where('credential_list_sid', '=', sid)
        .execute();
      await tx.deleteFrom('sip_credentials').where('credential_list_sid', '=', sid).execute();
      await tx.deleteFrom('sip_credential_lists').where('sid', '=', sid).execute();
    });
  }

  async lists(accountSid: string, page: Page): Promise<CredentialListRow[]> {
    let q = this.db
      .selectFrom('sip_credential_lists')
      .selectAll()
      .where('account_sid', '=', accountSid);
    const after = afterKey(page);
    if (after)
      q = q.where((eb) =>
        eb(eb.refTuple('date_created', 'sid'), '>', eb.tuple(after[0], after[1])),
      );
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(page.size + 1)
      .execute();
  }

  // ------------------------------------------------------------ credentials

  private checkPassword(password: string): void {
    if (!isStrongSipPassword(password)) throw new TwilioError(Errors.weakSipPassword);
  }

  async createCredential(
    accountSid: string,
    listSid: string,
    username: string,
    password: string,
  ): Promise<CredentialRow> {
    await this.getList(accountSid, listSid);
    if (!USERNAME.test(username))
      throw new TwilioError(
        Errors.credentialListInvalid,
        'Username must be 1 to 32 characters allowed in a SIP user part',
      );
    this.checkPassword(password);
    const now = Date.now();
    const sid = newSid('CR');
    const row: CredentialRow = {
      sid,
      account_sid: accountSid,
      credential_list_sid: listSid,
      username,
      secret: this.secrets.seal(password, sid),
      key_id: this.secrets.keyId,
      date_created: now,
      date_updated: now,
    };
    await this.db
      .insertInto('sip_credentials')
      .values(row)
      .execute()
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new TwilioError(
            Errors.credentialInvalid,
            `Username "${username}" is already in this list`,
          );
        throw err;
      });
    return row;
  }

  async getCredential(accountSid: string, listSid: string, sid: string): Promise<CredentialRow> {
    await this.getList(accountSid, listSid);
    const row = isSid(sid, 'CR')
      ? await this.db
          .selectFrom('sip_credentials')
          .selectAll()
          .where('sid', '=', sid)
          .where('credential_list_sid', '=', listSid)
          .executeTakeFirst()
      : undefined;
    if (!row) fail('notFound', `Credential ${sid.slice(0, 40)}`);
    return row;
  }

  async updateCredential(
    accountSid: string,
    listSid: string,
    sid: string,
    password: string | undefined,
  ): Promise<CredentialRow> {
    const row = await this.getCredential(accountSid, listSid, sid);
    if (password === undefined) return row;
    this.checkPassword(password);
    const next: CredentialRow = {
      ...row,
      secret: this.secrets.seal(password, sid),
      key_id: this.secrets.keyId,
      date_updated: Date.now(),
    };
    await this.db
      .updateTable('sip_credentials')
      .set({ secret: next.secret, key_id: next.key_id, date_updated: next.date_updated })
      .where('sid', '=', sid)
      .execute();
    return next;
  }

  async deleteCredential(accountSid: string, listSid: string, sid: string): Promise<void> {
    await this.getCredential(accountSid, listSid, sid);
    await this.db.deleteFrom('sip_credentials').where('sid', '=', sid).execute();
  }

  async credentials(accountSid: string, listSid: string, page: Page): Promise<CredentialRow[]> {
    await this.getList(accountSid, listSid);
    let q = this.db
      .selectFrom('sip_credentials')
      .selectAll()
      .where('credential_list_sid', '=', listSid);
    const after = afterKey(page);
    if (after)
      q = q.where((eb) =>
        eb(eb.refTuple('date_created', 'sid'), '>', eb.tuple(after[0], after[1])),
      );
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(page.size + 1)
      .execute();
  }

  // ------------------------------------------------------------ domains

  private domainName(raw: string): string {
    const name = raw.trim().toLowerCase().replace(/\.$/, '');
    if (!HOST.test(name) || /^[\d.]+$/.test(name))
      throw new TwilioError(
        Errors.sipDomainInvalid,
        'DomainName must be a host name (letters, digits, "-" and dots)',
      );
    return name;
  }

  async createDomain(
    accountSid: string,
    domainName: string,
    input: DomainInput,
  ): Promise<SipDomainRow> {
    const now = Date.now();
    const row: SipDomainRow = {
      sid: newSid('SD'),
      account_sid: accountSid,
      domain_name: this.domainName(domainName),
      friendly_name: input.friendly_name ?? null,
      voice_url: input.voice_url ?? null,
      voice_method: input.voice_method ?? 'POST',
      voice_fallback_url: input.voice_fallback_url ?? null,
      voice_fallback_method: input.voice_fallback_method ?? 'POST',
      voice_status_callback_url: input.voice_status_callback_url ?? null,
      voice_status_callback_method: input.voice_status_callback_method ?? 'POST',
      sip_registration: input.sip_registration ?? 0,
      emergency_calling_enabled: input.emergency_calling_enabled ?? 0,
      secure: input.secure ?? 0,
      byoc_trunk_sid: input.byoc_trunk_sid ?? null,
      emergency_caller_sid: input.emergency_caller_sid ?? null,
      date_created: now,
      date_updated: now,
    };
    await this.insertOrUpdateDomain(row, 'insert');
    return row;
  }

  private async insertOrUpdateDomain(row: SipDomainRow, op: 'insert' | 'update'): Promise<void> {
    const taken = await this.db
      .selectFrom('sip_domains')
      .select('sid')
      .where('domain_name', '=', row.domain_name)
      .where('sid', '!=', row.sid)
      .executeTakeFirst();
    const inUse = () => new TwilioError(Errors.sipDomainNameInUse, row.domain_name);
    if (taken) throw inUse();
    const write =
      op === 'insert'
        ? this.db.insertInto('sip_domains').values(row).execute()
        : (() => {
            const { sid, account_sid: _a, date_created: _c, ...set } = row;
            return this.db.updateTable('sip_domains').set(set).where('sid', '=', sid).execute();
          })();
    await write.catch((err: unknown) => {
      if (isUniqueViolation(err)) throw inUse();
      throw err;
    });
  }

  async getDomain(accountSid: string, sid: string): Promise<SipDomainRow> {
    const row = isSid(sid, 'SD')
      ? await this.db
          .selectFrom('sip_domains')
          .selectAll()
          .where('sid', '=', sid)
          .where('account_sid', '=', accountSid)
          .executeTakeFirst()
      : undefined;
    if (!row) fail('notFound', `Domain ${sid.slice(0, 40)}`);
    return row;
  }

  async updateDomain(accountSid: string, sid: string, input: DomainInput): Promise<SipDomainRow> {
    const row = await this.getDomain(accountSid, sid);
    const defined = Object.fromEntries(
      Object.entries(input).filter(([, v]) => v !== undefined),
    ) as DomainInput;
    if (defined.domain_name !== undefined)
      defined.domain_name = this.domainName(defined.domain_name);
    const next: SipDomainRow = { ...row, ...defined, date_updated: Date.now() };
    await this.insertOrUpdateDomain(next, 'update');
    return next;
  }

  async deleteDomain(accountSid: string, sid: string): Promise<void> {
    await this.getDomain(accountSid, sid);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('sip_credential_list_mappings').where('domain_sid', '=', sid).execute();
      await tx.deleteFrom('sip_domains').where('sid', '=', sid).execute();
    });
  }

  async domains(accountSid: string, page: Page): Promise<SipDomainRow[]> {
    let q = this.db.selectFrom('sip_domains').selectAll().where('account_sid', '=', accountSid);
    const after = afterKey(page);
    if (after)
      q = q.where((eb) =>
        eb(eb.refTuple('date_created', 'sid'), '>', eb.tuple(after[0], after[1])),
      );
    return q
      .orderBy('date_created')
      .orderBy('sid')
      .limit(page.size + 1)
      .execute();
  }

  /** `CREDENTIAL_LIST` when any list is mapped (IP access control lists are not supported). */
  async authType(domainSid: string): Promise<string | null> {
    const m = await this.db
      .selectFrom('sip_credential_list_mappings')
      .select('credential_list_sid')
      .where('domain_sid', '=', domainSid)
      .executeTakeFirst();
    return m ? 'CREDENTIAL_LIST' : null;
  }

  // ------------------------------------------------------------ mappings

  async map(
    accountSid: string,
    domainSid: string,
    kind: MappingKind,
    listSid: string,
  ): Promise<{ mapping: CredentialListMappingRow; list: CredentialListRow }> {
    await this.getDomain(accountSid, domainSid);
    // A list of another account is as unknown as a missing one.
    const list = await this.getList(accountSid, listSid);
    const now = Date.now();
    const mapping: CredentialListMappingRow = {
      domain_sid: domainSid,
      kind,
      credential_list_sid: listSid,
      account_sid: accountSid,
      date_created: now,
      date_updated: now,
    };
    await this.db
      .insertInto('sip_credential_list_mappings')
      .values(mapping)
      .execute()
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new TwilioError(Errors.credentialListMappingExists, listSid);
        throw err;
      });
    return { mapping, list };
  }

  async mapping(
    accountSid: string,
    domainSid: string,
    kind: MappingKind,
    listSid: string,
  ): Promise<{ mapping: CredentialListMappingRow; list: CredentialListRow }> {
    await this.getDomain(accountSid, domainSid);
    const found = isSid(listSid, 'CL')
      ? await this.db
          .selectFrom('sip_credential_list_mappings as m')
          .innerJoin('sip_credential_lists as l', 'l.sid', 'm.credential_list_sid')
          .select([
            'm.domain_sid',
            'm.kind',
            'm.credential_list_sid',
            'm.account_sid',
            'm.date_created',
            'm.date_updated',
            'l.friendly_name',
          ])
          .where('m.domain_sid', '=', domainSid)
          .where('m.kind', '=', kind)
          .where('m.credential_list_sid', '=', listSid)
          .executeTakeFirst()
      : undefined;
    if (!found) fail('notFound', `CredentialListMapping ${listSid.slice(0, 40)}`);
    const { friendly_name, ...mapping } = found;
    return {
      mapping,
      list: {
        sid: listSid,
        account_sid: accountSid,
        friendly_name,
        date_created: found.date_created,
        date_updated: found.date_updated,
      },
    };
  }

  async unmap(
    accountSid: string,
    domainSid: string,
    kind: MappingKind,
    listSid: string,
  ): Promise<void> {
    await this.mapping(accountSid, domainSid, kind, listSid);
    await this.db
      .deleteFrom('sip_credential_list_mappings')
      .where('domain_sid', '=', domainSid)
      .where('kind', '=', kind)
      .where('credential_list_sid', '=', listSid)
      .execute();
  }

  async mappings(
    accountSid: string,
    domainSid: string,
    kind: MappingKind,
    page: Page,
  ): Promise<Array<{ mapping: CredentialListMappingRow; friendlyName: string }>> {
    await this.getDomain(accountSid, domainSid);
    let q = this.db
      .selectFrom('sip_credential_list_mappings as m')
      .innerJoin('sip_credential_lists as l', 'l.sid', 'm.credential_list_sid')
      .select([
        'm.domain_sid',
        'm.kind',
        'm.credential_list_sid',
        'm.account_sid',
        'm.date_created',
        'm.date_updated',
        'l.friendly_name',
      ])
      .where('m.domain_sid', '=', domainSid)
      .where('m.kind', '=', kind);
    const after = afterKey(page);
    if (after)
      q = q.where((eb) =>
        eb(
          eb.refTuple('m.date_created', 'm.credential_list_sid'),
          '>',
          eb.tuple(after[0], after[1]),
        ),
      );
    const rows = await q
      .orderBy('m.date_created')
      .orderBy('m.credential_list_sid')
      .limit(page.size + 1)
      .execute();
    return rows.map(({ friendly_name, ...mapping }) => ({ mapping, friendlyName: friendly_name }));
  }

  // ------------------------------------------------------------ what the SIP edge asks

  /**
   * The registration policy of `host` (lower case): unknown domain → 404, SipRegistration
   * false → 403, else the domain name as realm and the credentials of the lists mapped for
   * registrations. Database errors propagate (the registrar answers 503 + Retry-After).
   */
  async registrationPolicy(host: string): Promise<RegistrationPolicy> {
    const domain = await this.db
      .selectFrom('sip_domains')
      .select(['sid', 'account_sid', 'domain_name', 'sip_registration'])
      .where('domain_name', '=', host)
      .executeTakeFirst();
    if (!domain) return { refuse: 404, reason: 'Not Found (no such domain)' };
    if (domain.sip_registration !== 1)
      return { refuse: 403, reason: 'Forbidden (registration is disabled on this domain)' };
    return {
      realm: domain.domain_name,
      owner: domain.account_sid,
      lookup: (username) => this.credentialFor(domain.sid, 'registrations', username),
    };
  }

  private async credentialFor(
    domainSid: string,
    kind: MappingKind,
    username: string,
  ): Promise<{ password: string } | undefined> {
    // Oldest mapping first: with one username in two mapped lists, the older list decides.
    const rows = await this.db
      .selectFrom('sip_credential_list_mappings as m')
      .innerJoin('sip_credentials as c', 'c.credential_list_sid', 'm.credential_list_sid')
      .select(['c.sid', 'c.secret', 'c.key_id'])
      .where('m.domain_sid', '=', domainSid)
      .where('m.kind', '=', kind)
      .where('c.username', '=', username)
      .orderBy('m.date_created')
      .orderBy('c.sid')
      .limit(1)
      .execute();
    const row = rows[0];
    if (!row) return undefined;
    // A row under an earlier key: another node sealed it before this one was told of the new key.
    const box = row.key_id === this.secrets.keyId ? this.secrets : this.earlier.get(row.key_id);
    const password = box?.open(row.secret, row.sid);
    if (password === undefined) {
      this.logger.error(
        { credentialSid: row.sid, keyId: row.key_id },
        'SIP credential cannot be opened with the configured SWITCHBOARD_SIP_CREDENTIAL_KEY; set its password again',
      );
      return undefined;
    }
    return { password };
  }

  /** The call policy of the domain named `host` (lower case); undefined when it is not one. */
  async callPolicy(host: string): Promise<CallPolicy | undefined> {
    const d = await this.db
      .selectFrom('sip_domains')
      .selectAll()
      .where('domain_name', '=', host)
      .executeTakeFirst();
    if (!d) return undefined;
    const mapped = await this.db
      .selectFrom('sip_credential_list_mappings')
      .select('credential_list_sid')
      .where('domain_sid', '=', d.sid)
      .where('kind', '=', 'calls')
      .executeTakeFirst();
    return {
      domainSid: d.sid,
      accountSid: d.account_sid,
      realm: d.domain_name,
      voiceUrl: d.voice_url,
      voiceMethod: method(d.voice_method),
      voiceFallbackUrl: d.voice_fallback_url,
      voiceFallbackMethod: method(d.voice_fallback_method),
      statusCallback: d.voice_status_callback_url,
      statusCallbackMethod: method(d.voice_status_callback_method),
      lookup: mapped ? (username) => this.credentialFor(d.sid, 'calls', username) : undefined,
    };
  }

  /** The names of the account's domains that take registrations: where its clients register. */
  async clientDomains(accountSid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('sip_domains')
      .select('domain_name')
      .where('account_sid', '=', accountSid)
      .where('sip_registration', '=', 1)
      .execute();
    return rows.map((r) => r.domain_name);
  }
}
