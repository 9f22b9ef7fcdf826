// The throttling capability (docs/throttling.md): counters in the shared state; the HTTP edge
// runs its hooks on every request when SWITCHBOARD_THROTTLE is on.
import { offer, port, type Capability } from '../plugin/index.js';
import { throttleOptionsFrom } from './options.js';
import { Throttle } from './throttle.js';

/** Offered when throttling is on: the composition root hands it to the HTTP edge. */
export const throttleHandle = port<Throttle>('throttle');

export const throttleCapability: Capability = {
  name: 'throttle',
  async start(ctx) {
    if (!ctx.config.throttle) return {};
    const throttle = new Throttle({
      state: ctx.state,
      options: throttleOptionsFrom(ctx.config),
      logger: ctx.logger,
      metrics: ctx.metrics,
    });
    // The edge closes it (before the shared state closes) when it stops serving.
    return { offers: [offer(throttleHandle, throttle)] };
  },
};
