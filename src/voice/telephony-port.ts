// The telephony edge as the voice capability sees it. Voice never imports the edge (SIP and
// RTP): the composition root offers a starter for it, which voice calls with its SIP Domains
// (the registrar and <Dial><Client> read them) once they are open.
import { port, type ClientPresence } from '../plugin/index.js';
import type { ConferenceAudio } from './conferences/index.js';
import type { Dialer } from './ports/index.js';
import type { VoiceEngine } from './engine/index.js';
import type { SipDomains } from './sip-domains/index.js';

export interface VoiceTelephony {
  readonly dialer: Dialer;
  /** Conference rooms on the media mixer. */
  readonly conferenceAudio: ConferenceAudio;
  /** The SIP URI at which other nodes reach `user` on this node. */
  sipUri(user: string): string;
  /** Starts taking inbound calls for the engine. */
  accept(voice: VoiceEngine): void;
  /** Told, when a call ends, how long after its INVITE the first RTP packet went out (ms). */
  onFirstMedia(listener: (ms: number) => void): () => void;
  close(): Promise<void>;
}

/**
 * Starts SIP and media (offered only when SWITCHBOARD_SIP is on); <Dial><Client> also rings
 * the Voice SDK devices `presence` knows, when the presence capability runs.
 */
export type TelephonyStarter = (
  sipDomains: SipDomains,
  presence: ClientPresence | undefined,
) => Promise<VoiceTelephony>;
export const telephonyStarter = port<TelephonyStarter>('telephony');
