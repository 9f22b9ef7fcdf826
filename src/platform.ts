// The composition root: reads configuration, opens the ports, builds each capability and the
// edges, and starts them. Nothing else in the tree knows which backends run.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve as resolvePath } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics, Gauge, Histogram } from 'prom-client';
import { sql } from 'kysely';
import {
  Accounts,
  accountRoutes,
  migrations as accountMigrations,
  type OwnerAccount,
} from './accounts/index.js';
import type { Config, Logger } from './core/index.js';
import { createLogger } from './core/index.js';
import type { RestRoute } from './core/rest.js';
import {
  EventLog,
  eventRoutes,
  migrations as eventMigrations,
  type EventTables,
} from './events/index.js';
import { buildHttpServer, startTlsListener, type TlsListener } from './http/index.js';
import {
  Messaging,
  messagingRoutes,
  migrations as messagingMigrations,
} from './messaging/index.js';
import { openQueues, migrations as queueMigrations } from './queue/index.js';
import { openState, type SharedState } from './state/index.js';
import { SharedCache } from './cache/index.js';
import {
  noTelephonyDialer,
  parseTrunks,
  startTelephony,
  type DomainCall,
  type Telephony,
} from './telephony/index.js';
import {
  Billing,
  billingRoutes,
  migrations as billingMigrations,
  segmentEvent,
  type SegmentRow,
} from './billing/index.js';
import {
  CallStore,
  CallbackOutbox,
  ConferenceStore,
  Conferences,
  VoiceEngine,
  callMigrations,
  callbackMigrations,
  conferenceMigrations,
  conferenceRoutes,
  callRoutes,
  notificationRoutes,
  recordingRoutes,
  segmentMeter,
  voiceDirectory,
} from './voice/index.js';
import {
  Modules,
  applicationRoutes,
  migrations as moduleMigrations,
} from './voice/modules/index.js';
import { Numbers, numberRoutes, migrations as numberMigrations } from './voice/numbers/index.js';
import {
  QueueService,
  QueueStore,
  queueRoutes,
  migrations as callQueueMigrations,
} from './voice/queues/index.js';
import {
  SipDomains,
  sipDomainRoutes,
  type CallPolicy,
  migrations as sipDomainMigrations,
} from './voice/sip-domains/index.js';
import { openStore, type Migration, type Store } from './store/index.js';
import { addressPolicyOf, setAddressPolicy } from './webhook/index.js';
import { Throttle, throttleOptionsFrom } from './throttle/index.js';
import { CAPABILITIES } from './capabilities.js';
import {
  accountDirectory,
  callRecordings,
  clientPresence,
  composeCapabilities,
  deviceGateway,
  interactionLog,
  offer,
  type ComposedCapabilities,
} from './plugin/index.js';
import { startDeviceGateway, type StartedDeviceGateway } from './webrtc/index.js';

export const VERSION = '0.1.0';

/** Every capability's migrations, applied at start and by `switchboard migrate`. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  ...accountMigrations,
  ...eventMigrations,
  ...queueMigrations,
  ...messagingMigrations,
  ...moduleMigrations,
  ...numberMigrations,
  ...billingMigrations,
  ...callMigrations,
  ...callbackMigrations,
  ...callQueueMigrations,
  ...conferenceMigrations,
  ...sipDomainMigrations,
  ...Object.assign({}, ...CAPABILITIES.map((c) => c.migrations ?? {})),
};

export interface Platform {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly state: SharedState;
  readonly accounts: Accounts;
  readonly events: EventLog;
  readonly messaging: Messaging;
  readonly http: FastifyInstance;
  readonly metrics: Registry;
  readonly owner: OwnerAccount;
  readonly voice: VoiceEngine;
  readonly conferences: Conferences;
  readonly billing: Billing;
  readonly modules: Modules;
  readonly numbers: Numbers;
  /** Present when SIP is enabled (SWITCHBOARD_SIP). */
  readonly telephony: Telephony | undefined;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  /** The TLS listener (REST API + wss /signal), unless SWITCHBOARD_TLS=false. */
  readonly tls: TlsListener | undefined;
  stop(): Promise<void>;
}

/** What the telephony edge needs to take a call to a SIP Domain. */
function sipDomainCall(d: CallPolicy): DomainCall {
  return {
    realm: d.realm,
    lookup: d.lookup,
    route: d.voiceUrl
      ? {
          accountSid: d.accountSid,
          numberSid: null,
          moduleSid: null,
          url: d.voiceUrl,
          method: d.voiceMethod,
          fallbackUrl: d.voiceFallbackUrl,
          fallbackMethod: d.voiceFallbackMethod,
          statusCallback: d.statusCallback,
          statusCallbackMethod: d.statusCallbackMethod,
        }
      : undefined,
  };
}

