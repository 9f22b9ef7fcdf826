// The composition root: reads the configuration, opens the ports (store, shared state, the
// HTTP listener), starts the capabilities of src/capabilities.ts in order and mounts their
// routes on the HTTP edge. Nothing else in the tree knows which backends run.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'kysely';
import { accountsHandle, type Accounts, type OwnerAccount } from './accounts/index.js';
import { billingHandle, type Billing } from './billing/index.js';
import { CAPABILITIES } from './capabilities.js';
import { createLogger, type Config, type Logger } from './core/index.js';
import { routePermission } from './core/permissions.js';
import type { RestRoute } from './core/rest.js';
import { eventLogHandle, type EventLog } from './events/index.js';
import {
  bindHttpListener,
  buildHttpServer,
  startTlsListener,
  type TlsListener,
} from './http/index.js';
import { messagingHandle, type Messaging } from './messaging/index.js';
import {
  apiCatalogue,
  composeCapabilities,
  deviceGateway,
  offer,
  type Offer,
  type Port,
} from './plugin/index.js';
import { openState, type SharedState } from './state/index.js';
import { openStore, type Migration, type Store } from './store/index.js';
import {
  announcePhones,
  parseTrunks,
  startTelephony,
  type DomainCall,
  type Telephony,
} from './telephony/index.js';
import { throttleHandle } from './throttle/index.js';
import { addressPolicyOf, setAddressPolicy } from './webhook/index.js';
import { gatewaySecret, startDeviceGateway } from './webrtc/index.js';
import {
  telephonyStarter,
  voiceHandle,
  type Conferences,
  type TelephonyStarter,
  type VoiceEngine,
} from './voice/index.js';
import type { Modules } from './voice/modules/index.js';
import type { Numbers } from './voice/numbers/index.js';
import type { CallPolicy } from './voice/sip-domains/index.js';

export { readOwnerCredentials } from './accounts/index.js';

export const VERSION = '0.1.0';

/** Every capability's migrations, applied at start and by `switchboard migrate`. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.assign(
  {},
  ...CAPABILITIES.map((c) => c.migrations ?? {}),
) as Record<string, Migration>;

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
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:3000 (SWITCHBOARD_PUBLIC_URL when set) */
  readonly url: string;
  /** The TLS listener (REST API + wss /signal), unless SWITCHBOARD_TLS=false. */
  readonly tls: TlsListener | undefined;
  stop(): Promise<void>;
}

export async function openConfiguredStore(config: Config): Promise<Store> {
  return openStore({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: config.dataDir,
  });
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

/** The collections mounted under an account, read from the routes once they are all known. */
function subresourceNames(routes: readonly RestRoute[]): string[] {
  const names = routes
    .map((r) => /^\/2010-04-01\/Accounts\/:AccountSid\/([A-Za-z]+)\.json$/.exec(r.path)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)];
}

/** The permissions restricted keys may be given: one per route that has one. */
function permissionTemplates(routes: readonly RestRoute[]): Set<string> {
  const out = new Set<string>();
  for (const r of routes) {
    const p = routePermission(r);
    if (p) out.add(p.template);
  }
  return out;
}

