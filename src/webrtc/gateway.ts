// The device gateway: where the platform's calls reach Voice SDK devices of this node. Each
// device has a SIP address here (sip:<device id>@<node>:<port>); any node's dialer sends its
// INVITE (plain RTP offer) there, so a call entering node B rings a browser held by node A
// the same way as one held by B. An INVITE becomes a DeviceCall for presence, which sends the
// SDK its `invite` with our WebRTC offer; the browser's answer turns into the 200 OK, with
// the relay's RTP address. Only the nodes should reach this port (docs/presence.md).
// A call a device places goes the other way (placed-call.ts): an INVITE from here to this
// node's voice SIP port, vouched for by a one-time ticket the voice edge redeems.
import { ConfigError, type Logger } from '../core/index.js';
import type { DeviceCall, DeviceGateway, PlacedCallRequest } from '../plugin/index.js';
import { createSipEngine, type IncomingCall, type SipEngine } from '../sip/index.js';
import { BrowserLeg } from './browser-leg.js';
import {
  DEVICE_AUTH_HEADER,
  signDeviceCall,
  verifyDeviceCall,
  type GatewaySecret,
} from './gateway-auth.js';
import { placeCall, Tickets, type ClientCallTicket } from './placed-call.js';
import { RtpRelay } from './rtp-relay.js';

export interface DeviceGatewayOptions {
  /** SIP and media bind address (config sipHost). */
  readonly host: string;
  /** Address other nodes and browsers use (config sipPublicAddress, else host). */
  readonly advertised: string;
  /** SIP port of the gateway (0 = any free port). */
  readonly port: number;
  /** UDP ports of browser media (ICE/DTLS/SRTP), "min-max" (config webrtcPorts). */
  readonly portRange: string;
  /** What the nodes sign their INVITEs to devices with (gateway-auth.ts). */
  readonly secret: GatewaySecret;
  readonly logger: Logger;
}

export interface StartedDeviceGateway extends DeviceGateway {
  readonly port: number;
  /**
   * The SIP headers a node's dialer adds to reach the device at `address`: the call's SID,
   * its <Parameter>s, and the signature the device's gateway checks.
   */
  headersFor(
    address: string,
    callSid: string,
    params: Readonly<Record<string, string>>,
  ): Record<string, string>;
  /** Where this node's voice engine takes INVITEs (set once telephony started). */
  setVoiceTarget(uri: string): void;
  /**
   * The voice edge redeems the ticket of an INVITE carrying X-Switchboard-Client-Call: the
   * call a device of this node placed, once (undefined for an unknown or used ticket).
   */
  redeem(ticket: string): ClientCallTicket | undefined;
  close(): Promise<void>;
}

const X_CALL_SID = 'X-Switchboard-Call-Sid';
const X_PARAMS = 'X-Switchboard-Client-Params';

const deviceOf = (uri: string): string => /^sips?:([^@;]+)@/i.exec(uri)?.[1] ?? '';

