// A fleet's steering rules (Switchboard extension, /coverage/v1/Fleets/{Sid}/Rules): what
// counts as poor coverage, how far ahead to look, which traffic is priority, and which actions
// the platform may take on a prediction.
import { fail } from '../core/errors.js';
import type { Kysely, Store } from '../store/index.js';
import type { CoverageTables } from './tables.js';

export interface FleetRules {
  /** Poor coverage: RSRP at or below this, dBm. */
  readonly poorRsrpDbm: number;
  /** A fall to 3G (or no service) counts as poor too. */
  readonly poorOn3g: boolean;
  /** Prediction horizon, seconds. */
  readonly horizonS: number;
  /** IP Commands to these device ports are priority flows; SMS Commands always are. */
  readonly priorityPorts: readonly number[];
  /** Before a predicted poor spell: deliver priority commands first and raise priority flows. */
  readonly prioritise: boolean;
  /** While a warning stands: hold bulk commands until the device is back in good coverage. */
  readonly holdBulk: boolean;
  /** May redirect the data session to another network of the fleet's profile. */
  readonly switchNetworks: boolean;
  /** Minimum seconds between two switches of one SIM (hysteresis). */
  readonly minDwellS: number;
  /** A switch must gain this factor over its cost (hysteresis margin). */
  readonly switchMargin: number;
  /** Webhook for coverage.warning / coverage.cleared / coverage.switched. */
  readonly callbackUrl: string | null;
  /** Commands delivered per second through a session in good coverage. */
  readonly commandsPerSecond: number;
}

export const DEFAULT_RULES: FleetRules = {
  poorRsrpDbm: -105,
  poorOn3g: true,
  horizonS: 30,
  priorityPorts: [],
  prioritise: true,
  holdBulk: true,
  switchNetworks: true,
  minDwellS: 120,
  switchMargin: 1.5,
  callbackUrl: null,
  commandsPerSecond: 5,
};

export class RulesStore {
  private readonly db: Kysely<CoverageTables>;
  private readonly cache = new Map<string, { rules: FleetRules; at: number }>();
  constructor(store: Store) {
    this.db = store.kysely<CoverageTables>();
  }

  /** A fleet's rules (defaults when none were set); cached for a second. */
  async rules(fleetSid: string | null): Promise<FleetRules> {
    if (fleetSid === null) return DEFAULT_RULES;
    const hit = this.cache.get(fleetSid);
    if (hit && Date.now() - hit.at < 1000) return hit.rules;
    const row = await this.db
      .selectFrom('coverage_fleet_rules')
      .select('rules')
      .where('fleet_sid', '=', fleetSid)
      .executeTakeFirst();
    const rules = row
      ? { ...DEFAULT_RULES, ...(JSON.parse(row.rules) as Partial<FleetRules>) }
      : DEFAULT_RULES;
    this.cache.set(fleetSid, { rules, at: Date.now() });
    return rules;
  }

  async update(
    accountSid: string,
    fleetSid: string,
    change: Partial<FleetRules>,
  ): Promise<FleetRules> {
    const rules = { ...(await this.rules(fleetSid)), ...change };
    if (rules.horizonS < 5 || rules.horizonS > 600) fail('invalidParameter', 'HorizonS: 5 to 600');
    const now = Date.now();
    await this.db
      .insertInto('coverage_fleet_rules')
      .values({
        fleet_sid: fleetSid,
        account_sid: accountSid,
        rules: JSON.stringify(rules),
        date_updated: now,
      })
      .onConflict((oc) =>
        oc.column('fleet_sid').doUpdateSet({ rules: JSON.stringify(rules), date_updated: now }),
      )
      .execute();
    this.cache.delete(fleetSid);
    return rules;
  }
}

/** Whether a command is a priority flow under the rules. */
export function isPriority(
  rules: FleetRules,
  kind: 'sms' | 'ip',
  devicePort: number | null,
): boolean {
  return kind === 'sms' || (devicePort !== null && rules.priorityPorts.includes(devicePort));
}
