// <Dial> and its nouns: what each leg rings, and what it does once answered (a whisper, DTMF,
// status callbacks of its own). `<Dial><Queue>` takes a queue's front member instead.
import { Attrs, MACHINE_DETECTION } from './attrs.js';
import { conferenceNoun } from './conference.js';
import { TwimlError } from './errors.js';
import type { CallEvent, DialNoun, DialQueueVerb, DialVerb, LegOptions } from './verbs.js';
import { attrsOf, bareText, children, elements, tagOf, text, type XmlNode } from './xml.js';

const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;
const RECORD = [
  'do-not-record',
  'record-from-answer',
  'record-from-ringing',
  'record-from-answer-dual',
  'record-from-ringing-dual',
] as const;
const RECORDING_EVENTS = ['in-progress', 'completed', 'absent'] as const;
const NO_AMD = 'answering machine detection is not supported';
const TASKROUTER = 'TaskRouter (workflowSid, <Task>, reservationSid) is not implemented';
/** Headers a <Sip> may add to its INVITE: custom ones, never those the SIP stack owns. */
const CUSTOM_HEADER = /^(X-[A-Za-z0-9-]{1,64}|User-to-User)$/i;

function legOptions(a: Attrs): LegOptions {
  a.refuse(MACHINE_DETECTION, NO_AMD);
  // Twilio's sendDigits is a <Number>'s alone.
  const sendDigits = a.tag === 'Number' ? a.get('sendDigits') : undefined;
  if (sendDigits !== undefined && !/^[0-9*#wW]+$/.test(sendDigits))
    throw new TwimlError(12200, `<${a.tag} sendDigits="${sendDigits}"> has invalid digits`);
  return {
    url: a.get('url'),
    method: a.method(),
    sendDigits,
    statusCallback: a.get('statusCallback'),
    statusCallbackMethod: a.method('statusCallbackMethod'),
    statusCallbackEvents: a.list<CallEvent>('statusCallbackEvent', CALL_EVENTS, ['completed']),
  };
}

/** `sip:bob@host?X-Foo=bar`: Twilio's custom headers in the URI, taken out of it. */
function uriHeaders(raw: string): { uri: string; headers: Record<string, string> } {
  const q = raw.indexOf('?');
  if (q < 0) return { uri: raw, headers: {} };
  const headers: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw.slice(q + 1))) {
    if (!CUSTOM_HEADER.test(name))
      throw new TwimlError(
        13221,
        `Switchboard refuses the SIP header "${name}" in <Sip>: only X- headers and User-to-User`,
      );
    headers[name] = value;
  }
  return { uri: raw.slice(0, q), headers };
}

function sip(node: XmlNode, a: Attrs): DialNoun {
  const options = legOptions(a);
  let username = a.get('username');
  let password = a.get('password');
  let raw = bareText(node);
  const headers: Record<string, string> = {};
  for (const c of elements(node)) {
    const tag = tagOf(c);
    if (tag === 'Uri') {
      const u = new Attrs('Uri', attrsOf(c));
      u.refuse(
        ['priority', 'weight'],
        'several URIs with priorities and weights are not supported',
      );
      username = u.get('username') ?? username;
      password = u.get('password') ?? password;
      u.done();
      if (raw) throw new TwimlError(13221, 'Switchboard refuses a <Sip> with several URIs');
      raw = text(c);
    } else if (tag === 'Headers') {
      new Attrs('Headers', attrsOf(c)).done();
      for (const h of elements(c)) {
        if (tagOf(h) !== 'Header')
          throw new TwimlError(12200, `<${tagOf(h)}> is not allowed in <Headers>`);
        const ha = new Attrs('Header', attrsOf(h));
        const name = ha.get('name') ?? '';
        const value = ha.get('value') ?? '';
        ha.done();
        if (!CUSTOM_HEADER.test(name))
          throw new TwimlError(
            13221,
            `Switchboard refuses <Header name="${name}">: only X- headers and User-to-User`,
          );
        headers[name] = value;
      }
    } else throw new TwimlError(12200, `<${tag}> is not allowed in <Sip>`);
  }
  if (!raw) throw new TwimlError(12200, '<Sip> needs a SIP URI');
  const fromUri = uriHeaders(raw);
  return {
    noun: 'Sip',
    uri: fromUri.uri,
    username,
    password,
    headers: { ...fromUri.headers, ...headers },
    ...options,
  };
}

function noun(c: XmlNode): DialNoun {
  const tag = tagOf(c);
  const a = new Attrs(tag, attrsOf(c));
  let out: DialNoun;
  switch (tag) {
    case 'Number':
      a.refuse('byoc', 'BYOC trunks are not supported: numbers go through the configured trunks');
      out = { noun: 'Number', number: text(c), ...legOptions(a) };
      if (elements(c)[0]) throw new TwimlError(12200, '<Number> holds only the number');
      break;
    case 'Sip':
      out = sip(c, a);
      break;
    case 'Client': {
      const inner = elements(c).filter(
        (x) => tagOf(x) !== 'Identity' && tagOf(x) !== 'Parameter',
      )[0];
      if (inner) throw new TwimlError(12200, `<${tagOf(inner)}> is not allowed in <Client>`);
      const identity = elements(c).find((x) => tagOf(x) === 'Identity');
      // <Parameter name value>s reach the Voice SDK as call.customParameters.
      const parameters: Record<string, string> = {};
      for (const p of elements(c).filter((x) => tagOf(x) === 'Parameter')) {
        const pa = attrsOf(p);
        const name = pa.name;
        if (typeof name !== 'string' || name === '')
          throw new TwimlError(12200, '<Parameter> needs a name');
        parameters[name] = typeof pa.value === 'string' ? pa.value : '';
      }
      out = {
        noun: 'Client',
        identity: identity ? text(identity) : bareText(c),
        parameters,
        ...legOptions(a),
      };
      if (!out.identity) throw new TwimlError(12200, '<Client> needs an identity');
      break;
    }
    case 'Conference':
      out = conferenceNoun(text(c), a);
      break;
    case 'Sim':
    case 'Application':
    case 'WhatsApp':
      throw new TwimlError(13221, `Switchboard refuses <Dial><${tag}>: not supported`);
    default:
      throw new TwimlError(12200, `<${tag}> is not a <Dial> noun`);
  }
  a.done();
  return out;
}

