// Joins the SIP and media edges to the voice engine: inbound INVITEs become voice calls, and
// the engine's outgoing legs (Calls create, <Dial>) become INVITEs.
import { isIP } from 'node:net';
import type { Logger } from '../core/index.js';
import type { MediaEngine } from '../media/index.js';
import {
  parseUri,
  SipParseError,
  type CredentialsLookup,
  type IncomingCall,
  type SipEngine,
  type SipUri,
  type Trunk,
} from '../sip/index.js';
import type { Dialer, DialOutcome, InboundRoute, VoiceEngine } from '../voice/index.js';
import type { ClientPresence } from '../plugin/index.js';
import { CLIENT_CALL_HEADER, type ClientCallTicket } from '../webrtc/index.js';
import { SipCallChannel } from './channel.js';

/** The dialled identity of an INVITE: the user part of the To URI (a number), else the URI. */
function dialled(call: IncomingCall): string {
  const uri = call.to.uri;
  return uri.user ? decodeURIComponent(uri.user) : `${uri.scheme}:${uri.host}`;
}

function caller(call: IncomingCall): string {
  const uri = call.from.uri;
  return uri.user ? decodeURIComponent(uri.user) : `${uri.scheme}:${uri.host}`;
}

/** A SIP Domain an INVITE is addressed to: its realm, route, and the credentials for calls. */
export interface DomainCall {
  readonly realm: string;
  /** undefined when the domain has no VoiceUrl. */
  readonly route: InboundRoute | undefined;
  /** undefined when no credential list is mapped for calls (such calls are refused). */
  readonly lookup: CredentialsLookup | undefined;
}

export type DomainCalls = (host: string) => Promise<DomainCall | undefined>;

/** Redeems the ticket of a call a Voice SDK device placed (the device gateway's, once). */
export type ClientCalls = (ticket: string) => ClientCallTicket | undefined;

