// Tracking (issue 14, docs/tracking.md): trackers select the account's events by tag and keep
// measures of them, counted exactly once in the unit that writes the events (counter.ts);
// /tracking/v1/Trackers and their Measurements.
import { Counter, Gauge } from 'prom-client';
import { interactionLog, type Capability } from '../plugin/index.js';
import { TrackerCounter } from './counter.js';
import { TrackerRegistry } from './registry.js';
import { trackerRoutes } from './routes.js';
import { migrations, type TrackingTables } from './tables.js';
import { TrackerStore } from './tracker-store.js';

export { MEASURES, type Measure } from './trackers.js';

export const tracking: Capability = {
  name: 'tracking',
  migrations,
  needs: [interactionLog],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const db = ctx.store.kysely<TrackingTables>();
    const registry = new TrackerRegistry(db, ctx.state, ctx.logger);
    await registry.start();
    const counter = new TrackerCounter(ctx.store, registry);
    // Never unlistened: capabilities stopping after this one still log events, and the log's
    // last flush (when the platform closes it) must count them too.
    log.listen(counter);
    new Gauge({
      name: 'switchboard_trackers',
      help: 'Trackers known to this node',
      registers: [ctx.metrics],
      collect() {
        this.set(registry.size);
      },
    });
    const counted = new Counter({
      name: 'switchboard_tracker_events_counted_total',
      help: '(tracker, event) pairs counted by this node',
      registers: [ctx.metrics],
    });
    let reported = 0;
    const report = setInterval(() => {
      counted.inc(counter.counted - reported);
      reported = counter.counted;
    }, 5_000);
    report.unref();
    return {
      routes: trackerRoutes(new TrackerStore(db), registry, db, () => log.flush()),
      async stop() {
        clearInterval(report);
        await registry.stop();
      },
    };
  },
};
