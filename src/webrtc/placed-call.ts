// A call a Voice SDK device places (`device.connect({params})`). The browser's offer is
// answered here (its WebRTC leg), and the call enters this node's voice engine as an INVITE
// from the device gateway to the node's own SIP port, with a plain RTP offer from the relay:
// from then on it is an ordinary inbound call (TwiML, <Dial>, <Gather>, recording, metering).
// Who placed it (account, identity, application, params) is not read from the INVITE, which
// anyone reaching the SIP port could forge: the INVITE carries a one-time random ticket that
// the voice edge redeems here, in the same process, for what the AccessToken proved.
import { randomBytes } from 'node:crypto';
import { newSid, type Logger } from '../core/index.js';
import type { PlacedCall, PlacedCallRequest } from '../plugin/index.js';
import type { OutgoingCall, SipEngine } from '../sip/index.js';
import { BrowserLeg, type BrowserLegOptions } from './browser-leg.js';
import { RtpRelay } from './rtp-relay.js';

/** The header of the gateway's INVITE naming its ticket. */
export const CLIENT_CALL_HEADER = 'X-Switchboard-Client-Call';
/** A ticket not redeemed this long after its INVITE went out is void. */
const TICKET_MS = 30_000;
/** The application has this long to answer (Twilio's Client calls ring for minutes too). */
const ANSWER_TIMEOUT_MS = 120_000;

/** What the voice edge learns by redeeming a ticket. */
export interface ClientCallTicket {
  readonly callSid: string;
  readonly accountSid: string;
  readonly identity: string;
  readonly applicationSid: string;
  readonly params: Readonly<Record<string, string>>;
}

export class Tickets {
  private readonly open = new Map<string, { ticket: ClientCallTicket; timer: NodeJS.Timeout }>();

  issue(ticket: ClientCallTicket): string {
    const id = randomBytes(16).toString('hex');
    const timer = setTimeout(() => this.open.delete(id), TICKET_MS);
    timer.unref();
    this.open.set(id, { ticket, timer });
    return id;
  }

  redeem(id: string): ClientCallTicket | undefined {
    const entry = this.open.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.open.delete(id);
    return entry.ticket;
  }

  clear(): void {
    for (const { timer } of this.open.values()) clearTimeout(timer);
    this.open.clear();
  }
}

export interface PlaceDeps {
  readonly sip: SipEngine;
  readonly tickets: Tickets;
  /** The voice engine's SIP URI on this node; undefined while telephony is not started. */
  readonly voiceTarget: () => string | undefined;
  readonly media: BrowserLegOptions;
  readonly advertised: string;
  readonly logger: Logger;
}

/** The SDK's signalling error for a final SIP status of the voice engine. */
function errorOf(status: number): { code: number; message: string } {
  if (status === 404) return { code: 31001, message: 'Application not found (21218)' };
  if (status === 486 || status === 600) return { code: 31486, message: 'Busy Here' };
  if (status === 603) return { code: 31603, message: 'Decline' };
  if (status === 480 || status === 408 || status === 487)
    return { code: 31480, message: 'Temporarily Unavailable' };
  if (status === 403) return { code: 31002, message: 'Connection declined' };
  return { code: 31005, message: `Connection error: the call failed (SIP ${status})` };
}

export function placeCall(request: PlacedCallRequest, deps: PlaceDeps): PlacedCall {
  const callSid = newSid('CA');
  let sipCall: OutgoingCall | undefined;
  let relay: RtpRelay | undefined;
  let over = false;
  const end = (error?: { code: number; message: string }) => {
    if (over) return;
    over = true;
    relay?.close();
    request.ended(error);
  };

  void (async () => {
    // The caller learns callSid from our return before hearing anything of the call.
    await Promise.resolve();
    const target = deps.voiceTarget();
    if (!target)
      return end({ code: 31005, message: 'Connection error: voice is not running on this node' });
    const browser = await BrowserLeg.answer(deps.media, request.offer);
    if (!browser) return end({ code: 31000, message: 'the offer has no PCMU audio' });
    relay = new RtpRelay(browser.leg, deps.media.bindAddress, deps.advertised);
    if (over) return relay.close(); // the device hung up meanwhile
    const offer = await relay.offer();
    if (over) return relay.close();
    const ticket = deps.tickets.issue({
      callSid,
      accountSid: request.accountSid,
      identity: request.identity,
      applicationSid: request.applicationSid,
      params: request.params,
    });
    const call = deps.sip.invite(target, {
      from: 'client',
      to: 'application',
      sdp: offer,
      headers: { [CLIENT_CALL_HEADER]: ticket },
      timeoutMs: ANSWER_TIMEOUT_MS,
    });
    sipCall = call;
    // The SDK takes our answer from `ringing`: ICE and DTLS run while the webhook is fetched.
    request.ringing(browser.sdp);
    let connected = false;
    call.on('ended', () => {
      // Before the answer the result below says why; our own hangup set `over` already.
      if (connected) end();
    });
    const result = await call.result;
    deps.tickets.redeem(ticket);
    if (over) return;
    if (!result.answered) return end(errorOf(result.status));
    if (!result.sdp || !relay.applyAnswer(result.sdp)) {
      call.hangup();
      return end({ code: 31005, message: 'Connection error: the call took no PCMU' });
    }
    connected = true;
    request.answered();
  })().catch((err: unknown) => {
    deps.logger.error({ err, callSid }, 'device gateway: placed call failed');
    sipCall?.hangup();
    end({ code: 31005, message: 'Connection error: the call could not be placed' });
  });

  return {
    callSid,
    hangup() {
      if (over) return;
      over = true;
      if (sipCall?.state === 'confirmed') sipCall.hangup();
      else sipCall?.cancel();
      relay?.close();
    },
    digits(digits) {
      for (const d of digits)
        void sipCall?.sendInfo(`Signal=${d}\r\nDuration=160\r\n`, 'application/dtmf-relay');
    },
  };
}
