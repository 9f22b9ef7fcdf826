// Conference rooms on the media mixer: the voice engine's AudioRoom port over SIP legs.
import type { MediaEngine, MediaSession } from '../media/index.js';
import type { AudioRoom, CallChannel, ConferenceAudio } from '../voice/index.js';
import { SipCallChannel } from './channel.js';

const TONE_MS = 180;

/** Twilio-like entry (rising) and exit (falling) beeps: two short tones. */
function twoTones(first: number, second: number): Int16Array {
  const n = Math.round((8000 * TONE_MS) / 1000);
  const out = new Int16Array(n * 2);
  for (let i = 0; i < n * 2; i++) {
    const f = i < n ? first : second;
    out[i] = Math.round(6000 * Math.sin((2 * Math.PI * f * i) / 8000));
  }
  return out;
}

function sessionOf(channel: CallChannel): MediaSession {
  if (!(channel instanceof SipCallChannel)) throw new Error('a conference takes SIP call legs');
  return channel.session;
}

export function conferenceAudio(media: MediaEngine): ConferenceAudio {
  const enter = media.prompts.fromSamples('conference-enter', twoTones(660, 880));
  const exit = media.prompts.fromSamples('conference-exit', twoTones(880, 660));
  return {
    createRoom(): AudioRoom {
      const mixer = media.createMixer();
      return {
        add: (channel, muted) => mixer.add(sessionOf(channel), { muted }),
        remove: (channel) => mixer.remove(sessionOf(channel)),
        setMuted: (channel, muted) => mixer.setMuted(sessionOf(channel), muted),
        tone: (kind) => void mixer.inject(kind === 'enter' ? enter : exit),
        record: (path, options) => {
          const r = media.recordMixer(mixer, path, options?.trim ? { trim: true } : {});
          return {
            stop: () => r.stop(),
            done: r.done,
            pause: (behavior) => r.pause(behavior),
            resume: () => r.resume(),
          };
        },
        close: () => mixer.close(),
      };
    },
  };
}