/** Attributes of <Dial> that no noun of Switchboard's honours. */
function refuseDialExtras(a: Attrs): void {
  a.refuse(
    'answerOnBridge',
    'the caller is answered before <Dial> runs (ringback tones are the phone’s own)',
    'false',
  );
  a.refuse('ringTone', 'the caller hears no ringback from the platform');
  a.refuse(['referUrl', 'referMethod'], 'SIP REFER is not supported');
  a.refuse('events', 'call progress events of <Dial> are not supported');
  a.refuse('passports', 'SHAKEN/STIR passports are not supported');
  a.refuse('recordingConfigurationId', 'recording configurations are not supported');
}

function dialQueue(node: XmlNode, a: Attrs): DialQueueVerb {
  const nouns = children(node).filter(
    (c) => tagOf(c) !== '#text' || String(c['#text']).trim() !== '',
  );
  const queue = nouns[0];
  if (nouns.length !== 1 || !queue || tagOf(queue) !== 'Queue')
    throw new TwimlError(12200, '<Dial><Queue> cannot be combined with other nouns');
  const q = new Attrs('Queue', attrsOf(queue));
  q.refuse(['reservationSid', 'postWorkActivitySid'], TASKROUTER);
  if ((a.get('record') ?? 'do-not-record') !== 'do-not-record')
    throw new TwimlError(
      13221,
      'Switchboard refuses <Dial record> with <Queue>: not supported yet',
    );
  const name = text(queue);
  if (!name) throw new TwimlError(12200, '<Queue> needs a queue name');
  const out: DialQueueVerb = {
    verb: 'DialQueue',
    queue: name,
    url: q.get('url'),
    urlMethod: q.method(),
    timeoutS: a.int('timeout', 30, 5, 600),
    action: a.get('action'),
    method: a.method(),
    timeLimitS: a.int('timeLimit', 14_400, 1, 86_400),
    hangupOnStar: a.bool('hangupOnStar', false),
  };
  q.done();
  // A queue member is already on a call: these shape an outgoing leg, and there is none.
  for (const inert of ['callerId', 'sequential', 'trim', 'recordingTrack']) a.get(inert);
  for (const r of [
    'recordingStatusCallback',
    'recordingStatusCallbackMethod',
    'recordingStatusCallbackEvent',
  ])
    a.get(r);
  return out;
}

export function dial(node: XmlNode, a: Attrs): DialVerb | DialQueueVerb {
  refuseDialExtras(a);
  if (elements(node).some((c) => tagOf(c) === 'Queue')) {
    const out = dialQueue(node, a);
    a.done();
    return out;
  }
  const nouns: DialNoun[] = [];
  const bare = bareText(node);
  if (bare)
    nouns.push({
      noun: 'Number',
      number: bare,
      url: undefined,
      method: 'POST',
      sendDigits: undefined,
      statusCallback: undefined,
      statusCallbackMethod: 'POST',
      statusCallbackEvents: ['completed'],
    });
  for (const c of elements(node)) nouns.push(noun(c));
  if (nouns.length === 0)
    throw new TwimlError(12200, '<Dial> needs a number, <Number>, <Sip> or <Client>');
  if (nouns.length > 10) throw new TwimlError(12200, '<Dial> rings at most 10 nouns');
  if (nouns.length > 1 && nouns.some((n) => n.noun === 'Conference'))
    throw new TwimlError(12200, '<Conference> must be the only noun of its <Dial>');
  const record = a.oneOf('record', RECORD, 'do-not-record');
  const out: DialVerb = {
    verb: 'Dial',
    nouns,
    timeoutS: a.int('timeout', 30, 5, 600),
    callerId: a.get('callerId'),
    action: a.get('action'),
    method: a.method(),
    timeLimitS: a.int('timeLimit', 14_400, 1, 86_400),
    hangupOnStar: a.bool('hangupOnStar', false),
    sequential: a.bool('sequential', false),
    record: record.endsWith('-dual')
      ? (record.slice(0, -'-dual'.length) as 'record-from-answer' | 'record-from-ringing')
      : (record as 'do-not-record' | 'record-from-answer' | 'record-from-ringing'),
    recordChannels: record.endsWith('-dual') ? 2 : 1,
    trim: a.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'do-not-trim'),
    recordingStatusCallback: a.get('recordingStatusCallback'),
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvents: a.list('recordingStatusCallbackEvent', RECORDING_EVENTS, [
      'completed',
    ]),
    recordingTrack: a.oneOf('recordingTrack', ['inbound', 'outbound', 'both'] as const, 'both'),
  };
  a.done();
  return out;
}