function header(call: IncomingCall, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(call.xHeaders)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function sipAddress(uri: SipUri): string {
  return `sip:${uri.user ? decodeURIComponent(uri.user) + '@' : ''}${uri.host.toLowerCase()}`;
}

/**
 * An INVITE to a SIP Domain must carry digest credentials of a list mapped for calls
 * (407 challenges it, realm = the domain name). Returns false once it answered the INVITE.
 */
async function admitDomainCall(
  sip: SipEngine,
  call: IncomingCall,
  d: DomainCall,
): Promise<boolean> {
  if (d.lookup === undefined) {
    call.reject(403, 'Forbidden (no credential list mapped for calls)');
    return false;
  }
  if (!sip.registrar) {
    call.reject(503, 'Service Unavailable');
    return false;
  }
  const verdict = await sip.registrar.verifyRequest(call.request, d.realm, d.lookup);
  if (verdict.ok) return true;
  if (verdict.reason === 'unknown user') {
    call.reject(403, 'Forbidden');
    return false;
  }
  // Proxy-Authenticate values cannot be folded into one header: offer the first algorithm.
  const [challenge] = sip.registrar.challengeValues(d.realm, verdict.stale === true);
  call.reject(407, 'Proxy Authentication Required', { 'Proxy-Authenticate': challenge ?? '' });
  return false;
}

/** Hands every inbound INVITE to the voice engine; unknown numbers get 404, bad SDP 488. */
export function acceptInboundCalls(
  sip: SipEngine,
  media: MediaEngine,
  voice: VoiceEngine,
  logger: Logger,
  /** Told, when a call ends, how long after its INVITE the first RTP packet went out (ms). */
  firstMedia?: (ms: number) => void,
  /** INVITEs to a SIP Domain run its VoiceUrl (after digest for the lists mapped for calls). */
  domainCalls?: DomainCalls,
  /** INVITEs from this node's device gateway: calls its Voice SDK devices place. */
  clientCalls?: ClientCalls,
): void {
  /** A call a Voice SDK device placed: its ticket says who, the token's application runs it. */
  const placedByDevice = async (call: IncomingCall, ticket: string): Promise<void> => {
    const placed = clientCalls?.(ticket);
    if (!placed) {
      call.reject(403, 'Forbidden (unknown client call ticket)');
      return;
    }
    let session;
    try {
      session = await media.createSession();
    } catch (err) {
      logger.error({ err }, 'no RTP port for a client call');
      call.reject(503, 'Service Unavailable');
      return;
    }
    const channel = new SipCallChannel(call, session, media);
    const handled = await voice.handleClientCall(channel, {
      ...placed,
      sipCallId: call.request.callId,
    });
    if (!handled) {
      call.reject(404, 'Not Found (no such application)');
      session.close();
    }
  };
  sip.on('invite', (call) => {
    const invited = performance.now();
    void (async () => {
      call.trying();
      const ticket = header(call, CLIENT_CALL_HEADER);
      if (ticket !== undefined) return placedByDevice(call, ticket);
      let to = dialled(call);
      let from = caller(call);
      let route: InboundRoute | undefined;
      let domain: DomainCall | undefined;
      // The Request-URI names the domain (the To URI may differ after a proxy).
      const target = parseUri(call.request.uri);
      const requestUri = target instanceof SipParseError ? call.to.uri : target;
      try {
        // SIP Domains are host names: calls to an IP address skip the lookup.
        if (!isIP(requestUri.host.replace(/^\[|\]$/g, '')))
          domain = await domainCalls?.(requestUri.host.toLowerCase());
        if (domain && !(await admitDomainCall(sip, call, domain))) return;
      } catch (err) {
        logger.error({ err }, 'SIP Domain lookup failed');
        call.reject(503, 'Service Unavailable', { 'Retry-After': '5' });
        return;
      }
      if (domain) {
        if (!domain.route) {
          call.reject(404, 'Not Found (the domain has no VoiceUrl)');
          return;
        }
        route = domain.route;
        to = sipAddress(requestUri);
        from = sipAddress(call.from.uri);
      }
      let session;
      try {
        session = await media.createSession();
      } catch (err) {
        logger.error({ err }, 'no RTP port for an inbound call');
        call.reject(503, 'Service Unavailable');
        return;
      }
      if (firstMedia) {
        const stats = session.stats;
        session.once('closed', () => {
          if (stats.firstSentMs) firstMedia(stats.firstSentMs - invited);
        });
      }
      const channel = new SipCallChannel(call, session, media);
      const handled = await voice.handleInbound(channel, {
        from,
        to,
        ...(route ? { route } : {}),
        callerName: call.from.display || undefined,
        sipCallId: call.request.callId,
        sipHeaders: call.xHeaders,
      });
      if (!handled) {
        call.reject(404, 'Not Found');
        session.close();
      }
    })().catch((err: unknown) => {
      logger.error({ err }, 'inbound call failed');
      call.reject(500, 'Server Internal Error');
    });
  });
}

/** The addresses of record where an account's client `identity` may be registered. */
export type ClientAors = (accountSid: string, identity: string) => Promise<string[]>;

/** Where `client:` targets are looked up besides SIP Domain registrations: presence. */
export type PresenceLookup = () => ClientPresence | undefined;

/** The signed SIP headers that ring the device at `address` (its gateway checks them). */
export type DeviceHeaders = (
  address: string,
  callSid: string,
  params: Readonly<Record<string, string>>,
) => Record<string, string>;

type Reach = {
  target: string | readonly Trunk[];
  destination?: { address: string; port: number; transport?: 'udp' | 'tcp' };
  headers?: Record<string, string>;
};

/** Places outgoing legs: SIP URIs directly, numbers through the trunks, clients where they are. */
export class SipDialer implements Dialer {
  constructor(
    private readonly sip: SipEngine,
    private readonly media: MediaEngine,
    private readonly trunks: readonly Trunk[],
    private readonly clientAors?: ClientAors,
    private readonly presence?: PresenceLookup,
    private readonly deviceHeaders?: DeviceHeaders,
  ) {}

  /**
   * The freshest registration of `identity` on the account's SIP Domains. A binding must be
   * owned by the dialling account: a client of another account is never reached.
   */
  private async clientBinding(accountSid: string | undefined, identity: string) {
    if (accountSid === undefined || this.clientAors === undefined || !this.sip.registrar)
      return undefined;
    const registrar = this.sip.registrar;
    const aors = await this.clientAors(accountSid, identity);
    return aors
      .flatMap((aor) => registrar.lookup(aor))
      .filter((b) => b.owner === accountSid)
      .sort((a, b) => b.expiresAt - a.expiresAt)[0];
  }

  /**
   * Every place `identity` answers: its available Voice SDK devices on any node (most recent
   * first, through their node's device gateway) and its SIP phone; at most ten, as Twilio.
   */
  private async clientReaches(request: Parameters<Dialer['dial']>[0], identity: string) {
    const reaches: Reach[] = [];
    const accountSid = request.accountSid;
    const sign = this.deviceHeaders;
    if (accountSid !== undefined && sign)
      for (const d of this.presence?.()?.devices(accountSid, identity) ?? [])
        // Phones (kind sip) are in presence too, but are reached through the registrar below.
        if (d.kind === 'sdk' && d.status === 'available' && d.address)
          reaches.push({
            target: d.address,
            headers: sign(d.address, request.callSid ?? '', request.clientParams ?? {}),
          });
    const binding = await this.clientBinding(accountSid, identity);
    if (binding)
      reaches.push({
        target: binding.contact,
        // A registered phone behind NAT is reached where its REGISTER came from, not at its
        // (private) Contact address.
        destination: {
          address: binding.source.address,
          port: binding.source.port,
          transport: binding.source.transport === 'tcp' ? 'tcp' : 'udp',
        },
      });
    return reaches.slice(0, 10);
  }

  async dial(request: Parameters<Dialer['dial']>[0]): Promise<DialOutcome> {
    if (/^sips?:/i.test(request.to)) return this.dialOne(request, { target: request.to });
    if (request.to.startsWith('client:')) {
      const reaches = await this.clientReaches(request, request.to.slice('client:'.length));
      if (reaches.length === 0) return { ok: false, status: 'no-answer', sipResponseCode: 480 };
      if (reaches.length === 1) return this.dialOne(request, reaches[0]!);
      return this.fork(request, reaches);
    }
    if (this.trunks.length === 0) return { ok: false, status: 'failed', sipResponseCode: 503 };
    return this.dialOne(request, { target: this.trunks });
  }

  /**
   * Rings every reach at once: the first to answer wins, the others are cancelled (and one
   * answering a moment later is hung up). Fails with the best of the failures.
   */
  private fork(request: Parameters<Dialer['dial']>[0], reaches: Reach[]): Promise<DialOutcome> {
    const rank = { 'no-answer': 3, busy: 2, failed: 1, canceled: 0 } as const;
    const aborts = reaches.map(() => new AbortController());
    const onAbort = () => aborts.forEach((a) => a.abort());
    request.signal?.addEventListener('abort', onAbort, { once: true });
    let won = false;
    let rang = false;
    const onRinging = () => {
      if (!rang) request.onRinging?.();
      rang = true;
    };
    return new Promise((resolve) => {
      let left = reaches.length;
      let best: DialOutcome | undefined;
      reaches.forEach((reach, i) => {
        void this.dialOne({ ...request, onRinging, signal: aborts[i]!.signal }, reach)
          .catch((): DialOutcome => ({ ok: false, status: 'failed', sipResponseCode: undefined }))
          .then((outcome) => {
            if (outcome.ok) {
              if (won) return outcome.channel.hangup();
              won = true;
              aborts.forEach((a, j) => j !== i && a.abort());
              request.signal?.removeEventListener('abort', onAbort);
              return resolve(outcome);
            }
            if (!best || (!best.ok && rank[outcome.status] > rank[best.status])) best = outcome;
            if (--left === 0 && !won) {
              request.signal?.removeEventListener('abort', onAbort);
              resolve(
                request.signal?.aborted
                  ? { ok: false, status: 'canceled', sipResponseCode: 487 }
                  : best,
              );
            }
          });
      });
    });
  }

  private async dialOne(
    request: Parameters<Dialer['dial']>[0],
    reach: Reach,
  ): Promise<DialOutcome> {
    const { target, destination } = reach;
    const headers = { ...(request.headers ?? {}), ...(reach.headers ?? {}) };
    const session = await this.media.createSession();
    const call = this.sip.invite(target, {
      from: request.from,
      to: request.to,
      sdp: session.createOffer(),
      timeoutMs: request.timeoutS * 1000,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(request.credentials ? { credentials: request.credentials } : {}),
      ...(destination ? { destination } : {}),
    });
    call.on('provisional', (res) => {
      if (res.status === 180 || res.status === 183) request.onRinging?.();
    });
    call.on('early-media', (sdp) => session.applyAnswer(sdp));
    const onAbort = () => call.cancel();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const result = await call.result;
    request.signal?.removeEventListener('abort', onAbort);
    if (!result.answered) {
      session.close();
      const status = result.cancelled
        ? request.signal?.aborted
          ? 'canceled'
          : 'no-answer'
        : result.status === 486 || result.status === 600
          ? 'busy'
          : result.status === 408 || result.status === 480 || result.status === 487
            ? 'no-answer'
            : 'failed';
      return { ok: false, status, sipResponseCode: result.status };
    }
    if (result.sdp) session.applyAnswer(result.sdp);
    return {
      ok: true,
      channel: new SipCallChannel(call, session, this.media),
      sipCallId: call.callId,
    };
  }
}
