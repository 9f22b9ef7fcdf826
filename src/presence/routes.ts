// Switchboard extension (domain `presence`): who is online and on which devices. Lists are
// paged as Twilio's v1 lists are (PageSize, PageToken, meta), ordered by identity.
import { fail, rfc2822 } from '../core/index.js';
import { PAGE_PARAMS, listPageV1, type RestRoute } from '../core/rest.js';
import { slicePage, sortBy } from '../store/index.js';
import type { ClientDevice } from '../plugin/index.js';
import type { PresenceRegistry } from './registry.js';

const STATUSES = ['available', 'busy'] as const;

/** Clients are listed by identity; the PageToken carries the last one listed. */
const BY_IDENTITY = {
  sort: sortBy('asc', ['identity', 'string']),
  of: (c: Record<string, unknown>) => [c.identity as string],
};

function deviceJson(d: ClientDevice): Record<string, unknown> {
  return {
    sid: d.id,
    kind: d.kind,
    status: d.status,
    node: d.node,
    date_registered: rfc2822(d.registeredAt),
    last_seen: rfc2822(d.lastSeen),
  };
}

interface Identity {
  identity: string;
  devices: ClientDevice[];
}

function identityJson(accountSid: string, baseUrl: string, c: Identity): Record<string, unknown> {
  const devices = [...c.devices].sort((a, b) => b.registeredAt - a.registeredAt);
  return {
    account_sid: accountSid,
    identity: c.identity,
    // An identity is busy only when no device of it could take another call.
    status: devices.some((d) => d.status === 'available') ? 'available' : 'busy',
    last_seen: rfc2822(Math.max(...devices.map((d) => d.lastSeen))),
    devices: devices.map(deviceJson),
    url: `${baseUrl}/v1/Clients/${encodeURIComponent(c.identity)}`,
  };
}

function online(registry: PresenceRegistry, accountSid: string): Map<string, Identity> {
  const out = new Map<string, Identity>();
  for (const d of registry.all()) {
    if (d.accountSid !== accountSid) continue;
    let c = out.get(d.identity);
    if (!c) out.set(d.identity, (c = { identity: d.identity, devices: [] }));
    c.devices.push(d);
  }
  return out;
}

export function presenceRoutes(registry: PresenceRegistry): RestRoute[] {
  return [
    {
      method: 'GET',
      domain: 'presence',
      path: '/v1/Clients',
      summary: 'List the Client identities online, with their devices (Switchboard extension)',
      paged: true,
      params: [
        { name: 'Status', type: 'enum', values: STATUSES },
        { name: 'Kind', type: 'enum', values: ['sdk', 'sip'] },
        { name: 'IdentityPrefix', type: 'string', max: 256 },
        ...PAGE_PARAMS,
      ],
      handler(req) {
        const status = req.input.string('Status');
        const kind = req.input.string('Kind');
        const prefix = req.input.string('IdentityPrefix') ?? '';
        const list = [...online(registry, req.principal.accountSid).values()]
          .map((c) => ({ ...c, devices: c.devices.filter((d) => !kind || d.kind === kind) }))
          .filter((c) => c.devices.length > 0 && c.identity.startsWith(prefix))
          .map((c) => identityJson(req.principal.accountSid, req.baseUrl, c))
          .filter((c) => !status || c.status === status);
        const { items, next } = slicePage(list, req.page, BY_IDENTITY);
        return Promise.resolve(listPageV1(req, 'clients', items, next));
      },
    },
    {
      method: 'GET',
      domain: 'presence',
      path: '/v1/Clients/:Identity',
      summary: 'Fetch one Client identity: online or not, its devices (Switchboard extension)',
      handler(req) {
        const identity = req.params.Identity ?? '';
        const c = online(registry, req.principal.accountSid).get(identity);
        if (!c) fail('notFound', `Client ${identity.slice(0, 256)} is offline`);
        return Promise.resolve({
          status: 200,
          body: identityJson(req.principal.accountSid, req.baseUrl, c),
        });
      },
    },
  ];
}
