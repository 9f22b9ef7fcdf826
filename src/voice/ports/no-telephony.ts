import type { Dialer } from './channel.js';

/** When SIP is disabled, outgoing calls fail at once with a clear status instead of hanging. */
export const noTelephonyDialer: Dialer = {
  async dial() {
    return { ok: false, status: 'failed', sipResponseCode: 503 };
  },
};
