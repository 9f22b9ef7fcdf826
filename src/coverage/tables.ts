// The coverage capability's tables: the Super SIM resources (networks, network access
// profiles, fleets, SIMs, commands, usage) and the coverage map's cells and fleet rules.
// Times are epoch milliseconds.
import type { Migration } from '../store/index.js';

export interface NetworkRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  iso_country: string;
  /** JSON array of {mcc, mnc}. */
  identifiers: string;
  /** Modelled cost of switching a session onto this network, seconds without data. */
  switch_cost_s: number;
  date_created: number;
}

export interface ProfileRow {
  sid: string;
  account_sid: string;
  unique_name: string | null;
  date_created: number;
  date_updated: number;
}

export interface ProfileNetworkRow {
  profile_sid: string;
  network_sid: string;
  date_created: number;
}

export interface FleetRow {
  sid: string;
  account_sid: string;
  unique_name: string | null;
  network_access_profile_sid: string;
  data_enabled: number;
  data_limit: number;
  sms_commands_enabled: number;
  sms_commands_url: string | null;
  sms_commands_method: string;
  ip_commands_url: string | null;
  ip_commands_method: string;
  date_created: number;
  date_updated: number;
}

export interface SimRow {
  sid: string;
  account_sid: string;
  unique_name: string | null;
  iccid: string;
  status: string;
  fleet_sid: string | null;
  callback_url: string | null;
  callback_method: string;
  date_created: number;
  date_updated: number;
}

export interface CommandRow {
  sid: string;
  account_sid: string;
  sim_sid: string;
  /** 'sms' (HC) or 'ip' (HG). */
  kind: string;
  status: string;
  direction: string;
  payload: string;
  payload_type: string;
  device_port: number | null;
  /** 1 for a priority flow, 0 for bulk (by the fleet's rules when queued). */
  priority: number;
  callback_url: string | null;
  callback_method: string;
  /** Order in which the data session delivered it (null while queued). */
  delivery_seq: number | null;
  /** How many of its status callbacks its CallbackUrl has answered (command-callbacks.ts). */
  callbacks_sent: number;
  date_created: number;
  date_updated: number;
}

export interface UsageRow {
  account_sid: string;
  sim_sid: string;
  fleet_sid: string | null;
  network_sid: string;
  /** Start of the hour, ms. */
  hour: number;
  data_upload: number;
  data_download: number;
}

export interface CellRow {
  network_sid: string;
  cell: string;
  /** Decayed sample weight and weighted sums, as of `updated_at`. */
  weight: number;
  rsrp_sum: number;
  poor_weight: number;
  samples: number;
  source: string;
  updated_at: number;
  /** JSON array of the decayed weights of the RSRP histogram's bins (map.ts). */
  bins: string | null;
}

/** One sample of a device's path, for the crowd history every node rebuilds (history.ts). */
export interface TrackPointRow {
  device: string;
  network: string;
  t: number;
  cell: string;
  /** Heading sector (history.ts SECTORS), -1 when still or unknown. */
  sector: number;
  speed: number;
  rsrp: number;
  /** The node that took the report: a node skips its own points when it reads others'. */
  node_id: string;
  /** When it was written (the writer's clock): what a reader asks for since its last look. */
  written_at: number;
}

export interface FleetRulesRow {
  fleet_sid: string;
  account_sid: string;
  /** JSON of FleetRules. */
  rules: string;
  date_updated: number;
}

export interface CoverageTables {
  supersim_networks: NetworkRow;
  supersim_profiles: ProfileRow;
  supersim_profile_networks: ProfileNetworkRow;
  supersim_fleets: FleetRow;
  supersim_sims: SimRow;
  supersim_commands: CommandRow;
  supersim_usage: UsageRow;
  coverage_cells: CellRow;
  coverage_fleet_rules: FleetRulesRow;
  coverage_track_points: TrackPointRow;
}