export async function startPlatform(
  config: Config,
  options: { logger?: Logger } = {},
): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
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
    // Bound first, so that every capability knows this node's URLs before it starts.
    const listener = await bindHttpListener(config.port, config.host);
    cleanups.push(() => listener.close());
    // Where outgoing webhooks and fetches may go (docs/security.md): not to this API's port.
    setAddressPolicy(addressPolicyOf(config, [listener.port]));
    const api = `http://127.0.0.1:${listener.port}`;
    const urls = { api, public: config.publicUrl ?? api };
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });

    // Ports the platform offers the capabilities: the API catalogue (read while serving, once
    // every route is mounted) and, when SIP is on, the telephony edge.
    let mounted: string[] = [];
    let permissions: ReadonlySet<string> = new Set();
    const initial: Offer<unknown>[] = [
      offer(apiCatalogue, { subresources: () => mounted, permissions: () => permissions }),
    ];
    let telephony: Telephony | undefined;
    if (config.sipEnabled) {
      // Where calls reach this node's Voice SDK devices (browser media, docs/presence.md).
      const secret = await gatewaySecret(config.deviceSecret, state);
      const devices = await startDeviceGateway({
        secret,
        host: config.sipHost,
        advertised:
          config.sipPublicAddress ?? (config.sipHost === '0.0.0.0' ? '127.0.0.1' : config.sipHost),
        port: config.deviceSipPort,
        portRange: config.webrtcPorts,
        logger: logger.child({ component: 'device-gateway' }),
      });
      cleanups.push(() => devices.close());
      initial.push(offer(deviceGateway, devices));
      const start: TelephonyStarter = async (sipDomains, presence) => {
        const t = await startTelephony(config, logger, parseTrunks(config.sipTrunks), {
          registrations: (host) => sipDomains.registrationPolicy(host),
          clientAors: async (accountSid, identity) =>
            (await sipDomains.clientDomains(accountSid)).map((d) => `sip:${identity}@${d}`),
          domainCalls: async (host) => {
            const d = await sipDomains.callPolicy(host);
            return d && sipDomainCall(d);
          },
          // <Dial><Client> also rings the Voice SDK devices presence knows, on any node.
          presence: () => presence,
          // Calls the devices of this node place enter here, vouched for by their gateway.
          clientCalls: (ticket) => devices.redeem(ticket),
          deviceHeaders: (address, callSid, params) => devices.headersFor(address, callSid, params),
        });
        // Phones registered to SIP Domains are listed by presence with the Voice SDK devices.
        if (presence) announcePhones(t.sip, presence);
        const voiceHost = config.sipHost === '0.0.0.0' ? '127.0.0.1' : config.sipHost;
        devices.setVoiceTarget(`sip:application@${voiceHost}:${t.sip.transport.port}`);
        telephony = t;
        return {
          dialer: t.dialer,
          conferenceAudio: t.conferenceAudio,
          sipUri: (user) =>
            `sip:${user}@${config.sipPublicAddress ?? config.sipHost}:${t.sip.transport.port}`,
          accept: (voice) => t.accept(voice),
          onFirstMedia: (listener) => t.onFirstMedia(listener),
          close: () => t.close(),
        };
      };
      initial.push(offer(telephonyStarter, start));
    }

    const composed = await composeCapabilities(
      CAPABILITIES,
      { config, logger, store, state, metrics, nodeId: randomUUID(), urls },
      initial,
    );
    cleanups.push(() =>
      composed.stop((name, err) => logger.error({ err, capability: name }, 'error while stopping')),
    );
    mounted = subresourceNames(composed.routes);
    permissions = permissionTemplates(composed.routes);
    const need = <T>(p: Port<T>): T => {
      const value = composed.want(p);
      if (value === undefined) throw new Error(`no capability offers ${p.name}`);
      return value;
    };
    const { accounts, owner } = need(accountsHandle);
    const events = need(eventLogHandle);
    const voice = need(voiceHandle);

    const http = buildHttpServer({
      listener,
      throttle: composed.want(throttleHandle),
      routes: composed.routes,
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
    await http.ready();
    // The TLS listener: the same API, plus the capabilities' WebSockets (presence's /signal).
    let tls: TlsListener | undefined;
    if (config.tlsEnabled) {
      const secure = await startTlsListener({
        port: config.tlsPort,
        host: config.host,
        certFile: config.tlsCert,
        keyFile: config.tlsKey,
        dataDir: config.dataDir,
        http,
        websockets: composed.websockets,
        logger,
      });
      tls = secure;
      cleanups.push(() => secure.close());
    }

    return {
      config,
      logger,
      store,
      state,
      accounts,
      events,
      messaging: need(messagingHandle),
      http,
      metrics,
      owner,
      url: urls.public,
      voice: voice.engine,
      conferences: voice.conferences,
      billing: need(billingHandle),
      modules: voice.modules,
      numbers: voice.numbers,
      telephony,
      tls,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
