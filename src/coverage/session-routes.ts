// A SIM's data session as the packet core holds it (Switchboard extension): which network and
// gateway carry it, whether its priority flows are raised, how often it was redirected.
import { iso8601 } from '../core/dates.js';
import { fail } from '../core/errors.js';
import type { RestRoute } from '../core/rest.js';
import type { PacketCore } from './packet-core.js';
import type { SuperSimStore } from './supersim-store.js';

export function sessionRoutes(sims: SuperSimStore, core: PacketCore): RestRoute[] {
  return [
    {
      method: 'GET',
      domain: 'coverage',
      path: '/v1/Sims/:Sid/Session',
      summary: "A SIM's data session in the packet core",
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.params.Sid ?? '');
        const s = await core.session(sim.sid);
        if (!s) fail('notFound', `no data session for ${sim.sid}`);
        return {
          status: 200,
          body: {
            sim_sid: s.simSid,
            network_sid: s.networkSid,
            apn: s.apn,
            gateway: s.gateway,
            ip_address: s.ipAddress,
            attached_at: iso8601(s.attachedAt),
            priority_flows_raised: s.priorityRaised,
            redirects: s.redirects,
            packet_core: core.kind,
          },
        };
      },
    },
  ];
}
