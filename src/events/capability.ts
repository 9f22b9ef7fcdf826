// The events capability: the account's interaction log (API requests, calls, segments,
// messages) written in batches, and its Events resource. It offers the log to the others.
import { Gauge } from 'prom-client';
import { interactionLog, offer, port, type Capability } from '../plugin/index.js';
import { EventLog } from './event-log.js';
import { eventRoutes } from './routes.js';
import { migrations } from './tables.js';

/** The log itself, for the composition root: the HTTP edge records every request into it. */
export const eventLogHandle = port<EventLog>('event-log');

export const eventsCapability: Capability = {
  name: 'events',
  migrations,
  async start(ctx) {
    const events = new EventLog(ctx.store, ctx.logger, {
      retentionDays: ctx.config.eventRetentionDays,
      flushMs: ctx.config.eventFlushMs,
    });
    new Gauge({
      name: 'switchboard_event_log_pending',
      help: 'Interaction events waiting to be written',
      registers: [ctx.metrics],
      collect() {
        this.set(events.pending);
      },
    });
    return {
      routes: eventRoutes(events),
      offers: [offer(interactionLog, events), offer(eventLogHandle, events)],
      stop: () => events.close(),
    };
  },
};
