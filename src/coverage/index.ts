// The coverage capability: Twilio's Super SIM API (fleets, SIMs, networks, commands) and
// coverage-aware data steering over a packet core — coverage maps, poor-coverage prediction
// for devices in motion, priority delivery, route advice and network switching.
import type { Capability } from '../plugin/index.js';
import { accountDirectory, interactionLog } from '../plugin/index.js';
import { migrations as queueMigrations } from '../queue/index.js';
import { CommandCallbacks } from './command-callbacks.js';
import { CommandStore } from './commands.js';
import { coverageRoutes } from './coverage-routes.js';
import { DeliveryPump } from './delivery.js';
import { Motion } from './motion.js';
import { networkAdminRoutes } from './network-routes.js';
import { SimulatedPacketCore } from './packet-core.js';
import { RulesStore } from './rules.js';
import { CoverageService } from './service.js';
import { sessionRoutes } from './session-routes.js';
import { superSimRoutes } from './supersim-routes.js';
import { SuperSimStore } from './supersim-store.js';
import { migrations } from './tables.js';

export type { PacketCore, DataSession, RedirectOutcome } from './packet-core.js';
export { parseTrace, type TraceSample } from './trace.js';
export {
  importCoverageFile,
  ImportError,
  type FileImportResult,
  type ImportProblem,
  type ImportProgress,
} from './file-import.js';
export { replayTrace, type ReplayFigures } from './replay.js';

export const coverage: Capability = {
  name: 'coverage',
  // Commands' status callbacks wait in the SQL store's queue table.
  migrations: { ...queueMigrations, ...migrations },
  needs: [interactionLog],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const sims = new SuperSimStore(ctx.store);
    const commands = new CommandStore(ctx.store);
    const rules = new RulesStore(ctx.store);
    // The packet core: the simulator; a real core's adapter (Open5GS, free5GC) would be
    // composed here instead, behind the same PacketCore interface.
    const core = new SimulatedPacketCore(ctx.state);
    const accounts = ctx.want(accountDirectory);
    const callbacks = new CommandCallbacks({
      store: ctx.store,
      commands,
      sims,
      accounts,
      logger: ctx.logger,
    });
    await callbacks.start();
    const service = new CoverageService(ctx.store, ctx.logger, ctx.nodeId);
    await service.load();
    service.start();
    const pump = new DeliveryPump({
      commands,
      sims,
      core,
      rules,
      state: ctx.state,
      log,
      logger: ctx.logger,
      link: (sim) => motion.linkState(sim),
      settled: (row) => callbacks.schedule(row),
      afterSettled: () => callbacks.kick(),
    });
    const motion = new Motion({
      service,
      sims,
      rules,
      core,
      state: ctx.state,
      log,
      accounts,
      logger: ctx.logger,
      kick: (sim) => pump.kick(sim),
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
          onSimInactive: async (simSid) => {
            await core.detach(simSid);
            await pump.failQueued(simSid);
          },
          onQueued: (s) => pump.kick(s),
        }),
        ...networkAdminRoutes(sims),
        ...coverageRoutes({ service, sims, rules, motion }),
        ...sessionRoutes(sims, core),
      ],
      async stop() {
        await pump.stop();
        await callbacks.stop();
        await service.stop();
      },
    };
  },
};
