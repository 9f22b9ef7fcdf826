// The voice capability: applications and modules, numbers, SIP Domains, the call engine
// (calls, TwiML, queues, conferences, recordings) and its status callbacks. Calls are metered
// through billing; SIP and RTP are reached through the telephony starter the platform offers.
import { resolve as resolvePath } from 'node:path';
import { Histogram } from 'prom-client';
import { SharedCache } from '../cache/index.js';
import { callMetering, type SegmentRow } from '../billing/index.js';
import {
  accountDirectory,
  callRecordings,
  clientPresence,
  interactionLog,
  offer,
  port,
  smsNumbers,
  type Capability,
} from '../plugin/index.js';
import { CallbackOutbox, migrations as callbackMigrations } from './callbacks/index.js';
import {
  CallStore,
  notificationRoutes,
  callRoutes,
  migrations as callMigrations,
} from './calls/index.js';
import { RecordingStore, recordingRoutes } from './recordings/index.js';
import {
  ConferenceStore,
  Conferences,
  conferenceRoutes,
  migrations as conferenceMigrations,
} from './conferences/index.js';
import { noTelephonyDialer } from './ports/index.js';
import { VoiceEngine } from './engine/index.js';
import { Modules, applicationRoutes, migrations as moduleMigrations } from './modules/index.js';
import { Numbers, numberRoutes, migrations as numberMigrations } from './numbers/index.js';
import {
  QueueService,
  QueueStore,
  queueRoutes,
  migrations as callQueueMigrations,
} from './queues/index.js';
import {
  SipDomains,
  sipDomainRoutes,
  migrations as sipDomainMigrations,
} from './sip-domains/index.js';
import { telephonyStarter, type VoiceTelephony } from './telephony-port.js';
import { segmentMeter, voiceDirectory } from './wiring.js';

/** What the composition root (and the tests through it) read of a running voice capability. */
export interface VoiceHandle {
  readonly engine: VoiceEngine;
  readonly conferences: Conferences;
  readonly modules: Modules;
  readonly numbers: Numbers;
}
export const voiceHandle = port<VoiceHandle>('voice');

