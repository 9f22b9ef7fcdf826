// Billing periods and usage records of Super SIMs, as far as they make sense self-hosted:
// periods are the SIM's 30-day cycles since registration; usage is the bytes its data session
// carried (commands delivered), summed per hour by the delivery pump.
import { createHash } from 'node:crypto';
import { iso8601 } from '../core/dates.js';
import { fail } from '../core/errors.js';
import { listPageV1, type ParamSpec, type RestReply, type RestRequest } from '../core/rest.js';
import { slicePage } from '../store/index.js';
import type { CommandStore } from './commands.js';
import type { SuperSimStore } from './supersim-store.js';
import type { SimRow } from './tables.js';

const PERIOD_MS = 30 * 86_400_000;

export function billingPeriods(sim: SimRow, now: number) {
  const out = [];
  for (let start = sim.date_created; start <= now; start += PERIOD_MS) {
    const sid =
      'HB' + createHash('sha256').update(`${sim.sid}:${start}`).digest('hex').slice(0, 32);
    out.push({
      sid,
      account_sid: sim.account_sid,
      sim_sid: sim.sid,
      start_time: iso8601(start),
      end_time: iso8601(start + PERIOD_MS),
      period_type: sim.status === 'active' ? 'active' : 'ready',
      date_created: iso8601(start),
      date_updated: iso8601(Math.min(now, start + PERIOD_MS)),
    });
  }
  return out.reverse();
}

export const USAGE_PARAMS: readonly ParamSpec[] = [
  { name: 'Sim', type: 'string', max: 64 },
  { name: 'Fleet', type: 'string', max: 64 },
  { name: 'Network', type: 'sid', prefix: 'HW' },
  { name: 'IsoCountry', type: 'string', max: 2 },
  { name: 'Group', type: 'enum', values: ['sim', 'fleet', 'network', 'isoCountry'] },
  { name: 'Granularity', type: 'enum', values: ['hour', 'day', 'all'] },
  { name: 'StartTime', type: 'date' },
  { name: 'EndTime', type: 'date' },
];

export async function usageRecordsReply(
  req: RestRequest,
  sims: SuperSimStore,
  commands: CommandStore,
): Promise<RestReply> {
  const account = req.account.sid;
  const i = req.input;
  const now = Date.now();
  const granularity = i.string('Granularity') ?? 'all';
  const end = i.date('EndTime') ?? now;
  const start =
    i.date('StartTime') ?? end - (granularity === 'hour' ? 86_400_000 : 30 * 86_400_000);
  if (start >= end) fail('invalidParameter', 'StartTime must be before EndTime');
  const simRef = i.string('Sim');
  const fleetRef = i.string('Fleet');
  const network = i.string('Network');
  const rows = await commands.usage(account, {
    sim: simRef ? (await sims.sim(account, simRef)).sid : undefined,
    fleet: fleetRef ? (await sims.fleet(account, fleetRef)).sid : undefined,
    network: network ? (await sims.network(account, network)).sid : undefined,
    start: Math.floor(start / 3600_000) * 3600_000,
    end,
  });
  const group = i.string('Group');
  const bucketMs = granularity === 'hour' ? 3600_000 : granularity === 'day' ? 86_400_000 : 0;
  const sums = new Map<
    string,
    { key: string | null; from: number; to: number; up: number; down: number }
  >();
  for (const r of rows) {
    const key =
      group === 'sim'
        ? r.sim_sid
        : group === 'fleet'
          ? r.fleet_sid
          : group === 'network'
            ? r.network_sid
            : null;
    const from = bucketMs ? Math.floor(r.hour / bucketMs) * bucketMs : start;
    const to = bucketMs ? from + bucketMs : end;
    const id = `${key}|${from}`;
    const s = sums.get(id) ?? { key, from, to, up: 0, down: 0 };
    s.up += r.up;
    s.down += r.down;
    sums.set(id, s);
  }
  const records = [...sums.values()]
    .sort((a, b) => a.from - b.from)
    .map((s) => ({
      account_sid: account,
      sim_sid: group === 'sim' ? s.key : null,
      network_sid: group === 'network' ? s.key : null,
      fleet_sid: group === 'fleet' ? s.key : null,
      iso_country: null,
      period: { start_time: iso8601(s.from), end_time: iso8601(s.to) },
      data_upload: s.up,
      data_download: s.down,
      data_total: s.up + s.down,
      data_total_billed: 0,
      billed_unit: 'USD',
    }));
  const page = slicePage(records, req.page);
  return listPageV1(req, 'usage_records', page.items, page.next);
}
