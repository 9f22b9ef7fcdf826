// The Super SIM v1 API (domain 'supersim'): Networks, NetworkAccessProfiles and their
// Networks, Fleets, Sims (+ BillingPeriods, IpAddresses), SmsCommands, IpCommands and
// UsageRecords, with the spec's field names and v1 paging.
import { fail } from '../core/errors.js';
import { listPageV1, PAGE_PARAMS, type ParamSpec, type RestRoute } from '../core/rest.js';
import type { CommandStore } from './commands.js';
import type { PacketCore } from './packet-core.js';
import { slicePage } from '../store/index.js';
import { isPriority, type RulesStore } from './rules.js';
import {
  fleetJson,
  ipCommandJson,
  networkJson,
  profileJson,
  profileNetworkJson,
  simJson,
  smsCommandJson,
} from './supersim-json.js';
import type { FleetInput, SuperSimStore } from './supersim-store.js';
import { billingPeriods, usageRecordsReply, USAGE_PARAMS } from './usage.js';

const METHOD = ['GET', 'POST'] as const;
const FLEET_PARAMS: readonly ParamSpec[] = [
  { name: 'NetworkAccessProfile', type: 'string', max: 64 },
  { name: 'UniqueName', type: 'string', max: 64 },
  { name: 'DataEnabled', type: 'bool' },
  { name: 'DataLimit', type: 'int', min: 1, max: 2_000_000 },
  { name: 'IpCommandsUrl', type: 'url' },
  { name: 'IpCommandsMethod', type: 'enum', values: METHOD },
  { name: 'SmsCommandsEnabled', type: 'bool' },
  { name: 'SmsCommandsUrl', type: 'url' },
  { name: 'SmsCommandsMethod', type: 'enum', values: METHOD },
];

export interface SuperSimDeps {
  readonly sims: SuperSimStore;
  readonly commands: CommandStore;
  readonly rules: RulesStore;
  readonly core: PacketCore;
  /** Called when a SIM becomes active (its device attaches) or a command is queued. */
  readonly onSimActive: (simSid: string) => Promise<void>;
  readonly onQueued: (simSid: string) => void;
  /** Called when a SIM is deactivated: its session ends and its queued commands fail. */
  readonly onSimInactive: (simSid: string) => Promise<void>;
}

function fleetInput(req: Parameters<RestRoute['handler']>[0]): FleetInput {
  const i = req.input;
  return {
    uniqueName: i.string('UniqueName'),
    networkAccessProfile: i.string('NetworkAccessProfile'),
    dataEnabled: i.bool('DataEnabled'),
    dataLimit: i.int('DataLimit'),
    smsCommandsEnabled: i.bool('SmsCommandsEnabled'),
    smsCommandsUrl: i.string('SmsCommandsUrl'),
    smsCommandsMethod: i.string('SmsCommandsMethod'),
    ipCommandsUrl: i.string('IpCommandsUrl'),
    ipCommandsMethod: i.string('IpCommandsMethod'),
  };
}

