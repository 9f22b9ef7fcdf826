// A voice CallChannel over a real SIP leg and its RTP media session.
import type { MediaEngine, MediaSession, Prompt } from '../media/index.js';
import type { IncomingCall, OutgoingCall } from '../sip/index.js';
import type {
  CallChannel,
  ChannelPlayback,
  ChannelRecording,
  HangupCause,
} from '../voice/index.js';

const BEEP_MS = 400;

function tone(frequency: number, ms: number): Int16Array {
  const n = Math.round((8000 * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / 8000));
  return out;
}

export class SipCallChannel implements CallChannel {
  readonly ended: Promise<HangupCause>;
  private endedWith: HangupCause | undefined;
  private resolveEnded!: (cause: HangupCause) => void;
  private answeredOnce: Promise<boolean> | undefined;

  constructor(
    private readonly leg: IncomingCall | OutgoingCall,
    readonly session: MediaSession,
    private readonly media: MediaEngine,
  ) {
    this.ended = new Promise((r) => (this.resolveEnded = r));
    leg.on('ended', (reason) => {
      this.end(
        reason === 'bye'
          ? 'remote-bye'
          : reason === 'cancel'
            ? 'canceled'
            : reason === 'hangup'
              ? 'local'
              : 'failed',
      );
    });
    session.on('rtp-timeout', () => {
      this.end('rtp-timeout');
      leg.hangup();
    });
    // SIP INFO DTMF (application/dtmf-relay) as a fallback for peers without RFC 4733.
    leg.on('info', (info) => {
      const m = /Signal\s*=\s*([0-9A-D*#])/i.exec(info.body.toString('utf8'));
      if (m?.[1]) session.receiveInfoDtmf(m[1].toUpperCase());
    });
    leg.on('reinvite', (re) => {
      const answer = re.sdp ? session.answerOffer(re.sdp) : undefined;
      if (answer) re.accept(answer);
      else re.reject(488, 'Not Acceptable Here');
    });
  }

  private end(cause: HangupCause): void {
    if (this.endedWith) return;
    this.endedWith = cause;
    this.session.close();
    this.resolveEnded(cause);
  }

  get isEnded(): boolean {
    return this.endedWith !== undefined;
  }

  ring(): void {
    if (this.leg.direction === 'inbound') this.leg.ringing();
  }

  /**
   * Sends the 200 OK and resolves as soon as it is sent: media may flow from then on (RFC 3261
   * 13.3.1.4), so the first prompt does not wait a round trip for the ACK.
   */
  answer(): Promise<boolean> {
    if (this.leg.direction !== 'inbound') return Promise.resolve(!this.isEnded);
    const leg = this.leg;
    this.answeredOnce ??= (async () => {
      if (this.isEnded) return false;
      const sdp = leg.sdp ? this.session.answerOffer(leg.sdp) : this.session.createOffer();
      if (sdp === undefined) {
        leg.reject(488, 'Not Acceptable Here');
        return false;
      }
      // Resolves on the ACK; without one the leg ends ('ack-timeout') and so does the channel.
      void leg.answer(sdp);
      return !this.isEnded;
    })();
    return this.answeredOnce;
  }

  reject(reason: 'rejected' | 'busy'): void {
    if (this.leg.direction === 'inbound')
      this.leg.reject(reason === 'busy' ? 486 : 603, reason === 'busy' ? 'Busy Here' : 'Decline');
    else this.leg.hangup();
    this.end('local');
  }

  hangup(): void {
    if (this.isEnded) return;
    if (this.leg.direction === 'outbound' && this.leg.state !== 'confirmed') this.leg.cancel();
    else this.leg.hangup();
    this.end('local');
  }

  private playPrompt(prompt: Prompt): ChannelPlayback {
    const p = this.session.play(prompt);
    return { done: p.done, stop: () => p.stop() };
  }

  async say(
    text: string,
    options: {
      voice?: string | undefined;
      language?: string | undefined;
      ssml?: string | undefined;
    },
  ): Promise<ChannelPlayback> {
    const prompt = await this.media.prompts.say(options.ssml ?? text, {
      ...(options.voice ? { voice: options.voice } : {}),
      ...(options.language ? { language: options.language } : {}),
      ssml: options.ssml !== undefined,
    });
    return this.playPrompt(prompt);
  }

  async play(url: string): Promise<ChannelPlayback> {
    return this.playPrompt(await this.media.prompts.url(url));
  }

  beep(): ChannelPlayback {
    return this.playPrompt(this.media.prompts.fromSamples('beep', tone(1000, BEEP_MS)));
  }

  silence(ms: number): ChannelPlayback {
    return this.playPrompt(
      this.media.prompts.fromSamples(`silence-${ms}`, new Int16Array(Math.round(ms * 8))),
    );
  }

  /** RFC 4733 digits; each `w` (TwiML's) waits half a second between them. */
  async sendDigits(digits: string): Promise<void> {
    for (const run of digits.split(/([wW])/)) {
      if (this.isEnded) return;
      if (run === 'w' || run === 'W') await new Promise((r) => setTimeout(r, 500));
      else if (run) await this.session.sendDtmf(run);
    }
  }

  onDigit(handler: (digit: string) => void): () => void {
    const listener = (e: { digit: string }) => handler(e.digit);
    this.session.on('dtmf', listener);
    return () => this.session.off('dtmf', listener);
  }

  record(options: {
    path: string;
    maxLengthS: number;
    track?: 'in' | 'out' | 'both' | undefined;
    silenceS?: number | undefined;
    trim?: boolean | undefined;
    channels?: 1 | 2 | undefined;
  }): ChannelRecording {
    const r = this.media.record(this.session, options.path, {
      mode: options.track ?? 'in',
      maxDurationS: options.maxLengthS,
      ...(options.silenceS ? { silenceS: options.silenceS } : {}),
      ...(options.trim ? { trim: true } : {}),
      ...(options.channels === 2 ? { channels: 2 as const } : {}),
    });
    return {
      stop: () => r.stop(),
      done: r.done,
      pause: (behavior) => r.pause(behavior),
      resume: () => r.resume(),
    };
  }

  bridge(other: CallChannel): () => void {
    if (!(other instanceof SipCallChannel)) throw new Error('can only bridge two SIP call legs');
    const b = this.media.bridge(this.session, other.session);
    return () => b.stop();
  }
}
