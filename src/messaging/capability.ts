// The messaging capability: providers and their queues, Messaging Services, outbound and
// scheduled messages, receipts and inbound messages. Inbound messages to a number outside
// every service go to the number's SmsUrl, which voice's numbers offer.
import {
  accountDirectory,
  interactionLog,
  offer,
  port,
  smsNumbers,
  type Capability,
} from '../plugin/index.js';
import { openQueues, migrations as queueMigrations } from '../queue/index.js';
import { Messaging } from './messaging.js';
import { messagingRoutes } from './routes.js';
import { migrations } from './tables.js';

/** The running capability, for the composition root (and the tests through it). */
export const messagingHandle = port<Messaging>('messaging');

export const messagingCapability: Capability = {
  name: 'messaging',
  // Its provider queues use the queue port's table when the queues are SQL ones.
  migrations: { ...queueMigrations, ...migrations },
  needs: [accountDirectory, smsNumbers, interactionLog],
  async start(ctx) {
    const { config, logger, store, state } = ctx;
    const accounts = ctx.need(accountDirectory);
    const numbers = ctx.need(smsNumbers);
    const log = ctx.need(interactionLog);
    // One durable queue per provider (SQL store, or BullMQ when REDIS_URL is set) and one
    // worker per provider, stopped before the store closes.
    const queues = openQueues({
      store,
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      onError: (queue, err) => logger.warn({ queue, err: err.message }, 'queue error'),
    });
    const messaging = new Messaging({
      store,
      queues,
      logger,
      authToken: (sid) => accounts.authToken(sid),
      state,
      publicUrl: () => ctx.urls.public,
      // Inbound messages to a number outside every service go to its SmsUrl (or its module's).
      numberSmsRoute: (to) => numbers.findSmsRoute(to),
      scheduleMinLeadSeconds: config.scheduleMinLeadSeconds,
      callbackPipelining: config.callbackPipelining,
      // Every status a message takes is an interaction event; it carries the message's tags.
      onStatus: (c) =>
        log.record({
          accountSid: c.accountSid,
          kind: 'message',
          subjectSid: c.messageSid,
          data: { status: c.status, error_code: c.errorCode, num_segments: c.segments },
        }),
    });
    try {
      await messaging.start();
    } catch (err) {
      await queues.close();
      throw err;
    }
    return {
      routes: messagingRoutes(messaging),
      offers: [offer(messagingHandle, messaging)],
      async stop() {
        try {
          await messaging.stop();
        } finally {
          await queues.close();
        }
      },
    };
  },
};