export function superSimRoutes(d: SuperSimDeps): RestRoute[] {
  const { sims, commands } = d;
  const r = (route: Omit<RestRoute, 'domain'>): RestRoute => ({ ...route, domain: 'supersim' });
  return [
    // ---------------------------------------------------------------- Networks
    r({
      method: 'GET',
      path: '/v1/Networks',
      summary: 'List the networks SIMs can connect to',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'IsoCountry', type: 'string', max: 2 },
        { name: 'Mcc', type: 'string', max: 3 },
        { name: 'Mnc', type: 'string', max: 3 },
      ],
      async handler(req) {
        const p = await sims.networks(
          req.account.sid,
          { isoCountry: req.input.string('IsoCountry') },
          req.page,
        );
        const mcc = req.input.string('Mcc');
        const mnc = req.input.string('Mnc');
        const items = p.items.filter((n) => {
          if (mcc === undefined && mnc === undefined) return true;
          const ids = JSON.parse(n.identifiers) as { mcc: string; mnc: string }[];
          return ids.some(
            (x) => (mcc === undefined || x.mcc === mcc) && (mnc === undefined || x.mnc === mnc),
          );
        });
        return listPageV1(
          req,
          'networks',
          items.map((n) => networkJson(n, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Networks/:Sid',
      summary: 'Fetch a network',
      async handler(req) {
        return {
          status: 200,
          body: networkJson(await sims.network(req.account.sid, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    }),
    // ---------------------------------------------------------------- NetworkAccessProfiles
    r({
      method: 'POST',
      path: '/v1/NetworkAccessProfiles',
      summary: 'Create a network access profile',
      params: [
        { name: 'UniqueName', type: 'string', max: 64 },
        { name: 'Networks', type: 'list' },
      ],
      async handler(req) {
        const row = await sims.createProfile(
          req.account.sid,
          req.input.string('UniqueName'),
          req.input.list('Networks') ?? [],
        );
        return { status: 201, body: profileJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/NetworkAccessProfiles',
      summary: 'List network access profiles',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const p = await sims.profiles(req.account.sid, req.page);
        return listPageV1(
          req,
          'network_access_profiles',
          p.items.map((x) => profileJson(x, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/NetworkAccessProfiles/:Sid',
      summary: 'Fetch a network access profile',
      async handler(req) {
        return {
          status: 200,
          body: profileJson(await sims.profile(req.account.sid, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    }),
    r({
      method: 'POST',
      path: '/v1/NetworkAccessProfiles/:Sid',
      summary: 'Update a network access profile',
      params: [{ name: 'UniqueName', type: 'string', max: 64 }],
      async handler(req) {
        const name = req.input.string('UniqueName');
        const row =
          name === undefined
            ? await sims.profile(req.account.sid, req.params.Sid ?? '')
            : await sims.renameProfile(req.account.sid, req.params.Sid ?? '', name);
        return { status: 200, body: profileJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/NetworkAccessProfiles/:NetworkAccessProfileSid/Networks',
      summary: "List a network access profile's networks",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const profile = await sims.profile(
          req.account.sid,
          req.params.NetworkAccessProfileSid ?? '',
        );
        const p = await sims.profileNetworks(req.account.sid, profile.sid, req.page);
        return listPageV1(
          req,
          'networks',
          p.items.map((n) => profileNetworkJson(n, profile.sid, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'POST',
      path: '/v1/NetworkAccessProfiles/:NetworkAccessProfileSid/Networks',
      summary: 'Add a network to a network access profile',
      params: [{ name: 'Network', type: 'sid', prefix: 'HW', required: true }],
      async handler(req) {
        const profile = await sims.profile(
          req.account.sid,
          req.params.NetworkAccessProfileSid ?? '',
        );
        const n = await sims.addProfileNetwork(
          req.account.sid,
          profile.sid,
          req.input.string('Network') ?? '',
        );
        return { status: 201, body: profileNetworkJson(n, profile.sid, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/NetworkAccessProfiles/:NetworkAccessProfileSid/Networks/:Sid',
      summary: 'Fetch a network of a network access profile',
      async handler(req) {
        const profile = await sims.profile(
          req.account.sid,
          req.params.NetworkAccessProfileSid ?? '',
        );
        const n = await sims.profileNetwork(req.account.sid, profile.sid, req.params.Sid ?? '');
        return { status: 200, body: profileNetworkJson(n, profile.sid, req.baseUrl) };
      },
    }),
    r({
      method: 'DELETE',
      path: '/v1/NetworkAccessProfiles/:NetworkAccessProfileSid/Networks/:Sid',
      summary: 'Remove a network from a network access profile',
      async handler(req) {
        await sims.removeProfileNetwork(
          req.account.sid,
          req.params.NetworkAccessProfileSid ?? '',
          req.params.Sid ?? '',
        );
        return { status: 204, body: null };
      },
    }),
    // ---------------------------------------------------------------- Fleets
    r({
      method: 'POST',
      path: '/v1/Fleets',
      summary: 'Create a fleet',
      params: FLEET_PARAMS,
      async handler(req) {
        if (!req.input.has('NetworkAccessProfile'))
          fail('missingParameter', 'NetworkAccessProfile');
        const row = await sims.createFleet(req.account.sid, fleetInput(req));
        return { status: 201, body: fleetJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Fleets',
      summary: 'List fleets',
      paged: true,
      params: [...PAGE_PARAMS, { name: 'NetworkAccessProfile', type: 'string', max: 64 }],
      async handler(req) {
        const p = await sims.fleets(
          req.account.sid,
          req.input.string('NetworkAccessProfile'),
          req.page,
        );
        return listPageV1(
          req,
          'fleets',
          p.items.map((f) => fleetJson(f, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Fleets/:Sid',
      summary: 'Fetch a fleet',
      async handler(req) {
        return {
          status: 200,
          body: fleetJson(await sims.fleet(req.account.sid, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    }),
    r({
      method: 'POST',
      path: '/v1/Fleets/:Sid',
      summary: 'Update a fleet',
      params: FLEET_PARAMS.filter(
        (p) => p.name !== 'DataEnabled' && p.name !== 'SmsCommandsEnabled',
      ),
      async handler(req) {
        const row = await sims.updateFleet(req.account.sid, req.params.Sid ?? '', fleetInput(req));
        return { status: 200, body: fleetJson(row, req.baseUrl) };
      },
    }),
    // ---------------------------------------------------------------- Sims
    r({
      method: 'POST',
      path: '/v1/Sims',
      summary: 'Register a Super SIM',
      params: [
        { name: 'Iccid', type: 'string', required: true, max: 22 },
        { name: 'RegistrationCode', type: 'string', required: true, max: 64 },
      ],
      async handler(req) {
        const iccid = req.input.string('Iccid') ?? '';
        if (!/^\d{18,22}$/.test(iccid)) fail('invalidParameter', 'Iccid must be 18 to 22 digits');
        if ((req.input.string('RegistrationCode') ?? '').trim() === '')
          fail('invalidParameter', 'RegistrationCode must not be empty');
        const row = await sims.registerSim(req.account.sid, iccid);
        return { status: 201, body: simJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Sims',
      summary: 'List Super SIMs',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        {
          name: 'Status',
          type: 'enum',
          values: ['new', 'ready', 'active', 'inactive', 'scheduled'],
        },
        { name: 'Fleet', type: 'string', max: 64 },
        { name: 'Iccid', type: 'string', max: 22 },
      ],
      async handler(req) {
        const p = await sims.sims(
          req.account.sid,
          {
            status: req.input.string('Status'),
            fleet: req.input.string('Fleet'),
            iccid: req.input.string('Iccid'),
          },
          req.page,
        );
        return listPageV1(
          req,
          'sims',
          p.items.map((s) => simJson(s, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Sims/:Sid',
      summary: 'Fetch a Super SIM',
      async handler(req) {
        return {
          status: 200,
          body: simJson(await sims.sim(req.account.sid, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    }),
    r({
      method: 'POST',
      path: '/v1/Sims/:Sid',
      summary: 'Update a Super SIM (status, fleet, name, callback)',
      params: [
        { name: 'UniqueName', type: 'string', max: 64 },
        { name: 'Status', type: 'enum', values: ['ready', 'active', 'inactive'] },
        { name: 'Fleet', type: 'string', max: 64 },
        { name: 'CallbackUrl', type: 'url' },
        { name: 'CallbackMethod', type: 'enum', values: METHOD },
        { name: 'AccountSid', type: 'sid', prefix: 'AC' },
      ],
      async handler(req) {
        const moveTo = req.input.string('AccountSid');
        if (moveTo !== undefined && moveTo !== req.account.sid)
          fail('forbidden', 'moving a SIM to another account is not supported');
        const row = await sims.updateSim(req.account.sid, req.params.Sid ?? '', {
          uniqueName: req.input.string('UniqueName'),
          status: req.input.string('Status'),
          fleet: req.input.string('Fleet'),
          callbackUrl: req.input.string('CallbackUrl'),
          callbackMethod: req.input.string('CallbackMethod'),
        });
        if (row.status === 'active') await d.onSimActive(row.sid);
        else if (row.status === 'inactive') await d.onSimInactive(row.sid);
        return { status: 200, body: simJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Sims/:SimSid/BillingPeriods',
      summary: "List a Super SIM's billing periods",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.params.SimSid ?? '');
        const items = billingPeriods(sim, Date.now());
        const page = slicePage(items, req.page);
        return listPageV1(req, 'billing_periods', page.items, page.next);
      },
    }),
    r({
      method: 'GET',
      path: '/v1/Sims/:SimSid/IpAddresses',
      summary: "List a Super SIM's IP addresses (of its data session)",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.params.SimSid ?? '');
        const s = await d.core.session(sim.sid);
        const items = s ? [{ ip_address: s.ipAddress, ip_address_version: 'IPv4' }] : [];
        return listPageV1(req, 'ip_addresses', items, undefined);
      },
    }),
    // ---------------------------------------------------------------- SmsCommands
    r({
      method: 'POST',
      path: '/v1/SmsCommands',
      summary: 'Send an SMS Command to a Super SIM',
      params: [
        { name: 'Sim', type: 'string', required: true, max: 64 },
        { name: 'Payload', type: 'string', required: true, max: 160 },
        { name: 'CallbackMethod', type: 'enum', values: METHOD },
        { name: 'CallbackUrl', type: 'url' },
      ],
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.input.string('Sim') ?? '');
        if (sim.status !== 'active' && sim.status !== 'ready') fail('simNotActive', sim.sid);
        const row = await commands.queue(req.account.sid, {
          kind: 'sms',
          simSid: sim.sid,
          payload: req.input.string('Payload') ?? '',
          payloadType: 'text',
          devicePort: null,
          priority: true,
          callbackUrl: req.input.string('CallbackUrl') ?? null,
          callbackMethod: req.input.string('CallbackMethod') ?? 'POST',
        });
        d.onQueued(sim.sid);
        return { status: 201, body: smsCommandJson(row, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/SmsCommands',
      summary: 'List SMS Commands',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Sim', type: 'string', max: 64 },
        {
          name: 'Status',
          type: 'enum',
          values: ['queued', 'sent', 'delivered', 'received', 'failed'],
        },
        { name: 'Direction', type: 'enum', values: ['to_sim', 'from_sim'] },
      ],
      async handler(req) {
        const simRef = req.input.string('Sim');
        const sim = simRef ? (await sims.sim(req.account.sid, simRef)).sid : undefined;
        const p = await commands.list(
          req.account.sid,
          'sms',
          { sim, status: req.input.string('Status'), direction: req.input.string('Direction') },
          req.page,
        );
        return listPageV1(
          req,
          'sms_commands',
          p.items.map((c) => smsCommandJson(c, req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/SmsCommands/:Sid',
      summary: 'Fetch an SMS Command',
      async handler(req) {
        return {
          status: 200,
          body: smsCommandJson(
            await commands.get(req.account.sid, 'sms', req.params.Sid ?? ''),
            req.baseUrl,
          ),
        };
      },
    }),
    // ---------------------------------------------------------------- IpCommands
    r({
      method: 'POST',
      path: '/v1/IpCommands',
      summary: 'Send an IP Command to a Super SIM',
      params: [
        { name: 'Sim', type: 'string', required: true, max: 64 },
        { name: 'Payload', type: 'string', required: true, max: 1400 },
        { name: 'DevicePort', type: 'int', required: true, min: 1, max: 65535 },
        { name: 'PayloadType', type: 'enum', values: ['text', 'binary'] },
        { name: 'CallbackUrl', type: 'url' },
        { name: 'CallbackMethod', type: 'enum', values: METHOD },
      ],
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.input.string('Sim') ?? '');
        if (sim.status !== 'active' && sim.status !== 'ready') fail('simNotActive', sim.sid);
        const payloadType = req.input.string('PayloadType') === 'binary' ? 'binary' : 'text';
        const payload = req.input.string('Payload') ?? '';
        if (payloadType === 'binary' && !/^[A-Za-z0-9+/]*={0,2}$/.test(payload))
          fail('invalidParameter', 'Payload must be base64 when PayloadType is binary');
        const port = req.input.int('DevicePort') ?? 0;
        const rules = await d.rules.rules(sim.fleet_sid);
        const row = await commands.queue(req.account.sid, {
          kind: 'ip',
          simSid: sim.sid,
          payload,
          payloadType,
          devicePort: port,
          priority: isPriority(rules, 'ip', port),
          callbackUrl: req.input.string('CallbackUrl') ?? null,
          callbackMethod: req.input.string('CallbackMethod') ?? 'POST',
        });
        d.onQueued(sim.sid);
        return { status: 201, body: ipCommandJson(row, sim.iccid, req.baseUrl) };
      },
    }),
    r({
      method: 'GET',
      path: '/v1/IpCommands',
      summary: 'List IP Commands',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Sim', type: 'string', max: 64 },
        { name: 'SimIccid', type: 'string', max: 22 },
        { name: 'Status', type: 'enum', values: ['queued', 'sent', 'received', 'failed'] },
        { name: 'Direction', type: 'enum', values: ['to_sim', 'from_sim'] },
      ],
      async handler(req) {
        const simRef = req.input.string('Sim') ?? req.input.string('SimIccid');
        const sim = simRef ? (await sims.sim(req.account.sid, simRef)).sid : undefined;
        const p = await commands.list(
          req.account.sid,
          'ip',
          { sim, status: req.input.string('Status'), direction: req.input.string('Direction') },
          req.page,
        );
        const iccids = new Map<string, string>();
        for (const c of p.items)
          if (!iccids.has(c.sim_sid))
            iccids.set(c.sim_sid, (await sims.sim(req.account.sid, c.sim_sid)).iccid);
        return listPageV1(
          req,
          'ip_commands',
          p.items.map((c) => ipCommandJson(c, iccids.get(c.sim_sid) ?? '', req.baseUrl)),
          p.next,
        );
      },
    }),
    r({
      method: 'GET',
      path: '/v1/IpCommands/:Sid',
      summary: 'Fetch an IP Command',
      async handler(req) {
        const c = await commands.get(req.account.sid, 'ip', req.params.Sid ?? '');
        const sim = await sims.sim(req.account.sid, c.sim_sid);
        return { status: 200, body: ipCommandJson(c, sim.iccid, req.baseUrl) };
      },
    }),
    // ---------------------------------------------------------------- UsageRecords
    r({
      method: 'GET',
      path: '/v1/UsageRecords',
      summary: 'Data usage of Super SIMs (bytes carried by their data sessions)',
      paged: true,
      params: [...PAGE_PARAMS, ...USAGE_PARAMS],
      async handler(req) {
        return usageRecordsReply(req, sims, commands);
      },
    }),
  ];
}
