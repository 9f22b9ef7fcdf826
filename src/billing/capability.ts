// The billing capability: usage plans, metered call segments, the ledger and spend limits.
// Voice meters its calls through it; each closed segment is an event in the interaction log.
import { SharedCache } from '../cache/index.js';
import { accountDirectory, interactionLog, offer, port, type Capability } from '../plugin/index.js';
import { Billing } from './billing.js';
import { billingRoutes } from './routes.js';
import { ledgerEvent, segmentEvent } from './segment-event.js';
import { triggerRoutes } from './trigger-routes.js';
import { UsageTriggers } from './triggers.js';
import { WebhookOutbox } from '../webhook/index.js';
import { migrations } from './tables.js';

/** The whole ledger, for the composition root (the platform's handle to tests and tools). */
export const billingHandle = port<Billing>('billing');

/**
 * What the voice capability meters calls with: segments opened, beaten and closed, spend
 * limits, the accounting sweep and the prices its Calls resources show. Nothing else of Billing.
 */
export type CallMetering = Pick<
  Billing,
  | 'openSegment'
  | 'touch'
  | 'closeSegment'
  | 'recoverOpenSegments'
  | 'runAccounting'
  | 'spendLimit'
  | 'checkSpend'
  | 'accountSpendReached'
  | 'callPrices'
>;
export const callMetering = port<CallMetering>('call-metering');

export const billingCapability: Capability = {
  name: 'billing',
  migrations,
  needs: [interactionLog, accountDirectory],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const accounts = ctx.need(accountDirectory);
    // Spend limits change rarely and every call's spend check reads them: each node keeps them
    // in memory, and a write on any node clears every node's copy.
    const spendLimits = new SharedCache({
      channel: 'billing:spend-limits',
      state: ctx.state,
      logger: ctx.logger,
    });
    await spendLimits.start();
    const outbox = new WebhookOutbox({
      store: ctx.store,
      authToken: (sid) => accounts.authToken(sid),
      logger: ctx.logger.child({ component: 'webhook-outbox' }),
    });
    const triggers = new UsageTriggers({
      store: ctx.store,
      accounts,
      outbox,
      logger: ctx.logger.child({ component: 'usage-triggers' }),
      ...(ctx.config.usageTriggerSweepMs ? { sweepMs: ctx.config.usageTriggerSweepMs } : {}),
    });
    const billing = new Billing({
      store: ctx.store,
      logger: ctx.logger,
      cache: spendLimits,
      // Each closed segment is an interaction event (kind segment, tagged module:<code>), and
      // new usage of its account, which its usage triggers look at.
      // Each posted ledger entry is an event too (kind ledger): the debit carries the call's tags.
      onPosted: (entries) => {
        for (const e of entries) log.record(ledgerEvent(e));
      },
      onClosed: (segment) => {
        log.record(segmentEvent(segment));
        triggers.poke(segment.user_account_sid);
      },
    });
    triggers.start();
    outbox.start();
    return {
      routes: [
        ...billingRoutes(billing, { subaccountsOf: (sid) => accounts.subaccountsOf(sid) }),
        ...triggerRoutes(triggers),
      ],
      offers: [offer(billingHandle, billing), offer(callMetering, billing)],
      stop: async () => {
        await triggers.stop();
        await outbox.stop();
        await spendLimits.stop();
      },
    };
  },
};
