// Connects two legs: each sends, every tick, the frame the other received in that tick.
// Audio passes through linear PCM, so legs on PCMU and PCMA are transcoded by the tables.

import type { MediaSession } from './rtp-session.js';
import type { AudioSource } from './types.js';

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
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    a.setLink(undefined);
    b.setLink(undefined);
    a.off('closed', stop);
    b.off('closed', stop);
  };
  a.once('closed', stop);
  b.once('closed', stop);
  return { a, b, stop };
}
