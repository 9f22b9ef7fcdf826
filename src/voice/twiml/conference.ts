// Attributes of `<Dial><Conference>` (Twilio's names and defaults), checked when the document
// is parsed so that a bad attribute is error 12200 before the call runs anything.
import type { Attrs } from './attrs.js';
import { TwimlError } from './errors.js';
import type { ConferenceNoun } from './verbs.js';

const BEEPS = ['true', 'false', 'onEnter', 'onExit'] as const;
/** The room events Switchboard sends (Twilio's modify, speaker, announcement are refused). */
const EVENTS = ['start', 'end', 'join', 'leave', 'mute', 'hold'] as const;
const NOT_SENT = ['modify', 'speaker', 'announcement'];
/** Twilio's limit on one room. */
export const MAX_PARTICIPANTS = 250;

export function conferenceNoun(name: string, a: Attrs): ConferenceNoun {
  if (!name) throw new TwimlError(12200, '<Conference> needs a room name');
  if (name.length > 128) throw new TwimlError(12200, '<Conference> name is longer than 128');
  a.refuse('coach', 'coaching is not supported');
  a.refuse('eventCallbackUrl', 'use statusCallback (eventCallbackUrl is a legacy of Twilio)');
  a.refuse('jitterBufferSize', 'the mixer has one fixed jitter buffer', 'large');
  a.refuse('region', 'rooms live on the node of the call that created them', 'us1');
  a.refuse('recordingConfigurationId', 'recording configurations are not supported');
  const events = (a.get('statusCallbackEvent') ?? '').split(/[\s,]+/).filter(Boolean);
  const notSent = events.find((e) => NOT_SENT.includes(e));
  if (notSent)
    throw new TwimlError(
      13221,
      `Switchboard refuses <Conference statusCallbackEvent="${notSent}">: that event is not sent`,
    );
  const unknown = events.find((e) => !(EVENTS as readonly string[]).includes(e));
  if (unknown)
    throw new TwimlError(
      12200,
      `<Conference statusCallbackEvent="${unknown}"> must be among ${EVENTS.join(' ')}`,
    );
  const maxRaw = a.get('maxParticipants') ?? String(MAX_PARTICIPANTS);
  const max = Number(maxRaw);
  if (!/^\d+$/.test(maxRaw) || max < 2 || max > MAX_PARTICIPANTS)
    throw new TwimlError(
      12200,
      `<Conference maxParticipants="${maxRaw}"> must be a whole number from 2 to ${MAX_PARTICIPANTS}`,
    );
  return {
    noun: 'Conference',
    name,
    muted: a.bool('muted', false),
    beep: a.oneOf('beep', BEEPS, 'true'),
    startConferenceOnEnter: a.bool('startConferenceOnEnter', true),
    endConferenceOnExit: a.bool('endConferenceOnExit', false),
    waitUrl: a.get('waitUrl'),
    waitMethod: a.method('waitMethod'),
    maxParticipants: max,
    record: a.oneOf('record', ['do-not-record', 'record-from-start'] as const, 'do-not-record'),
    statusCallback: a.get('statusCallback') || undefined,
    statusCallbackMethod: a.method('statusCallbackMethod'),
    statusCallbackEvent: events,
    participantLabel: a.get('participantLabel') || undefined,
    trim: a.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'trim-silence'),
    recordingStatusCallback: a.get('recordingStatusCallback') || undefined,
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvents: a.list(
      'recordingStatusCallbackEvent',
      ['in-progress', 'completed', 'absent'] as const,
      ['completed'],
    ),
  };
}
