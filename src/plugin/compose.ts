// Starts capabilities in list order, handing each the ports the earlier ones offered, and
// stops them in reverse. A capability that needs a port no earlier one offers fails the start
// with a message naming both, instead of failing later on a missing collaborator.
import type { RestRoute } from '../core/rest.js';
import type {
  Capability,
  CapabilityContext,
  Offer,
  Port,
  StartedCapability,
  WebSocketRoute,
} from './capability.js';

export interface ComposedCapabilities {
  readonly routes: readonly RestRoute[];
  readonly websockets: readonly WebSocketRoute[];
  /** A port some capability offered, or undefined (for the edges the root wires late). */
  want<T>(p: Port<T>): T | undefined;
  /** Stops the started capabilities in reverse order; errors are handed to onError. */
  stop(onError: (name: string, err: unknown) => void): Promise<void>;
}

type BaseContext = Omit<CapabilityContext, 'need' | 'want'>;

export async function composeCapabilities(
  list: readonly Capability[],
  base: BaseContext,
  initial: readonly Offer<unknown>[] = [],
): Promise<ComposedCapabilities> {
  const offered = new Map<string, unknown>(initial.map((o) => [o.port.name, o.value]));
  const started: { name: string; cap: StartedCapability }[] = [];
  const routes: RestRoute[] = [];
  const websockets: WebSocketRoute[] = [];
  const names = new Set<string>();
  const stop = async (onError: (name: string, err: unknown) => void) => {
    for (const { name, cap } of started.reverse()) {
      try {
        await cap.stop?.();
      } catch (err) {
        onError(name, err);
      }
    }
    started.length = 0;
  };
  try {
    for (const capability of list) {
      if (names.has(capability.name))
        throw new Error(`capability ${capability.name} is listed twice`);
      names.add(capability.name);
      for (const p of capability.needs ?? []) {
        if (!offered.has(p.name))
          throw new Error(
            `capability ${capability.name} needs port ${p.name}, which no capability before it offers`,
          );
      }
      const ctx: CapabilityContext = {
        ...base,
        logger: base.logger.child({ capability: capability.name }),
        need<T>(p: Port<T>): T {
          if (!offered.has(p.name))
            throw new Error(`capability ${capability.name} needs port ${p.name}: none offers it`);
          return offered.get(p.name) as T;
        },
        want<T>(p: Port<T>): T | undefined {
          return offered.get(p.name) as T | undefined;
        },
      };
      const cap = await capability.start(ctx);
      started.push({ name: capability.name, cap });
      routes.push(...(cap.routes ?? []));
      websockets.push(...(cap.websockets ?? []));
      for (const o of cap.offers ?? []) {
        if (offered.has(o.port.name))
          throw new Error(`port ${o.port.name} is offered twice (again by ${capability.name})`);
        offered.set(o.port.name, o.value);
      }
    }
  } catch (err) {
    await stop((name, e) =>
      base.logger.error({ err: e, capability: name }, 'error while stopping'),
    );
    throw err;
  }
  return {
    routes,
    websockets,
    want: <T>(p: Port<T>) => offered.get(p.name) as T | undefined,
    stop,
  };
}
