// Connects two legs: each sends, every tick, the frame the other received in that tick.
// Audio passes through linear PCM, so legs on PCMU and PCMA are transcoded by the tables.
// DTMF one leg receives (RFC 4733 or SIP INFO) is sent on to the other as RFC 4733, as a
// bridged call carries keypresses through; a peer without telephone-event does not get it.

import type { MediaSession } from './rtp-session.js';
import type { AudioSource, DtmfEvent } from './types.js';

export interface Bridge {
  readonly a: MediaSession;
  readonly b: MediaSession;
  /** Disconnects both legs (each then sends silence or its own prompts). */
  stop(): void;
}

function listenTo(peer: MediaSession): AudioSource {
  return {
    read(out: Int16Array): boolean {
      if (!peer.inFrameValid || peer.isClosed) return false;
      out.set(peer.inFrame);
      return true;
    },
  };
}

export function bridge(a: MediaSession, b: MediaSession): Bridge {
  const toA = listenTo(b);
  const toB = listenTo(a);
  a.setLink(toA);
  b.setLink(toB);
  const relay = (to: MediaSession) => (e: DtmfEvent) => {
    if (e.digit.length === 1 && !to.isClosed) to.sendDtmf(e.digit).catch(() => undefined);
  };
  const fromA = relay(b);
  const fromB = relay(a);
  a.on('dtmf', fromA);
  b.on('dtmf', fromB);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    a.setLink(undefined);
    b.setLink(undefined);
    a.off('dtmf', fromA);
    b.off('dtmf', fromB);
    a.off('closed', stop);
    b.off('closed', stop);
  };
  a.once('closed', stop);
  b.once('closed', stop);
  return { a, b, stop };
}
