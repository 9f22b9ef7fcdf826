// Presence (issue 13, docs/presence.md): Voice SDK devices present a Twilio-format
// AccessToken on the signalling WebSocket (/signal on the TLS listener), register, and are
// found by <Dial><Client> and Calls create To=client:… on any node through the
// `clientPresence` port. Browser media is terminated by the device gateway edge the platform
// offers (`deviceGateway`); this capability keeps the protocol, the registry and the rules.
import { Gauge } from 'prom-client';
import {
  accountDirectory,
  clientPresence,
  deviceGateway,
  interactionLog,
  offer,
  type Capability,
  type WebSocketRoute,
} from '../plugin/index.js';
import { PresenceRegistry } from './registry.js';
import { presenceRoutes } from './routes.js';
import { soundRoutes } from './sounds.js';
import { HEARTBEAT_MS, SignalSession } from './signal.js';

export { verifyAccessToken, TokenRefusal, type VerifiedToken } from './access-token.js';
export { BEAT_MS, STALE_MS, MAX_DEVICES } from './registry.js';

/** The SDK re-registers every 30 s; a device silent for three periods is gone. */
const REGISTER_LAPSE_MS = 90_000;
/** The largest signalling frame taken (an SDP offer is a few kB). */
const MAX_FRAME_BYTES = 64 * 1024;

export const presence: Capability = {
  name: 'presence',
  needs: [accountDirectory, interactionLog],
  async start(ctx) {
    const log = ctx.need(interactionLog);
    const accounts = ctx.need(accountDirectory);
    const gateway = ctx.want(deviceGateway);
    const registry = new PresenceRegistry(ctx.state, ctx.nodeId, (err) =>
      ctx.logger.warn({ err }, 'presence: shared state unreachable'),
    );
    await registry.start();
    // Presence changes are interaction events (kind presence), recorded by the owning node.
    registry.onChange(({ device, change }) =>
      log.record({
        accountSid: device.accountSid,
        kind: 'presence',
        subjectSid: device.id,
        tags: [`client:${device.identity}`, `presence:${change}`],
        data: { identity: device.identity, status: change, device: device.id, node: device.node },
      }),
    );

    const sessions = new Map<string, SignalSession>();
    new Gauge({
      name: 'switchboard_presence_connections',
      help: 'Voice SDK signalling connections on this node',
      registers: [ctx.metrics],
      collect() {
        this.set(sessions.size);
      },
    });
    new Gauge({
      name: 'switchboard_presence_devices',
      help: 'Registered Client devices known to this node (all nodes)',
      registers: [ctx.metrics],
      collect() {
        this.set(registry.all().length);
      },
    });

    gateway?.onCall((call) => {
      const session = sessions.get(call.deviceId);
      if (!session) return call.reject('gone');
      session.ring(call);
    });

    const sweep = setInterval(() => {
      const now = Date.now();
      for (const s of sessions.values()) {
        s.heartbeat();
        s.expireIfDue(Math.floor(now / 1000));
      }
    }, HEARTBEAT_MS);
    sweep.unref();
    const lapse = setInterval(() => {
      const now = Date.now();
      for (const s of sessions.values())
        if (s.isRegistered && now - s.lastSeen > REGISTER_LAPSE_MS) s.closedBySocket();
    }, REGISTER_LAPSE_MS / 3);
    lapse.unref();

    const signal: WebSocketRoute = {
      path: '/signal',
      maxFrameBytes: MAX_FRAME_BYTES,
      accept(peer) {
        const session = new SignalSession(peer, {
          keys: accounts,
          registry,
          gateway,
          nodeId: ctx.nodeId,
          logger: ctx.logger,
          onClose: (s) => sessions.delete(s.deviceId),
        });
        sessions.set(session.deviceId, session);
        return {
          message: (text) =>
            void session.message(text).catch((err: unknown) => {
              ctx.logger.error({ err }, 'presence: signalling frame failed');
              peer.close(1011, 'internal error');
            }),
          closed: () => session.closedBySocket(),
        };
      },
    };

    return {
      routes: [...presenceRoutes(registry), ...soundRoutes],
      websockets: [signal],
      offers: [offer(clientPresence, registry)],
      async stop() {
        clearInterval(sweep);
        clearInterval(lapse);
        for (const s of [...sessions.values()]) s.closedBySocket();
        await registry.stop();
      },
    };
  },
};