function header(call: IncomingCall, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(call.xHeaders)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function user(call: IncomingCall, which: 'from' | 'to'): string {
  const uri = call[which].uri;
  return uri.user ? decodeURIComponent(uri.user) : `${uri.scheme}:${uri.host}`;
}

export async function startDeviceGateway(o: DeviceGatewayOptions): Promise<StartedDeviceGateway> {
  const sip: SipEngine = await createSipEngine({
    host: o.host,
    port: o.port,
    publicAddress: o.advertised,
    logger: o.logger,
    userAgent: 'Switchboard device gateway',
  });
  const port = sip.transport.port;
  const m = /^(\d+)-(\d+)$/.exec(o.portRange.trim());
  const range: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || range[0] < 1024 || range[1] > 65535 || range[0] > range[1]) {
    await sip.close();
    throw new ConfigError(
      `SWITCHBOARD_WEBRTC_PORTS: "${o.portRange}" is not min-max within 1024-65535`,
    );
  }
  let handler: ((call: DeviceCall) => void) | undefined;

  sip.on('invite', (call) => {
    void (async () => {
      call.trying();
      const deviceId = deviceOf(call.request.uri);
      const callSid = header(call, X_CALL_SID) ?? '';
      // Only the nodes ring devices: an INVITE without their signature is refused.
      if (
        !verifyDeviceCall(o.secret.current(), deviceId, callSid, header(call, DEVICE_AUTH_HEADER))
      ) {
        call.reject(403, 'Forbidden');
        return;
      }
      if (!handler || !/^DV[0-9a-f]{32}$/.test(deviceId)) {
        call.reject(404, 'Not Found');
        return;
      }
      if (!call.sdp) {
        call.reject(488, 'Not Acceptable Here (an offer is required)');
        return;
      }
      const { leg, sdp } = await BrowserLeg.offer({ bindAddress: o.host, portRange: range });
      const relay = new RtpRelay(leg, o.host, o.advertised);
      const answer = await relay.answer(call.sdp);
      if (!answer) {
        relay.close();
        call.reject(488, 'Not Acceptable Here (PCMU required)');
        return;
      }
      const endListeners: ((how: 'canceled' | 'hangup') => void)[] = [];
      let answered = false;
      let over = false;
      call.on('ended', (reason) => {
        relay.close();
        if (over) return;
        over = true;
        const how = answered ? 'hangup' : 'canceled';
        // A device that ended the call itself hears nothing back.
        if (reason !== 'hangup') for (const l of endListeners) l(how);
      });
      const params = new URLSearchParams(header(call, X_PARAMS) ?? '');
      const device: DeviceCall = {
        deviceId,
        callSid,
        from: user(call, 'from'),
        to: user(call, 'to'),
        params: Object.fromEntries(params),
        offer: sdp,
        async accept(browserSdp) {
          leg.accept(browserSdp);
          answered = true;
          if (!(await call.answer(answer))) throw new Error('the caller left');
        },
        reject(reason) {
          over = true;
          call.reject(
            reason === 'busy' ? 486 : reason === 'declined' ? 603 : 480,
            reason === 'busy'
              ? 'Busy Here'
              : reason === 'declined'
                ? 'Decline'
                : 'Temporarily Unavailable',
          );
        },
        hangup() {
          over = true;
          call.hangup();
        },
        digits(digits) {
          for (const d of digits)
            void call.sendInfo(`Signal=${d}\r\nDuration=160\r\n`, 'application/dtmf-relay');
        },
        onEnd(listener) {
          endListeners.push(listener);
        },
      };
      call.ringing();
      handler(device);
    })().catch((err: unknown) => {
      o.logger.error({ err }, 'device gateway: call failed');
      call.reject(500, 'Server Internal Error');
    });
  });

  const tickets = new Tickets();
  let voiceTarget: string | undefined;
  return {
    port,
    addressOf: (deviceId) => `sip:${deviceId}@${o.advertised}:${port}`,
    headersFor(address, callSid, params) {
      const out: Record<string, string> = {
        [X_CALL_SID]: callSid,
        [DEVICE_AUTH_HEADER]: signDeviceCall(o.secret.current(), deviceOf(address), callSid),
      };
      const encoded = new URLSearchParams(params).toString();
      if (encoded) out[X_PARAMS] = encoded;
      return out;
    },
    onCall(h) {
      handler = h;
    },
    place: (request: PlacedCallRequest) =>
      placeCall(request, {
        sip,
        tickets,
        voiceTarget: () => voiceTarget,
        media: { bindAddress: o.host, portRange: range },
        advertised: o.advertised,
        logger: o.logger,
      }),
    setVoiceTarget(uri) {
      voiceTarget = uri;
    },
    redeem: (ticket) => tickets.redeem(ticket),
    async close() {
      tickets.clear();
      o.secret.close();
      await sip.close();
    },
  };
}