export async function openConfiguredStore(config: Config): Promise<Store> {
  return openStore({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: config.dataDir,
  });
}

const CREDENTIALS_FILE = 'owner-credentials.json';

/** Saves the owner credentials readable by the owner only, so a newcomer can find them again. */
function saveOwnerCredentials(dataDir: string, owner: OwnerAccount): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, CREDENTIALS_FILE);
  writeFileSync(
    path,
    JSON.stringify({ accountSid: owner.sid, authToken: owner.authToken }, null, 2) + '\n',
    {
      mode: 0o600,
    },
  );
  chmodSync(path, 0o600);
  return path;
}

export function readOwnerCredentials(
  dataDir: string,
): { accountSid: string; authToken: string } | undefined {
  const path = join(dataDir, CREDENTIALS_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as { accountSid: string; authToken: string };
}

export async function startPlatform(
  config: Config,
  options: { logger?: Logger } = {},
): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Where outgoing webhooks and fetches may go (docs/security.md); the API port once bound.
  setAddressPolicy(addressPolicyOf(config));
  const store = await openConfiguredStore(config);
  const cleanups: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
  };
  try {
    const applied = await store.migrate(MIGRATIONS);
    if (applied.length) logger.info({ applied }, 'database migrated');

    const state = await openState({ redisUrl: config.redisUrl, prefix: config.redisPrefix });
    cleanups.push(() => state.close());

    const accounts = new Accounts(store);
    const owner = await accounts.ensureOwner({
      sid: config.accountSid,
      authToken: config.authToken,
    });
    if (owner.created) saveOwnerCredentials(config.dataDir, owner);

    const events = new EventLog(store, logger, {
      retentionDays: config.eventRetentionDays,
      flushMs: config.eventFlushMs,
    });
    cleanups.push(() => events.close());

    // Messaging (issue 6): one durable queue per provider (SQL store, or BullMQ when REDIS_URL
    // is set) and one worker per provider, started here and stopped before the store closes.
    // Messaging starts before voice builds the numbers; it reaches them once they exist.
    const late: { numbers?: Numbers; composed?: ComposedCapabilities } = {};
    let publicUrl = config.publicUrl ?? `http://127.0.0.1:${config.port}`;
    const queues = openQueues({
      store,
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      onError: (queue, err) => logger.warn({ queue, err: err.message }, 'queue error'),
    });
    cleanups.push(() => queues.close());
    const messaging = new Messaging({
      store,
      queues,
      logger: logger.child({ component: 'messaging' }),
      authToken: async (sid) => (await accounts.find(sid))?.auth_token,
      state,
      // `url` is assigned below, once the HTTP server listens.
      publicUrl: () => publicUrl,
      // Inbound messages to a number outside every service go to its SmsUrl (or its module's).
      numberSmsRoute: (to) => late.numbers?.findSmsRoute(to) ?? Promise.resolve(undefined),
      scheduleMinLeadSeconds: config.scheduleMinLeadSeconds,
      callbackPipelining: config.callbackPipelining,
      // Every status a message takes is an interaction event; it carries the message's tags.
      onStatus: (c) =>
        events.record({
          accountSid: c.accountSid,
          kind: 'message',
          subjectSid: c.messageSid,
          data: { status: c.status, error_code: c.errorCode, num_segments: c.segments },
        }),
    });
    await messaging.start();
    cleanups.push(() => messaging.stop());

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    new Gauge({
      name: 'switchboard_event_log_pending',
      help: 'Interaction events waiting to be written',
      registers: [metrics],
      collect() {
        this.set(events.pending);
      },
    });

    const routes: RestRoute[] = [];
    // Computed once, after every capability has added its routes.
    let subresourceNames: string[] | undefined;
    const subresources = () =>
      (subresourceNames ??= [
        ...new Set(
          routes
            .map(
              (r) => /^\/2010-04-01\/Accounts\/:AccountSid\/([A-Za-z]+)\.json$/.exec(r.path)?.[1],
            )
            .filter((n): n is string => n !== undefined),
        ),
      ]);
    routes.push(...accountRoutes(accounts, subresources));
    routes.push(...messagingRoutes(messaging));
    routes.push(...eventRoutes(store.kysely<EventTables>(), events));

    let url = config.publicUrl ?? `http://127.0.0.1:${config.port}`;
    let boundPort = config.port;
    publicUrl = url;

    // ---- voice: modules, numbers, billing, the call engine and the telephony edge
    // Numbers, modules and spend limits change rarely and every inbound call reads them: each
    // node keeps them in memory, and a write on any node clears every node's copy.
    const directoryCache = new SharedCache({ channel: 'voice:directory', state, logger });
    const spendLimitCache = new SharedCache({ channel: 'billing:spend-limits', state, logger });
    for (const cache of [directoryCache, spendLimitCache]) {
      await cache.start();
      cleanups.push(() => cache.stop());
    }
    const billing = new Billing({
      store,
      logger,
      cache: spendLimitCache,
      // Each closed segment is an interaction event (kind segment, tagged module:<code>).
      onClosed: (segment) => events.record(segmentEvent(segment)),
    });
    const modules = new Modules(
      store,
      {
        accountStatus: async (sid) => (await accounts.find(sid))?.status,
        spendLimitReached: (sid) => billing.accountSpendReached(sid, Date.now()),
      },
      directoryCache,
    );
    const numbers = new Numbers(store, modules, directoryCache);
    late.numbers = numbers;
    // With several nodes, a node is taken for dead once its calls' metering heartbeat (and its
    // leases on status callbacks) stayed silent this long; the others close and end its calls.
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
    );
    await sipDomains.start();
    const telephony = config.sipEnabled
      ? await startTelephony(config, logger, parseTrunks(config.sipTrunks), {
          registrations: (host) => sipDomains.registrationPolicy(host),
          clientAors: async (accountSid, identity) =>
            (await sipDomains.clientDomains(accountSid)).map((d) => `sip:${identity}@${d}`),
          domainCalls: async (host) => {
            const d = await sipDomains.callPolicy(host);
            return d && sipDomainCall(d);
          },
          // <Dial><Client> also rings the Voice SDK devices presence knows, on any node.
          presence: () => late.composed?.want(clientPresence),
        })
      : undefined;
    // Where calls reach this node's Voice SDK devices (browser media, docs/presence.md).
    let devices: StartedDeviceGateway | undefined;
    if (telephony) {
      const gateway = await startDeviceGateway({
        host: config.sipHost,
        advertised:
          config.sipPublicAddress ?? (config.sipHost === '0.0.0.0' ? '127.0.0.1' : config.sipHost),
        port: config.deviceSipPort,
        portRange: config.webrtcPorts,
        logger: logger.child({ component: 'device-gateway' }),
      });
      devices = gateway;
      cleanups.push(() => gateway.close());
    }
    if (telephony) {
      cleanups.push(() => telephony.close());
      // Issue 4's target: INVITE → first media p99 < 150 ms.
      const firstMedia = new Histogram({
        name: 'switchboard_voice_first_media_seconds',
        help: 'Inbound calls: from the INVITE to the first RTP packet sent',
        buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2],
        registers: [metrics],
      });
      telephony.onFirstMedia((ms) => firstMedia.observe(ms / 1000));
    }
    // This process among the nodes sharing the store (queue members, status callback leases).
    const nodeId = randomUUID();
    const meter = segmentMeter(billing, modules, logger, Math.min(5000, staleMs / 6));
    cleanups.push(async () => meter.stop());
    const calls = new CallStore(store, nodeId);
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
        })().catch((err: unknown) => logger.error({ err }, 'could not store a call notification')),
    });
    await outbox.start({ all: !config.redisUrl });
    cleanups.push(() => outbox.stop());
    // Conference rooms live on this node's mixer; commands reach them over the state bus.
    const conferences = new Conferences({
      store: new ConferenceStore(store),
      state,
      outbox,
      logger,
      audio: telephony?.conferenceAudio,
      dataDir: config.dataDir,
      publicUrl: () => url,
      webhookTimeoutMs: config.webhookTimeout,
    });
    await conferences.start({ recoverOrphans: !config.redisUrl });
    const voice = new VoiceEngine({
      outbox,
      nodeId,
      queues: new QueueService(
        callQueues,
        nodeId,
        logger,
        telephony && {
          state,
          dialer: telephony.dialer,
          // Other nodes reach this one here to bridge a member to our <Dial><Queue> call.
          sipUri: (user) =>
            `sip:${user}@${config.sipPublicAddress ?? config.sipHost}:${telephony.sip.transport.port}`,
        },
      ),
      calls,
      directory,
      meter: meter.meter,
      dialer: telephony?.dialer ?? noTelephonyDialer,
      state,
      logger,
      dataDir: config.dataDir,
      publicUrl: () => url,
      webhookTimeoutMs: config.webhookTimeout,
      // With several nodes sharing the database, a starting node must not end others' calls.
      recoverOrphans: !config.redisUrl,
      nodeStaleMs: staleMs,
      recordEvent: (e) => events.record(e),
      conferences,
    });
    await voice.start();
    cleanups.push(() => voice.stop());
    // Calls whose segments were just closed for a node that stopped are over too.
    const endAbandoned = (closed: readonly SegmentRow[]) =>
      voice.endAbandoned(
        closed.map((s) => ({ callSid: s.call_sid, atMs: s.ended_ms ?? s.last_seen_ms })),
      );
    if (config.redisUrl) await endAbandoned(recovered);
    cleanups.push(() => conferences.stop());
    telephony?.accept(voice);
    routes.push(...callRoutes(calls, voice, directory, (sids) => billing.callPrices(sids)));
    routes.push(...recordingRoutes(calls, voice), ...notificationRoutes(calls));
    routes.push(...conferenceRoutes(conferences, voice, calls));
    routes.push(
      ...queueRoutes(callQueues, {
        redirectCall: (callSid, url, method) =>
          voice.control({ callSid, action: 'redirect', url, method }),
      }),
    );
    routes.push(
      ...applicationRoutes(modules, { onDelete: (sid) => numbers.detachApplication(sid) }),
    );
    routes.push(...numberRoutes(numbers));
    routes.push(...sipDomainRoutes(sipDomains));
    routes.push(...billingRoutes(billing, { subaccountsOf: (sid) => accounts.subaccountsOf(sid) }));
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
    cleanups.push(async () => clearInterval(billingSweep));
    await billing.runAccounting();

    // Throttling (issue 5, docs/throttling.md): counters in the shared state, hooks at the edge.
    const throttle = config.throttle
      ? new Throttle({
          state,
          options: throttleOptionsFrom(config),
          logger: logger.child({ component: 'throttle' }),
          metrics,
        })
      : undefined;

    // The capabilities composed from the list (src/capabilities.ts).
    const composed = await composeCapabilities(
      CAPABILITIES,
      {
        config,
        logger,
        store,
        state,
        metrics,
        nodeId,
        urls: {
          get api() {
            return `http://127.0.0.1:${boundPort}`;
          },
          get public() {
            return url;
          },
        },
      },
      [
        offer(interactionLog, events),
        ...(devices ? [offer(deviceGateway, devices)] : []),
        offer(accountDirectory, {
          authToken: async (sid: string) => (await accounts.find(sid))?.auth_token,
          status: async (sid: string) => (await accounts.find(sid))?.status,
          signingKey: (sid: string) => accounts.signingKey(sid),
        }),
        // Voice offers its recordings' audio to the capabilities that analyse calls.
        offer(callRecordings, {
          find: async (accountSid: string, sid: string) => {
            const r = await calls.getRecording(accountSid, sid);
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
        }),
      ],
    );
    late.composed = composed;
    cleanups.push(() =>
      composed.stop((name, err) => logger.error({ err, capability: name }, 'error while stopping')),
    );
    routes.push(...composed.routes);

    const http = buildHttpServer({
      throttle,
      routes,
      auth: accounts,
      events,
      metrics,
      logger,
      bodyLimit: config.bodyLimit,
      version: VERSION,
      health: async () => {
        const database = await sql`select 1`
          .execute(store.kysely())
          .then(() => 'ok')
          .catch((e: Error) => `error: ${e.message}`);
        const sharedState = await state
          .get('healthz')
          .then(() => 'ok')
          .catch((e: Error) => `error: ${e.message}`);
        return { database, state: sharedState };
      },
    });
    cleanups.push(() => http.close());
    await http.listen({ port: config.port, host: config.host });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    boundPort = port;
    setAddressPolicy(addressPolicyOf(config, [port]));
    url = config.publicUrl ?? `http://127.0.0.1:${port}`;
    publicUrl = url;
    // The TLS listener: the same API, plus the capabilities' WebSockets (presence's /signal).
    let tls: TlsListener | undefined;
    if (config.tlsEnabled) {
      const listener = await startTlsListener({
        port: config.tlsPort,
        host: config.host,
        certFile: config.tlsCert,
        keyFile: config.tlsKey,
        dataDir: config.dataDir,
        http,
        websockets: composed.websockets,
        logger,
      });
      tls = listener;
      cleanups.push(() => listener.close());
    }

    return {
      config,
      logger,
      store,
      state,
      accounts,
      events,
      messaging,
      http,
      metrics,
      owner,
      url,
      voice,
      conferences,
      billing,
      modules,
      numbers,
      telephony,
      tls,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