export const voiceCapability: Capability = {
  name: 'voice',
  migrations: {
    ...moduleMigrations,
    ...numberMigrations,
    ...callMigrations,
    ...callbackMigrations,
    ...callQueueMigrations,
    ...conferenceMigrations,
    ...sipDomainMigrations,
  },
  needs: [accountDirectory, callMetering, interactionLog],
  async start(ctx) {
    const { config, logger, store, state, nodeId } = ctx;
    const accounts = ctx.need(accountDirectory);
    const billing = ctx.need(callMetering);
    const log = ctx.need(interactionLog);
    const stops: (() => Promise<void> | void)[] = [];
    const stop = async () => {
      for (const s of stops.reverse()) await s();
    };
    try {
      // Numbers and modules change rarely and every inbound call reads them: each node keeps
      // them in memory, and a write on any node clears every node's copy.
      const directoryCache = new SharedCache({ channel: 'voice:directory', state, logger });
      await directoryCache.start();
      stops.push(() => directoryCache.stop());
      const modules = new Modules(
        store,
        {
          accountStatus: (sid) => accounts.status(sid),
          spendLimitReached: (sid) => billing.accountSpendReached(sid, Date.now()),
        },
        directoryCache,
      );
      const numbers = new Numbers(store, modules, directoryCache);
      // With several nodes, a node is taken for dead once its calls' metering heartbeat (and
      // its leases on status callbacks) stayed silent this long; the others close and end its
      // calls.
      const staleMs = Math.max(1000, config.nodeStaleMs);
      const recovered = await billing.recoverOpenSegments(
        Date.now(),
        config.redisUrl ? { staleMs } : {},
      );
      if (recovered.length)
        logger.warn({ segments: recovered.length }, 'closed segments left open by a previous run');
      // SIP Domains: phones register to them (the registrar runs whenever SIP does) and
      // <Dial><Client> finds an account's clients among their registrations.
      const sipDomains = new SipDomains(
        store,
        logger.child({ component: 'sip-domains' }),
        config.sipCredentialKey,
        config.sipCredentialPreviousKeys,
      );
      await sipDomains.start();
      const startTelephony = ctx.want(telephonyStarter);
      const telephony: VoiceTelephony | undefined = startTelephony
        ? await startTelephony(sipDomains, ctx.want(clientPresence))
        : undefined;
      if (telephony) {
        stops.push(() => telephony.close());
        // Issue 4's target: INVITE → first media p99 < 150 ms.
        const firstMedia = new Histogram({
          name: 'switchboard_voice_first_media_seconds',
          help: 'Inbound calls: from the INVITE to the first RTP packet sent',
          buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2],
          registers: [ctx.metrics],
        });
        telephony.onFirstMedia((ms) => firstMedia.observe(ms / 1000));
      }
      const meter = segmentMeter(billing, modules, logger, Math.min(5000, staleMs / 6));
      stops.push(() => meter.stop());
      const calls = new CallStore(store, nodeId);
      const recordings = new RecordingStore(store);
      const directory = voiceDirectory(accounts, modules, numbers, logger);
      const callQueues = new QueueStore(store);
      // With one node, members left by a previous run belong to calls that run no more.
      if (!config.redisUrl) await callQueues.clearMembers();
      // Status callbacks go through a durable outbox: a single node delivers, at start, every
      // one a previous run left undelivered; with several nodes, a node takes over a crashed
      // one's once its lease ran out.
      const outbox = new CallbackOutbox({
        store,
        nodeId,
        leaseMs: staleMs,
        logger: logger.child({ component: 'status-callbacks' }),
        authToken: (sid) => directory.authToken(sid),
        onGiveUp: (item, reason) =>
          // A call's own chain, or a recording's or conference's whose event names the call.
          void (async () => {
            const callSid = item.chain.startsWith('CA') ? item.chain : item.params.CallSid;
            if (!callSid) return;
            await calls.notify(
              { sid: callSid, account_sid: item.accountSid },
              15003,
              `callback ${item.seq} of ${item.chain} not delivered: ${reason}`,
              item.url,
              1,
            );
          })().catch((err: unknown) =>
            logger.error({ err }, 'could not store a call notification'),
          ),
      });
      await outbox.start({ all: !config.redisUrl });
      stops.push(() => outbox.stop());
      // Conference rooms live on this node's mixer; commands reach them over the state bus.
      const publicUrl = () => ctx.urls.public;
      const conferences = new Conferences({
        store: new ConferenceStore(store),
        state,
        outbox,
        logger,
        audio: telephony?.conferenceAudio,
        dataDir: config.dataDir,
        publicUrl,
        webhookTimeoutMs: config.webhookTimeout,
      });
      await conferences.start({ recoverOrphans: !config.redisUrl });
      const voice = new VoiceEngine({
        outbox,
        nodeId,
        recordings,
        queues: new QueueService(
          callQueues,
          nodeId,
          logger,
          telephony && {
            state,
            dialer: telephony.dialer,
            // Other nodes reach this one here to bridge a member to our <Dial><Queue> call.
            sipUri: (user) => telephony.sipUri(user),
          },
        ),
        calls,
        directory,
        meter: meter.meter,
        dialer: telephony?.dialer ?? noTelephonyDialer,
        state,
        logger,
        dataDir: config.dataDir,
        publicUrl,
        webhookTimeoutMs: config.webhookTimeout,
        // With several nodes sharing the database, a starting node must not end others' calls.
        recoverOrphans: !config.redisUrl,
        nodeStaleMs: staleMs,
        recordEvent: (e) => log.record(e),
        conferences,
      });
      await voice.start();
      stops.push(() => voice.stop());
      // Calls whose segments were just closed for a node that stopped are over too.
      const endAbandoned = (closed: readonly SegmentRow[]) =>
        voice.endAbandoned(
          closed.map((s) => ({ callSid: s.call_sid, atMs: s.ended_ms ?? s.last_seen_ms })),
        );
      if (config.redisUrl) await endAbandoned(recovered);
      stops.push(() => conferences.stop());
      telephony?.accept(voice);
      // Billing sweep (issue 4): posts segments left unposted and closes those whose call
      // stopped beating (a crashed node) at their last known time.
      const billingSweep = setInterval(
        () => {
          billing
            .recoverOpenSegments(Date.now(), { staleMs })
            .then((closed) => endAbandoned(closed))
            .then(() => billing.runAccounting())
            .catch((err: unknown) => logger.error({ err }, 'billing sweep failed'));
        },
        Math.min(30_000, staleMs / 2),
      );
      billingSweep.unref();
      stops.push(() => clearInterval(billingSweep));
      await billing.runAccounting();
      return {
        routes: [
          ...callRoutes(calls, voice, directory, (sids) => billing.callPrices(sids)),
          // The routes reach live calls only through the engine's narrow ports.
          ...recordingRoutes(recordings, calls, voice),
          ...notificationRoutes(calls),
          ...conferenceRoutes(conferences, voice, recordings),
          ...queueRoutes(callQueues, {
            redirectCall: (callSid, url, method) =>
              voice.control({ callSid, action: 'redirect', url, method }),
          }),
          ...applicationRoutes(modules, { onDelete: (sid) => numbers.detachApplication(sid) }),
          ...numberRoutes(numbers),
          ...sipDomainRoutes(sipDomains),
        ],
        offers: [
          offer(voiceHandle, { engine: voice, conferences, modules, numbers }),
          offer(smsNumbers, { findSmsRoute: (to: string) => numbers.findSmsRoute(to) }),
          // Its recordings' audio, for the capabilities that analyse calls.
          offer(callRecordings, {
            find: async (accountSid: string, sid: string) => {
              const r = await recordings.get(accountSid, sid);
              return (
                r && {
                  sid: r.sid,
                  accountSid: r.account_sid,
                  callSid: r.call_sid,
                  status: r.status,
                  channels: r.channels,
                  durationMs: r.duration_ms,
                  path: resolvePath(r.path),
                  dateCreated: r.date_created,
                }
              );
            },
            onCompleted: (listener) =>
              recordings.onCompleted((sid, accountSid) => listener(accountSid, sid)),
          }),
        ],
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
