// SMS and IP Commands: data sent to a device, queued per SIM until its data session carries
// them (delivery.ts). Each is a priority or a bulk flow, by the fleet's rules when queued.
import { fail } from '../core/errors.js';
import { newTimeOrderedSid } from '../core/sid.js';
import {
  NEWEST_FIRST,
  selectPage,
  type PageCursor,
  type KeysetPage,
  type Kysely,
  type Statement,
  type Store,
} from '../store/index.js';
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
  constructor(private readonly store: Store) {
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
      callbacks_sent: 0,
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
    cursor: PageCursor,
  ): Promise<KeysetPage<CommandRow>> {
    let q = this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('account_sid', '=', accountSid)
      .where('kind', '=', kind);
    if (filter.sim) q = q.where('sim_sid', '=', filter.sim);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.direction) q = q.where('direction', '=', filter.direction);
    return selectPage(q, cursor, NEWEST_FIRST);
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

  /** A command by its SID, whatever its account (the callback sender's read). */
  async bySid(sid: string): Promise<CommandRow | undefined> {
    return this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('sid', '=', sid)
      .executeTakeFirst();
  }

  /**
   * Marks a command delivered (an SMS Command: delivered; an IP Command: sent), committing
   * `with` (its status callbacks' job) in the same unit; false when another node took it first
   * (the status guard makes a command leave once even with several nodes pumping).
   */
  async markDelivered(
    row: CommandRow,
    seq: number,
    withStatements: (row: CommandRow) => Statement[],
  ): Promise<boolean> {
    const status = row.kind === 'sms' ? 'delivered' : 'sent';
    return this.settle(row, { status, delivery_seq: seq }, withStatements);
  }

  /** Fails a queued command (its SIM was deactivated, or it expired); false when it had left. */
  async markFailed(
    row: CommandRow,
    withStatements: (row: CommandRow) => Statement[],
  ): Promise<boolean> {
    return this.settle(row, { status: 'failed' }, withStatements);
  }

  private async settle(
    row: CommandRow,
    change: { status: string; delivery_seq?: number },
    withStatements: (row: CommandRow) => Statement[],
  ): Promise<boolean> {
    const now = Date.now();
    const update = this.db
      .updateTable('supersim_commands')
      .set({ ...change, date_updated: now })
      .where('sid', '=', row.sid)
      .where('status', '=', 'queued')
      .returning('sid')
      .compile();
    // The job is added even when another node settled the command first: its id is the
    // command's SID, so the two adds are one job.
    const [updated] = await this.store.commit([
      update,
      ...withStatements({ ...row, ...change, date_updated: now }),
    ]);
    return updated?.length === 1;
  }

  /** Queued commands created before `before` (ms), oldest first: the expiry sweep's work. */
  async queuedBefore(before: number, limit: number): Promise<CommandRow[]> {
    return this.db
      .selectFrom('supersim_commands')
      .selectAll()
      .where('status', '=', 'queued')
      .where('date_created', '<', before)
      .orderBy('date_created')
      .limit(limit)
      .execute();
  }

  /** Records that the first `n` status callbacks of a command were answered. */
  async callbacksSent(sid: string, n: number): Promise<void> {
    await this.db
      .updateTable('supersim_commands')
      .set({ callbacks_sent: n })
      .where('sid', '=', sid)
      .where('callbacks_sent', '<', n)
      .execute();
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
