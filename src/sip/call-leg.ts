// Glue between a SIP call leg and a media session (src/media): SDP offer/answer on INVITE,
// early media, re-INVITE (hold/resume), SIP INFO DTMF, RTP timeout → BYE, and release of
// the RTP port when the call ends. The SIP core itself treats bodies as opaque bytes.

import {
  SdpParseError,
  parseDtmfInfo,
  type MediaEngine,
  type MediaSession,
  type SessionOptions,
} from '../media/index.js';
import type { CallLeg, IncomingCall, InviteOptions, OutgoingCall, Trunk } from './call.js';
import type { SipEngine } from './user-agent.js';

/** Tie a leg and a session together for the life of the call. */
export function bindMedia(leg: CallLeg, session: MediaSession): void {
  leg.on('info', ({ contentType, body }) => {
    const d = parseDtmfInfo(contentType, body);
    if (d !== undefined) session.receiveInfoDtmf(d.digit, d.durationMs);
  });
  leg.on('reinvite', (r) => {
    if (r.sdp === undefined) {
      r.accept(session.createOffer()); // offer in 200, answer comes in the ACK
      return;
    }
    try {
      const answer = session.answerOffer(r.sdp);
      if (answer === undefined) r.reject(488);
      else r.accept(answer);
    } catch (err) {
      r.reject(err instanceof SdpParseError ? 400 : 500);
    }
  });
  leg.on('ack', (ack) => {
    if (ack.body.length > 0) session.applyAnswer(ack.body);
  });
  session.on('rtp-timeout', () => leg.hangup({ Reason: 'SIP;cause=408;text="RTP timeout"' }));
  leg.once('ended', () => session.close());
  if (leg.state === 'ended') session.close();
}

export interface AcceptedMedia {
  session: MediaSession;
  /** Our SDP: the answer to the INVITE's offer, or our offer when the INVITE had none. */
  sdp: string;
}

/**
 * Create a media session for an incoming call and compute our SDP, without answering yet
 * (send it with `call.progress(sdp)` for early media or `call.answer(sdp)`). When the offer
 * is unacceptable the call is rejected (488, or 400 for a malformed body) and undefined
 * is returned.
 */
export async function acceptMedia(
  call: IncomingCall,
  media: MediaEngine,
  options?: SessionOptions,
): Promise<AcceptedMedia | undefined> {
  const session = await media.createSession(options);
  if (call.state === 'ended') {
    session.close();
    return undefined;
  }
  let sdp: string | undefined;
  const offer = call.sdp;
  if (offer === undefined) sdp = session.createOffer();
  else {
    try {
      sdp = session.answerOffer(offer);
    } catch (err) {
      session.close();
      call.reject(err instanceof SdpParseError ? 400 : 500);
      return undefined;
    }
  }
  if (sdp === undefined) {
    session.close();
    call.reject(488);
    return undefined;
  }
  bindMedia(call, session);
  return { session, sdp };
}

/**
 * Answer an incoming call with media: 100 Trying, optional 180, then 200 OK with our SDP.
 * Resolves with the session once the ACK arrives (undefined if the call failed or was
 * cancelled meanwhile).
 */
export async function answerWithMedia(
  call: IncomingCall,
  media: MediaEngine,
  opts: { ring?: boolean; session?: SessionOptions } = {},
): Promise<MediaSession | undefined> {
  call.trying();
  if (opts.ring === true) call.ringing();
  const accepted = await acceptMedia(call, media, opts.session);
  if (accepted === undefined) return undefined;
  const acked = await call.answer(accepted.sdp);
  return acked ? accepted.session : undefined;
}

/**
 * Place a call with media: our offer goes in the INVITE; 183/200 answers are applied to the
 * session (early media plays as soon as it arrives). Await `call.result`.
 */
export async function inviteWithMedia(
  sip: SipEngine,
  media: MediaEngine,
  target: string | Trunk | readonly Trunk[] | undefined,
  opts: Omit<InviteOptions, 'sdp'> & { session?: SessionOptions } = {},
): Promise<{ call: OutgoingCall; session: MediaSession }> {
  const session = await media.createSession(opts.session);
  const call = sip.invite(target, { ...opts, sdp: session.createOffer() });
  call.on('early-media', (sdp) => {
    session.applyAnswer(sdp);
  });
  call.on('answered', (res) => {
    if (res.body.length > 0 && !session.applyAnswer(res.body))
      call.hangup({ Reason: 'SIP;cause=488' });
  });
  bindMedia(call, session);
  return { call, session };
}
