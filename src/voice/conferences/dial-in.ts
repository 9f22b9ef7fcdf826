// Participants create: an outbound call whose TwiML is `<Dial><Conference>` to the room, so a
// dialled-in participant runs exactly the path of one who called in.
import { TwilioError, Errors } from '../../core/index.js';
import type { ParamSpec, RestRequest } from '../../core/rest.js';
import type { OutboundRequest } from '../calls/index.js';
import type { StatusEvent } from '../callbacks/index.js';
import type { ConferenceRow, ParticipantRow } from './tables.js';

const METHODS = ['GET', 'POST'] as const;
const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];
const DIALABLE = /^(\+[1-9]\d{1,14}|sips?:[^\s]+|client:[A-Za-z0-9_.@-]{1,121})$/;

export const participantCreateParams: readonly ParamSpec[] = [
  { name: 'From', type: 'string', required: true, max: 256 },
  { name: 'To', type: 'string', required: true, max: 256 },
  { name: 'StatusCallback', type: 'url' },
  { name: 'StatusCallbackMethod', type: 'enum', values: METHODS },
  { name: 'StatusCallbackEvent', type: 'list' },
  { name: 'Label', type: 'string', max: 128 },
  { name: 'Timeout', type: 'int', min: 5, max: 600 },
  { name: 'Muted', type: 'bool' },
  { name: 'Beep', type: 'enum', values: ['true', 'false', 'onEnter', 'onExit'] },
  { name: 'StartConferenceOnEnter', type: 'bool' },
  { name: 'EndConferenceOnExit', type: 'bool' },
  { name: 'WaitUrl', type: 'string', max: 2000 },
  { name: 'WaitMethod', type: 'enum', values: METHODS },
  { name: 'MaxParticipants', type: 'int', min: 2, max: 250 },
  {
    name: 'ConferenceRecord',
    type: 'enum',
    values: ['true', 'false', 'record-from-start', 'do-not-record'],
  },
  { name: 'ConferenceStatusCallback', type: 'url' },
  { name: 'ConferenceStatusCallbackMethod', type: 'enum', values: METHODS },
  { name: 'ConferenceStatusCallbackEvent', type: 'list' },
  { name: 'CallerId', type: 'string', max: 256 },
];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function dialInTwiml(
  req: RestRequest,
  conference: ConferenceRow,
): { request: OutboundRequest; row: Omit<ParticipantRow, 'call_sid'> } {
  const i = req.input;
  const to = i.string('To') ?? '';
  if (!DIALABLE.test(to))
    throw new TwilioError(Errors.invalidParameter, `To "${to}" must be E.164, sip: or client:`);
  const events = i.list('StatusCallbackEvent') ?? [];
  const badEvent = events.find((e) => !CALL_EVENTS.includes(e));
  if (badEvent) throw new TwilioError(Errors.invalidParameter, `StatusCallbackEvent "${badEvent}"`);
  const label = i.string('Label');
  if (label && (/^CA[0-9a-f]{32}$/.test(label) || label.includes('/')))
    throw new TwilioError(
      Errors.invalidParameter,
      'Label must not look like a CallSid or contain /',
    );
  const record = i.string('ConferenceRecord');
  const attrs: Record<string, string | undefined> = {
    muted: i.has('Muted') ? String(i.bool('Muted')) : undefined,
    beep: i.string('Beep'),
    startConferenceOnEnter: i.has('StartConferenceOnEnter')
      ? String(i.bool('StartConferenceOnEnter'))
      : undefined,
    endConferenceOnExit: i.has('EndConferenceOnExit')
      ? String(i.bool('EndConferenceOnExit'))
      : undefined,
    waitUrl: i.string('WaitUrl'),
    waitMethod: i.string('WaitMethod'),
    maxParticipants: i.has('MaxParticipants') ? String(i.int('MaxParticipants')) : undefined,
    record:
      record === 'true' || record === 'record-from-start'
        ? 'record-from-start'
        : record
          ? 'do-not-record'
          : undefined,
    statusCallback: i.string('ConferenceStatusCallback'),
    statusCallbackMethod: i.string('ConferenceStatusCallbackMethod'),
    statusCallbackEvent: i.list('ConferenceStatusCallbackEvent')?.join(' '),
    participantLabel: label,
  };
  const attrText = Object.entries(attrs)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  const twiml = `<Response><Dial><Conference${attrText}>${esc(conference.friendly_name)}</Conference></Dial></Response>`;
  const now = Date.now();
  return {
    request: {
      accountSid: req.account.sid,
      to,
      from: i.string('CallerId') ?? i.string('From') ?? '',
      url: undefined,
      twiml,
      method: 'POST',
      moduleSid: null,
      fallbackUrl: null,
      fallbackMethod: 'POST',
      statusCallback: i.string('StatusCallback') ?? null,
      statusCallbackMethod: (i.string('StatusCallbackMethod') ?? 'POST') as 'GET' | 'POST',
      statusCallbackEvents: events as StatusEvent[],
      timeoutS: i.int('Timeout') ?? 60,
    },
    row: {
      conference_sid: conference.sid,
      account_sid: req.account.sid,
      label: label ?? null,
      status: 'queued',
      muted: i.bool('Muted') ? 1 : 0,
      hold: 0,
      start_conference_on_enter: i.bool('StartConferenceOnEnter') === false ? 0 : 1,
      end_conference_on_exit: i.bool('EndConferenceOnExit') ? 1 : 0,
      date_created: now,
      date_updated: now,
    },
  };
}
