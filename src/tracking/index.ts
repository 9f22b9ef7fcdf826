// Tracking (issue 14, docs/tracking.md): trackers select the account's events by tag and keep
// measures of them, counted exactly once in the unit that writes the events (counter.ts);
// /tracking/v1/Trackers and their Measurements.
import { Counter, Gauge } from 'prom-client';
import { accountDirectory, interactionLog, type Capability } from '../plugin/index.js';
import { WebhookOutbox } from '../webhook/index.js';
import { TrackerCounter } from './counter.js';
import { TrackerRegistry } from './registry.js';
import { trackerRoutes } from './routes.js';
import { migrations, type TrackingTables } from './tables.js';
import { TrackerStore } from './tracker-store.js';
import { trackerTriggerRoutes } from './trigger-routes.js';
import { TrackerTriggers } from './triggers.js';

export { MEASURES, type Measure } from './trackers.js';

export const tracking: Capability = {
  name: 'tracking',
  migrations,
  needs: [interactionLog, accountDirectory],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const db = ctx.store.kysely<TrackingTables>();
    const registry = new TrackerRegistry(db, ctx.state, ctx.logger);
    await registry.start();
    const counter = new TrackerCounter(ctx.store, registry);
    const accounts = ctx.need(accountDirectory);
    const outbox = new WebhookOutbox({
      store: ctx.store,
      authToken: (sid) => accounts.authToken(sid),
      logger: ctx.logger.child({ component: 'tracker-callbacks' }),
    });
    const triggers = new TrackerTriggers(
      db,
      outbox,
      registry,
      ctx.logger,
      ctx.config.usageTriggerSweepMs,
    );
    // Never unlistened: capabilities stopping after this one still log events, and the log's
    // last flush (when the platform closes it) must count them too.
    log.listen({
      statements: (batch) => counter.statements(batch),
      committed: (batch) => {
        counter.committed(batch);
        triggers.committed(batch);
      },
    });
    outbox.start();
    triggers.start();
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
    const store = new TrackerStore(db);
    let reported = 0;
    const report = setInterval(() => {
      counted.inc(counter.counted - reported);
      reported = counter.counted;
    }, 5_000);
    report.unref();
    return {
      routes: [
        ...trackerRoutes(store, registry, db, () => log.flush()),
        ...trackerTriggerRoutes(store, triggers),
      ],
      async stop() {
        clearInterval(report);
        await triggers.stop();
        await outbox.stop();
        await registry.stop();
      },
    };
  },
};
