import { randomBytes } from 'node:crypto';
// The telephony edge: SIP signalling + RTP media joined to the voice engine.
import { ConfigError, type Config, type Logger } from '../core/index.js';
import { createMediaEngine, type MediaEngine } from '../media/index.js';
import {
  createSipEngine,
  isSupportedAlgorithm,
  type DigestAlgorithm,
  type DomainDecision,
  type SipEngine,
  type Trunk,
} from '../sip/index.js';
import type { ConferenceAudio, Dialer, VoiceEngine } from '../voice/index.js';
import { conferenceAudio } from './conference-audio.js';
import {
  acceptInboundCalls,
  SipDialer,
  type ClientAors,
  type ClientCalls,
  type DeviceHeaders,
  type DomainCalls,
  type PresenceLookup,
} from './gateway.js';

export { SipCallChannel } from './channel.js';
export {
  SipDialer,
  acceptInboundCalls,
  type ClientAors,
  type ClientCalls,
  type DeviceHeaders,
  type DomainCall,
  type DomainCalls,
  type PresenceLookup,
} from './gateway.js';

export interface TelephonyOptions {
  /** Serve REGISTER: the realm, credentials and owner of each SIP Domain (docs/sip.md). */
  registrations?: (host: string) => Promise<DomainDecision>;
  /** Where `<Dial><Client>` finds an account's clients among the registrations. */
  clientAors?: ClientAors;
  /** INVITEs to a SIP Domain: its VoiceUrl, behind the credentials mapped for calls. */
  domainCalls?: DomainCalls;
  /** Voice SDK devices of `client:` targets (the presence capability's port, once started). */
  presence?: PresenceLookup;
  /** Calls this node's Voice SDK devices place, vouched for by the device gateway. */
  clientCalls?: ClientCalls;
  /** Signs the INVITEs that ring Voice SDK devices (any node's device gateway checks them). */
  deviceHeaders?: DeviceHeaders;
}

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
  options: TelephonyOptions = {},
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
      ...(options.registrations
        ? {
            registrar: {
              domains: options.registrations,
              secret: nonceSecret(config, logger),
              algorithms: digestAlgorithms(config.sipDigestAlgorithms),
            },
          }
        : {}),
    });
  } catch (err) {
    media.close();
    throw err;
  }
  const firstMedia = new Set<(ms: number) => void>();
  return {
    sip,
    media,
    dialer: new SipDialer(
      sip,
      media,
      trunks,
      options.clientAors,
      options.presence,
      options.deviceHeaders,
    ),
    conferenceAudio: conferenceAudio(media),
    accept: (voice) =>
      acceptInboundCalls(
        sip,
        media,
        voice,
        logger,
        (ms) => {
          for (const listener of firstMedia) listener(ms);
        },
        options.domainCalls,
        options.clientCalls,
      ),
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

function digestAlgorithms(names: readonly string[]): DigestAlgorithm[] {
  const out = names.map((n) => n.toUpperCase());
  for (const n of out)
    if (!isSupportedAlgorithm(n) || n.endsWith('-SESS'))
      throw new ConfigError(
        `SWITCHBOARD_SIP_DIGEST_ALGORITHMS: "${n}" is not one of MD5, SHA-256, SHA-512-256`,
      );
  if (out.length === 0) throw new ConfigError('SWITCHBOARD_SIP_DIGEST_ALGORITHMS is empty');
  return out as DigestAlgorithm[];
}

/** The registrar's nonce secret: shared by every node when configured, else per process. */
function nonceSecret(config: Config, logger: Logger): string | Buffer {
  if (config.sipNonceSecret) return config.sipNonceSecret;
  logger.info(
    'SWITCHBOARD_SIP_NONCE_SECRET is not set: registrar nonces use a random per-process secret (set it on every node behind one SIP address)',
  );
  return randomBytes(32);
}

export { parseTrunks } from './trunks.js';
export { announcePhones } from './phones.js';
