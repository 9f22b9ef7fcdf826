// The telephony edge: SIP signalling + RTP media joined to the voice engine.
import type { Config, Logger } from '../core/index.js';
import { createMediaEngine, type MediaEngine } from '../media/index.js';
import { createSipEngine, type SipEngine, type Trunk } from '../sip/index.js';
import type { ConferenceAudio, Dialer, VoiceEngine } from '../voice/index.js';
import { conferenceAudio } from './conference-audio.js';
import { acceptInboundCalls, SipDialer } from './gateway.js';

export { SipCallChannel } from './channel.js';
export { SipDialer, acceptInboundCalls } from './gateway.js';

export interface Telephony {
  readonly sip: SipEngine;
  readonly media: MediaEngine;
  readonly dialer: Dialer;
  /** Conference rooms on the media mixer. */
  readonly conferenceAudio: ConferenceAudio;
  /** Starts taking inbound calls for the voice engine. */
  accept(voice: VoiceEngine): void;
  /** Subscribes to the INVITE → first RTP packet latency of each inbound call (ms, at its end). */
  onFirstMedia(listener: (ms: number) => void): () => void;
  close(): Promise<void>;
}

/** Starts SIP (UDP+TCP) and the RTP media engine as configured. */
export async function startTelephony(
  config: Config,
  logger: Logger,
  trunks: readonly Trunk[] = [],
): Promise<Telephony> {
  const media = createMediaEngine({
    bindAddress: config.sipHost,
    publicAddress: config.sipPublicAddress,
    portRange: config.rtpPorts,
    rtpTimeoutS: config.rtpTimeout,
    dataDir: config.dataDir,
    logger,
  });
  let sip: SipEngine;
  try {
    sip = await createSipEngine({
      host: config.sipHost,
      port: config.sipPort,
      ...(config.sipPublicAddress ? { publicAddress: config.sipPublicAddress } : {}),
      logger,
      trunks: [...trunks],
    });
  } catch (err) {
    media.close();
    throw err;
  }
  const firstMedia = new Set<(ms: number) => void>();
  return {
    sip,
    media,
    dialer: new SipDialer(sip, media, trunks),
    conferenceAudio: conferenceAudio(media),
    accept: (voice) =>
      acceptInboundCalls(sip, media, voice, logger, (ms) => {
        for (const listener of firstMedia) listener(ms);
      }),
    onFirstMedia(listener) {
      firstMedia.add(listener);
      return () => firstMedia.delete(listener);
    },
    async close() {
      await sip.close();
      media.close();
    },
  };
}

/** When SIP is disabled, outgoing calls fail at once with a clear status instead of hanging. */
export const noTelephonyDialer: Dialer = {
  async dial() {
    return { ok: false, status: 'failed', sipResponseCode: 503 };
  },
};
