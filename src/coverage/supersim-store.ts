// Queries of the Super SIM resources: networks, network access profiles, fleets and SIMs.
// Commands have their own store (commands.ts). Every read is scoped to the account.
import { fail } from '../core/errors.js';
import { isSid, newSid } from '../core/sid.js';
import {
  OLDEST_FIRST,
  selectPage,
  type PageCursor,
  type KeysetPage,
  type Kysely,
  type Store,
} from '../store/index.js';
import type { CoverageTables, FleetRow, NetworkRow, ProfileRow, SimRow } from './tables.js';

export interface NetworkInput {
  readonly friendlyName: string;
  readonly isoCountry: string;
  readonly identifiers: readonly { mcc: string; mnc: string }[];
  readonly switchCostS: number;
}

export interface FleetInput {
  readonly uniqueName?: string | undefined;
  readonly networkAccessProfile?: string | undefined;
  readonly dataEnabled?: boolean | undefined;
  readonly dataLimit?: number | undefined;
  readonly smsCommandsEnabled?: boolean | undefined;
  readonly smsCommandsUrl?: string | undefined;
  readonly smsCommandsMethod?: string | undefined;
  readonly ipCommandsUrl?: string | undefined;
  readonly ipCommandsMethod?: string | undefined;
}

export interface SimUpdate {
  readonly uniqueName?: string | undefined;
  readonly status?: string | undefined;
  readonly fleet?: string | undefined;
  readonly callbackUrl?: string | undefined;
  readonly callbackMethod?: string | undefined;
}

