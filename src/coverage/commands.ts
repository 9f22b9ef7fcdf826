// SMS and IP Commands: data sent to a device, queued per SIM until its data session carries
// them (delivery.ts). Each is a priority or a bulk flow, by the fleet's rules when queued.
import { fail } from '../core/errors.js';
import { newTimeOrderedSid } from '../core/sid.js';
import { keysetPage, type KeysetPage, type Kysely, type Store } from '../store/index.js';
import type { CommandRow, CoverageTables } from './tables.js';

export type CommandKind = 'sms' | 'ip';

export interface NewCommand {
  readonly kind: CommandKind;
  readonly simSid: string;
  readonly payload: string;
  readonly payloadType: 'text' | 'binary';
  readonly devicePort: number | null;
  readonly priority: boolean;
  readonly callbackUrl: string | null;
  readonly callbackMethod: string;
}

export interface CommandFilter {
  readonly sim?: string | undefined;
  readonly status?: string | undefined;
  readonly direction?: string | undefined;
}

export class CommandStore {
  private readonly db: Kysely<CoverageTables>;
  constructor(store: Store) {
    this.db = store.kysely<CoverageTables>();
  }

  async queue(accountSid: string, c: NewCommand): Promise<CommandRow> {
    const now = Date.now();
    const row: CommandRow = {
      sid: newTimeOrderedSid(c.kind === 'sms' ? 'HC' : 'HG'),
      account_sid: accountSid,
      sim_sid: c.simSid,
      kind: c.kind,
      status: 'queued',
      direction: 'to_sim',
      payload: c.payload,
      payload_type: c.payloadType,
      device_port: c.devicePort,
      priority: c.priority ? 1 : 0,
      callback_url: c.callbackUrl,
      callback_method: c.callbackMethod,
      delivery_seq: null,
      date_created: now,
      date_updated: now,
    };
    await this.db.insertInto('supersim_commands').values(row).execute();
    return row;
  }

  async get(accountSid: string, kind: CommandKind, sid: string): Promise<CommandRow> {
    const row = await this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('kind', '=', kind)
      .where('sid', '=', sid)
      .executeTakeFirst();
    return row ?? fail('notFound', `${kind === 'sms' ? 'SmsCommand' : 'IpCommand'} ${sid}`);
  }

  async list(
    accountSid: string,
    kind: CommandKind,
    filter: CommandFilter,
    size: number,
    after: readonly [number, string] | undefined,
  ): Promise<KeysetPage<CommandRow>> {
    let q = this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('kind', '=', kind);
    if (filter.sim) q = q.where('sim_sid', '=', filter.sim);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.direction) q = q.where('direction', '=', filter.direction);
    return keysetPage(q, 'newest-first', size, after);
  }

  /** A SIM's queued commands in the order the data session would take them when FIFO. */
  async queued(simSid: string, limit: number): Promise<CommandRow[]> {
    return this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('sim_sid', '=', simSid)
      .where('status', '=', 'queued')
      .orderBy('date_created')
      .orderBy('sid')
      .limit(limit)
      .execute();
  }

  /** SIMs with queued commands (the delivery pump's work list). */
  async simsWithQueued(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('supersim_commands')
      .select('sim_sid')
      .distinct()
      .where('status', '=', 'queued')
      .limit(limit)
      .execute();
    return rows.map((r) => r.sim_sid);
  }

  /**
   * Marks a command delivered; false when another node took it first (the status guard makes
   * a command leave once even with several nodes pumping).
   */
  async markDelivered(row: CommandRow, seq: number): Promise<boolean> {
    const res = await this.db
      .updateTable('supersim_commands')
      .set({
        status: row.kind === 'sms' ? 'delivered' : 'sent',
        delivery_seq: seq,
        date_updated: Date.now(),
      })
      .where('sid', '=', row.sid)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async addUsage(
    accountSid: string,
    simSid: string,
    fleetSid: string | null,
    networkSid: string,
    bytesDown: number,
    at: number,
  ): Promise<void> {
    const hour = Math.floor(at / 3600_000) * 3600_000;
    await this.db
      .insertInto('supersim_usage')
      .values({
        account_sid: accountSid,
        sim_sid: simSid,
        fleet_sid: fleetSid,
        network_sid: networkSid,
        hour,
        data_upload: 0,
        data_download: bytesDown,
      })
      .onConflict((oc) =>
        oc.columns(['sim_sid', 'network_sid', 'hour']).doUpdateSet((eb) => ({
          data_download: eb('supersim_usage.data_download', '+', bytesDown),
        })),
      )
      .execute();
  }

  async usage(
    accountSid: string,
    filter: {
      sim?: string | undefined;
      fleet?: string | undefined;
      network?: string | undefined;
      start: number;
      end: number;
    },
  ): Promise<
    {
      sim_sid: string;
      fleet_sid: string | null;
      network_sid: string;
      hour: number;
      up: number;
      down: number;
    }[]
  > {
    let q = this.db
      .selectFrom('supersim_usage')
      .select([
        'sim_sid',
        'fleet_sid',
        'network_sid',
        'hour',
        'data_upload as up',
        'data_download as down',
      ])
      .where('account_sid', '=', accountSid)
      .where('hour', '>=', filter.start)
      .where('hour', '<', filter.end);
    if (filter.sim) q = q.where('sim_sid', '=', filter.sim);
    if (filter.fleet) q = q.where('fleet_sid', '=', filter.fleet);
    if (filter.network) q = q.where('network_sid', '=', filter.network);
    const rows = await q.orderBy('hour').execute();
    return rows.map((r) => ({
      ...r,
      hour: Number(r.hour),
      up: Number(r.up),
      down: Number(r.down),
    }));
  }
}
