// The coverage capability: Twilio's Super SIM API (fleets, SIMs, networks, commands) and
// coverage-aware data steering over a packet core — coverage maps, poor-coverage prediction
// for devices in motion, priority delivery, route advice and network switching.
import type { Capability } from '../plugin/index.js';
import { interactionLog } from '../plugin/index.js';
import { CommandStore } from './commands.js';
import { DeliveryPump } from './delivery.js';
import { networkAdminRoutes } from './network-routes.js';
import { SimulatedPacketCore } from './packet-core.js';
import { RulesStore } from './rules.js';
import { superSimRoutes } from './supersim-routes.js';
import { SuperSimStore } from './supersim-store.js';
import { migrations } from './tables.js';

export type { PacketCore, DataSession, RedirectOutcome } from './packet-core.js';

export const coverage: Capability = {
  name: 'coverage',
  migrations,
  needs: [interactionLog],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const sims = new SuperSimStore(ctx.store);
    const commands = new CommandStore(ctx.store);
    const rules = new RulesStore(ctx.store);
    const core = new SimulatedPacketCore(ctx.state);
    const pump = new DeliveryPump({
      commands,
      sims,
      core,
      rules,
      state: ctx.state,
      log,
      logger: ctx.logger,
      link: () => Promise.resolve({ poorNow: false, warning: false }),
    });
    pump.start();
    const onSimActive = async (simSid: string) => {
      const c = await sims.simContext(simSid);
      const first = c?.networks[0];
      if (first) await core.attach(simSid, first, Date.now());
      pump.kick(simSid);
    };
    return {
      routes: [
        ...superSimRoutes({
          sims,
          commands,
          rules,
          core,
          onSimActive,
          onQueued: (s) => pump.kick(s),
        }),
        ...networkAdminRoutes(sims),
      ],
      async stop() {
        await pump.stop();
      },
    };
  },
};