export const migrations: Record<string, Migration> = {
  coverage_0001_supersim: {
    async up(db) {
      await db.schema
        .createTable('supersim_networks')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('iso_country', 'varchar(2)', (c) => c.notNull())
        .addColumn('identifiers', 'text', (c) => c.notNull())
        .addColumn('switch_cost_s', 'double precision', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('supersim_networks_account')
        .on('supersim_networks')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('supersim_profiles')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('unique_name', 'text')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('supersim_profiles_name')
        .on('supersim_profiles')
        .columns(['account_sid', 'unique_name'])
        .unique()
        .execute();
      await db.schema
        .createTable('supersim_profile_networks')
        .addColumn('profile_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('network_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('supersim_profile_networks_pk', ['profile_sid', 'network_sid'])
        .execute();
      await db.schema
        .createTable('supersim_fleets')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('unique_name', 'text')
        .addColumn('network_access_profile_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('data_enabled', 'integer', (c) => c.notNull())
        .addColumn('data_limit', 'integer', (c) => c.notNull())
        .addColumn('sms_commands_enabled', 'integer', (c) => c.notNull())
        .addColumn('sms_commands_url', 'text')
        .addColumn('sms_commands_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('ip_commands_url', 'text')
        .addColumn('ip_commands_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('supersim_fleets_name')
        .on('supersim_fleets')
        .columns(['account_sid', 'unique_name'])
        .unique()
        .execute();
      await db.schema
        .createTable('supersim_sims')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('unique_name', 'text')
        .addColumn('iccid', 'varchar(22)', (c) => c.notNull().unique())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('fleet_sid', 'varchar(34)')
        .addColumn('callback_url', 'text')
        .addColumn('callback_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('supersim_sims_account')
        .on('supersim_sims')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('supersim_commands')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('sim_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('kind', 'varchar(3)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('direction', 'varchar(8)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('payload_type', 'varchar(8)', (c) => c.notNull())
        .addColumn('device_port', 'integer')
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('callback_url', 'text')
        .addColumn('callback_method', 'varchar(4)', (c) => c.notNull())
        .addColumn('delivery_seq', 'bigint')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('supersim_commands_account')
        .on('supersim_commands')
        .columns(['account_sid', 'kind', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createIndex('supersim_commands_sim_status')
        .on('supersim_commands')
        .columns(['sim_sid', 'status'])
        .execute();
      await db.schema
        .createTable('supersim_usage')
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('sim_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('fleet_sid', 'varchar(34)')
        .addColumn('network_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('hour', 'bigint', (c) => c.notNull())
        .addColumn('data_upload', 'bigint', (c) => c.notNull())
        .addColumn('data_download', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('supersim_usage_pk', ['sim_sid', 'network_sid', 'hour'])
        .execute();
    },
  },
  coverage_0002_map: {
    async up(db) {
      await db.schema
        .createTable('coverage_cells')
        .addColumn('network_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('cell', 'varchar(16)', (c) => c.notNull())
        .addColumn('weight', 'double precision', (c) => c.notNull())
        .addColumn('rsrp_sum', 'double precision', (c) => c.notNull())
        .addColumn('poor_weight', 'double precision', (c) => c.notNull())
        .addColumn('samples', 'bigint', (c) => c.notNull())
        .addColumn('source', 'varchar(16)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('coverage_cells_pk', ['network_sid', 'cell', 'source'])
        .execute();
      await db.schema
        .createTable('coverage_fleet_rules')
        .addColumn('fleet_sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  coverage_0003_cell_bins: {
    async up(db) {
      await db.schema.alterTable('coverage_cells').addColumn('bins', 'text').execute();
    },
  },
  coverage_0004_command_callbacks: {
    async up(db) {
      await db.schema
        .alterTable('supersim_commands')
        .addColumn('callbacks_sent', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  coverage_0005_track_points: {
    async up(db) {
      await db.schema
        .createTable('coverage_track_points')
        .addColumn('device', 'varchar(64)', (c) => c.notNull())
        .addColumn('network', 'varchar(34)', (c) => c.notNull())
        .addColumn('t', 'bigint', (c) => c.notNull())
        .addColumn('cell', 'varchar(16)', (c) => c.notNull())
        .addColumn('sector', 'integer', (c) => c.notNull())
        .addColumn('speed', 'double precision', (c) => c.notNull())
        .addColumn('rsrp', 'double precision', (c) => c.notNull())
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('written_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('coverage_track_points_pk', ['device', 't'])
        .execute();
      await db.schema
        .createIndex('coverage_track_points_written')
        .on('coverage_track_points')
        .column('written_at')
        .execute();
      await db.schema
        .createIndex('coverage_track_points_t')
        .on('coverage_track_points')
        .column('t')
        .execute();
    },
  },
};
