// Attributes of `<Dial><Conference>` (Twilio's names and defaults), checked when the document
// is parsed so that a bad attribute is error 12200 before the call runs anything.
import { TwimlError } from './parse.js';
import type { ConferenceNoun, HttpMethod } from './verbs.js';

const BEEPS = ['true', 'false', 'onEnter', 'onExit'] as const;
const EVENTS = [
  'start',
  'end',
  'join',
  'leave',
  'mute',
  'hold',
  'modify',
  'speaker',
  'announcement',
];
/** Twilio's limit on one room. */
export const MAX_PARTICIPANTS = 250;

function bad(name: string, raw: string, why: string): never {
  throw new TwimlError(12200, `<Conference ${name}="${raw}"> ${why}`);
}

function flag(attrs: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = attrs[name];
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return bad(name, raw, 'must be true or false');
}

function httpMethod(attrs: Record<string, string>, name: string): HttpMethod {
  const raw = (attrs[name] ?? 'POST').toUpperCase();
  if (raw !== 'GET' && raw !== 'POST') bad(name, raw, 'must be GET or POST');
  return raw as HttpMethod;
}

export function conferenceNoun(name: string, attrs: Record<string, string>): ConferenceNoun {
  if (!name) throw new TwimlError(12200, '<Conference> needs a room name');
  if (name.length > 128) throw new TwimlError(12200, '<Conference> name is longer than 128');
  const beep = attrs.beep ?? 'true';
  if (!(BEEPS as readonly string[]).includes(beep))
    bad('beep', beep, 'must be true, false, onEnter or onExit');
  const maxRaw = attrs.maxParticipants ?? String(MAX_PARTICIPANTS);
  const max = Number(maxRaw);
  if (!/^\d+$/.test(maxRaw) || max < 2 || max > MAX_PARTICIPANTS)
    bad('maxParticipants', maxRaw, `must be a whole number from 2 to ${MAX_PARTICIPANTS}`);
  const record = attrs.record ?? 'do-not-record';
  if (record !== 'do-not-record' && record !== 'record-from-start')
    bad('record', record, 'must be do-not-record or record-from-start');
  const events = (attrs.statusCallbackEvent ?? '').split(/[\s,]+/).filter(Boolean);
  const unknown = events.find((e) => !EVENTS.includes(e));
  if (unknown) bad('statusCallbackEvent', unknown, `must be among ${EVENTS.join(' ')}`);
  // coach, jitterBufferSize and trim are accepted and ignored (documented in docs/voice.md).
  return {
    noun: 'Conference',
    name,
    muted: flag(attrs, 'muted', false),
    beep: beep as ConferenceNoun['beep'],
    startConferenceOnEnter: flag(attrs, 'startConferenceOnEnter', true),
    endConferenceOnExit: flag(attrs, 'endConferenceOnExit', false),
    waitUrl: attrs.waitUrl,
    waitMethod: httpMethod(attrs, 'waitMethod'),
    maxParticipants: max,
    record,
    statusCallback: attrs.statusCallback || undefined,
    statusCallbackMethod: httpMethod(attrs, 'statusCallbackMethod'),
    statusCallbackEvent: events,
    participantLabel: attrs.participantLabel || undefined,
  };
}