/** A SQLite or PostgreSQL unique-constraint violation. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '');
}

export class SuperSimStore {
  private readonly db: Kysely<CoverageTables>;
  constructor(store: Store) {
    this.db = store.kysely<CoverageTables>();
  }

  // ---------------------------------------------------------------- networks
  async createNetwork(accountSid: string, input: NetworkInput): Promise<NetworkRow> {
    const row: NetworkRow = {
      sid: newSid('HW'),
      account_sid: accountSid,
      friendly_name: input.friendlyName,
      iso_country: input.isoCountry,
      identifiers: JSON.stringify(input.identifiers),
      switch_cost_s: input.switchCostS,
      date_created: Date.now(),
    };
    await this.db.insertInto('supersim_networks').values(row).execute();
    return row;
  }

  async network(accountSid: string, sid: string): Promise<NetworkRow> {
    const row = await this.db
      .selectFrom('supersim_networks')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('sid', '=', sid)
      .executeTakeFirst();
    return row ?? fail('unknownNetwork', sid);
  }

  async networks(
    accountSid: string,
    filter: { isoCountry?: string | undefined },
    cursor: PageCursor,
  ): Promise<KeysetPage<NetworkRow>> {
    let q = this.db
      .selectFrom('supersim_networks')
      .selectAll()
      .where('account_sid', '=', accountSid);
    if (filter.isoCountry) q = q.where('iso_country', '=', filter.isoCountry);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  // ---------------------------------------------------------------- network access profiles
  async createProfile(
    accountSid: string,
    uniqueName: string | undefined,
    networks: readonly string[],
  ): Promise<ProfileRow> {
    const now = Date.now();
    for (const n of networks) await this.network(accountSid, n);
    const row: ProfileRow = {
      sid: newSid('HA'),
      account_sid: accountSid,
      unique_name: uniqueName ?? null,
      date_created: now,
      date_updated: now,
    };
    try {
      await this.db.transaction().execute(async (tx) => {
        await tx.insertInto('supersim_profiles').values(row).execute();
        for (const n of new Set(networks))
          await tx
            .insertInto('supersim_profile_networks')
            .values({ profile_sid: row.sid, network_sid: n, date_created: now })
            .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) fail('uniqueNameInUse', uniqueName);
      throw err;
    }
    return row;
  }

  /** A profile by SID or unique name. */
  async profile(accountSid: string, sidOrName: string): Promise<ProfileRow> {
    const row = await this.db
      .selectFrom('supersim_profiles')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where(isSid(sidOrName, 'HA') ? 'sid' : 'unique_name', '=', sidOrName)
      .executeTakeFirst();
    return row ?? fail('notFound', `NetworkAccessProfile ${sidOrName}`);
  }

  async renameProfile(accountSid: string, sid: string, uniqueName: string): Promise<ProfileRow> {
    const row = await this.profile(accountSid, sid);
    try {
      await this.db
        .updateTable('supersim_profiles')
        .set({ unique_name: uniqueName, date_updated: Date.now() })
        .where('sid', '=', row.sid)
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) fail('uniqueNameInUse', uniqueName);
      throw err;
    }
    return this.profile(accountSid, row.sid);
  }

  async profiles(accountSid: string, cursor: PageCursor): Promise<KeysetPage<ProfileRow>> {
    const q = this.db
      .selectFrom('supersim_profiles')
      .selectAll()
      .where('account_sid', '=', accountSid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  async profileNetworks(
    accountSid: string,
    profileSid: string,
    cursor: PageCursor,
  ): Promise<KeysetPage<NetworkRow>> {
    const profile = await this.profile(accountSid, profileSid);
    const q = this.db
      .selectFrom('supersim_networks')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('sid', 'in', (s) =>
        s
          .selectFrom('supersim_profile_networks')
          .select('network_sid')
          .where('profile_sid', '=', profile.sid),
      );
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  /** The SIDs of a profile's networks, for the steering decisions. */
  async profileNetworkSids(profileSid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('supersim_profile_networks')
      .select('network_sid')
      .where('profile_sid', '=', profileSid)
      .orderBy('date_created')
      .orderBy('network_sid')
      .execute();
    return rows.map((r) => r.network_sid);
  }

  async addProfileNetwork(
    accountSid: string,
    profileSid: string,
    networkSid: string,
  ): Promise<NetworkRow> {
    const profile = await this.profile(accountSid, profileSid);
    const network = await this.network(accountSid, networkSid);
    try {
      await this.db
        .insertInto('supersim_profile_networks')
        .values({ profile_sid: profile.sid, network_sid: network.sid, date_created: Date.now() })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) fail('conflict', `${networkSid} is already in the profile`);
      throw err;
    }
    return network;
  }

  async profileNetwork(
    accountSid: string,
    profileSid: string,
    networkSid: string,
  ): Promise<NetworkRow> {
    const profile = await this.profile(accountSid, profileSid);
    const link = await this.db
      .selectFrom('supersim_profile_networks')
      .select('network_sid')
      .where('profile_sid', '=', profile.sid)
      .where('network_sid', '=', networkSid)
      .executeTakeFirst();
    if (!link) fail('notFound', `Network ${networkSid} in ${profile.sid}`);
    return this.network(accountSid, networkSid);
  }

  async removeProfileNetwork(
    accountSid: string,
    profileSid: string,
    networkSid: string,
  ): Promise<void> {
    const profile = await this.profile(accountSid, profileSid);
    const res = await this.db
      .deleteFrom('supersim_profile_networks')
      .where('profile_sid', '=', profile.sid)
      .where('network_sid', '=', networkSid)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0)
      fail('notFound', `Network ${networkSid} in ${profile.sid}`);
  }

  // ---------------------------------------------------------------- fleets
  async createFleet(accountSid: string, input: FleetInput): Promise<FleetRow> {
    const profile = await this.profile(accountSid, input.networkAccessProfile ?? '');
    const now = Date.now();
    const row: FleetRow = {
      sid: newSid('HF'),
      account_sid: accountSid,
      unique_name: input.uniqueName ?? null,
      network_access_profile_sid: profile.sid,
      data_enabled: input.dataEnabled === false ? 0 : 1,
      data_limit: input.dataLimit ?? 1000,
      sms_commands_enabled: input.smsCommandsEnabled === false ? 0 : 1,
      sms_commands_url: input.smsCommandsUrl ?? null,
      sms_commands_method: input.smsCommandsMethod ?? 'POST',
      ip_commands_url: input.ipCommandsUrl ?? null,
      ip_commands_method: input.ipCommandsMethod ?? 'POST',
      date_created: now,
      date_updated: now,
    };
    try {
      await this.db.insertInto('supersim_fleets').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) fail('uniqueNameInUse', input.uniqueName);
      throw err;
    }
    return row;
  }

  /** A fleet by SID or unique name. */
  async fleet(accountSid: string, sidOrName: string): Promise<FleetRow> {
    const row = await this.db
      .selectFrom('supersim_fleets')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where(isSid(sidOrName, 'HF') ? 'sid' : 'unique_name', '=', sidOrName)
      .executeTakeFirst();
    return row ?? fail('notFound', `Fleet ${sidOrName}`);
  }

  async updateFleet(accountSid: string, sid: string, input: FleetInput): Promise<FleetRow> {
    const fleet = await this.fleet(accountSid, sid);
    const profile =
      input.networkAccessProfile !== undefined
        ? (await this.profile(accountSid, input.networkAccessProfile)).sid
        : undefined;
    const set: Partial<FleetRow> = { date_updated: Date.now() };
    if (input.uniqueName !== undefined) set.unique_name = input.uniqueName;
    if (profile !== undefined) set.network_access_profile_sid = profile;
    if (input.dataLimit !== undefined) set.data_limit = input.dataLimit;
    if (input.smsCommandsUrl !== undefined) set.sms_commands_url = input.smsCommandsUrl;
    if (input.smsCommandsMethod !== undefined) set.sms_commands_method = input.smsCommandsMethod;
    if (input.ipCommandsUrl !== undefined) set.ip_commands_url = input.ipCommandsUrl;
    if (input.ipCommandsMethod !== undefined) set.ip_commands_method = input.ipCommandsMethod;
    try {
      await this.db.updateTable('supersim_fleets').set(set).where('sid', '=', fleet.sid).execute();
    } catch (err) {
      if (isUniqueViolation(err)) fail('uniqueNameInUse', input.uniqueName);
      throw err;
    }
    return this.fleet(accountSid, fleet.sid);
  }

  async fleets(
    accountSid: string,
    profile: string | undefined,
    cursor: PageCursor,
  ): Promise<KeysetPage<FleetRow>> {
    let q = this.db.selectFrom('supersim_fleets').selectAll().where('account_sid', '=', accountSid);
    if (profile !== undefined)
      q = q.where('network_access_profile_sid', '=', (await this.profile(accountSid, profile)).sid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  // ---------------------------------------------------------------- SIMs
  async registerSim(accountSid: string, iccid: string): Promise<SimRow> {
    const now = Date.now();
    const row: SimRow = {
      sid: newSid('HS'),
      account_sid: accountSid,
      unique_name: null,
      iccid,
      status: 'new',
      fleet_sid: null,
      callback_url: null,
      callback_method: 'POST',
      date_created: now,
      date_updated: now,
    };
    try {
      await this.db.insertInto('supersim_sims').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) fail('simAlreadyRegistered', iccid);
      throw err;
    }
    return row;
  }

  /** A SIM by SID, unique name or ICCID. */
  async sim(accountSid: string, ref: string): Promise<SimRow> {
    const column = isSid(ref, 'HS') ? 'sid' : /^\d{18,22}$/.test(ref) ? 'iccid' : 'unique_name';
    const row = await this.db
      .selectFrom('supersim_sims')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where(column, '=', ref)
      .executeTakeFirst();
    return row ?? fail('notFound', `Sim ${ref}`);
  }

  /** A SIM by SID in any account (the data plane's view; callers check the owner). */
  async simAnyAccount(sid: string): Promise<SimRow | undefined> {
    return this.db
      .selectFrom('supersim_sims')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  async updateSim(accountSid: string, ref: string, update: SimUpdate): Promise<SimRow> {
    const sim = await this.sim(accountSid, ref);
    const set: Partial<SimRow> = { date_updated: Date.now() };
    if (update.uniqueName !== undefined) set.unique_name = update.uniqueName;
    if (update.fleet !== undefined)
      set.fleet_sid = (await this.fleet(accountSid, update.fleet)).sid;
    if (update.status !== undefined) {
      const fleet = set.fleet_sid ?? sim.fleet_sid;
      // Twilio: a SIM is activated only once it belongs to a Fleet.
      if (update.status !== 'inactive' && fleet === null)
        fail('invalidParameter', 'Status: the SIM must be assigned to a Fleet first');
      set.status = update.status;
    }
    if (update.callbackUrl !== undefined) set.callback_url = update.callbackUrl;
    if (update.callbackMethod !== undefined) set.callback_method = update.callbackMethod;
    await this.db.updateTable('supersim_sims').set(set).where('sid', '=', sim.sid).execute();
    return this.sim(accountSid, sim.sid);
  }

  async sims(
    accountSid: string,
    filter: { status?: string | undefined; fleet?: string | undefined; iccid?: string | undefined },
    cursor: PageCursor,
  ): Promise<KeysetPage<SimRow>> {
    let q = this.db.selectFrom('supersim_sims').selectAll().where('account_sid', '=', accountSid);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.iccid) q = q.where('iccid', '=', filter.iccid);
    if (filter.fleet)
      q = q.where('fleet_sid', '=', (await this.fleet(accountSid, filter.fleet)).sid);
    return selectPage(q, cursor, OLDEST_FIRST);
  }

  /** Active SIMs of a fleet's profile networks, by SIM: the steering's view of a SIM. */
  async simContext(
    sid: string,
  ): Promise<{ sim: SimRow; fleet: FleetRow | undefined; networks: string[] } | undefined> {
    const sim = await this.simAnyAccount(sid);
    if (!sim) return undefined;
    const fleet = sim.fleet_sid
      ? await this.db
          .selectFrom('supersim_fleets')
          .selectAll()
          .where('sid', '=', sim.fleet_sid)
          .executeTakeFirst()
      : undefined;
    const networks = fleet ? await this.profileNetworkSids(fleet.network_access_profile_sid) : [];
    return { sim, fleet, networks };
  }
}
