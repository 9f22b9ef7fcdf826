import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { conferenceNoun } from './conference.js';
import type {
  DialNoun,
  DialQueueVerb,
  EnqueueVerb,
  GatherVerb,
  HttpMethod,
  Prompt,
  Verb,
} from './verbs.js';

/** A TwiML document that cannot run, with Twilio's error code (12100 parse, 12200 schema). */
export class TwimlError extends Error {
  constructor(
    readonly code: 12100 | 12200 | 13221 | 13520,
    message: string,
  ) {
    super(message);
    this.name = 'TwimlError';
  }
}

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  // TwiML never needs a DOCTYPE; refusing it closes the door on entity expansion attacks.
  allowBooleanAttributes: false,
});

/** Verbs the official SDK's VoiceResponse can emit that Switchboard refuses, and why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  Pay: 'payments are not supported',
  Prompt: 'payments are not supported',
  Connect: '<Connect> (streams, rooms, virtual agents) is not supported',
  Refer: 'SIP REFER is not supported yet',
  Sms: '<Sms> is deprecated; use the Messages API',
  Start: '<Start> (streams, transcription) is not supported',
  Stop: '<Stop> (streams) is not supported',
  Echo: '<Echo> is not supported',
  Queue: '<Queue> is only a <Dial> noun',
  Task: '<Task> belongs in <Enqueue workflowSid>, and TaskRouter is not implemented',
};

function tagOf(node: XmlNode): string {
  for (const k of Object.keys(node)) if (k !== ':@') return k;
  return '';
}

function children(node: XmlNode): XmlNode[] {
  const v = node[tagOf(node)];
  return Array.isArray(v) ? (v as XmlNode[]) : [];
}

function text(node: XmlNode): string {
  return children(node)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : text(c)))
    .join(' ')
    .trim();
}

function int(
  attrs: Record<string, string>,
  name: string,
  fallback: number,
  min = 0,
  max = 86_400,
): number {
  const raw = attrs[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new TwimlError(12200, `attribute ${name}="${raw}" must be a whole number`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new TwimlError(12200, `attribute ${name}="${raw}" must be between ${min} and ${max}`);
  return n;
}

function bool(attrs: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = attrs[name];
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new TwimlError(12200, `attribute ${name}="${raw}" must be true or false`);
}

function method(attrs: Record<string, string>, name = 'method'): HttpMethod {
  const raw = (attrs[name] ?? 'POST').toUpperCase();
  if (raw !== 'GET' && raw !== 'POST')
    throw new TwimlError(12200, `attribute ${name}="${raw}" must be GET or POST`);
  return raw;
}

function prompt(tag: string, attrs: Record<string, string>, node: XmlNode): Prompt {
  switch (tag) {
    case 'Say':
      return {
        verb: 'Say',
        text: text(node),
        voice: attrs.voice,
        language: attrs.language,
        loop: int(attrs, 'loop', 1, 0, 1000),
      };
    case 'Play': {
      const url = text(node) || undefined;
      const digits = attrs.digits;
      if (!url && !digits) throw new TwimlError(12200, '<Play> needs a URL or a digits attribute');
      if (digits !== undefined && !/^[0-9*#wWA-D]*$/.test(digits))
        throw new TwimlError(12200, `<Play digits="${digits}"> has invalid digits`);
      return { verb: 'Play', url, loop: int(attrs, 'loop', 1, 0, 1000), digits };
    }
    case 'Pause':
      return { verb: 'Pause', lengthS: int(attrs, 'length', 1, 0, 600) };
    default:
      throw new TwimlError(12200, `<${tag}> is not allowed here`);
  }
}

function dialNouns(node: XmlNode): DialNoun[] {
  const nouns: DialNoun[] = [];
  const bare = children(node).find((c) => typeof c['#text'] === 'string');
  if (bare && String(bare['#text']).trim())
    nouns.push({ noun: 'Number', number: String(bare['#text']).trim(), url: undefined });
  for (const c of children(node)) {
    const tag = tagOf(c);
    const attrs = c[':@'] ?? {};
    if (tag === '#text') continue;
    if (tag === 'Number') nouns.push({ noun: 'Number', number: text(c), url: attrs.url });
    else if (tag === 'Sip')
      nouns.push({ noun: 'Sip', uri: text(c), username: attrs.username, password: attrs.password });
    else if (tag === 'Client') {
      const identity = children(c).find((x) => tagOf(x) === 'Identity');
      nouns.push({ noun: 'Client', identity: identity ? text(identity) : text(c) });
    } else if (tag === 'Conference') nouns.push(conferenceNoun(text(c), attrs));
    else if (tag === 'Queue' || tag === 'Sim' || tag === 'Application') {
      throw new TwimlError(13221, `<Dial><${tag}> is not supported yet`);
    } else throw new TwimlError(12200, `<${tag}> is not a <Dial> noun`);
  }
  if (nouns.length === 0)
    throw new TwimlError(12200, '<Dial> needs a number, <Number>, <Sip> or <Client>');
  if (nouns.length > 1 && nouns.some((n) => n.noun === 'Conference'))
    throw new TwimlError(12200, '<Conference> must be the only noun of its <Dial>');
  return nouns;
}

// ---- call queues ----
const TASKROUTER = 'TaskRouter (workflowSid, <Task>, reservationSid) is not implemented';

function enqueue(attrs: Record<string, string>, node: XmlNode): EnqueueVerb {
  if (attrs.workflowSid !== undefined || children(node).some((c) => tagOf(c) === 'Task'))
    throw new TwimlError(13221, `Switchboard refuses <Enqueue workflowSid>: ${TASKROUTER}`);
  const name = text(node);
  if (!name) throw new TwimlError(12200, '<Enqueue> needs a queue name');
  if (name.length > 64)
    throw new TwimlError(12200, '<Enqueue> queue name must be 64 characters or less');
  return {
    verb: 'Enqueue',
    name,
    action: attrs.action,
    method: method(attrs),
    waitUrl: attrs.waitUrl,
    waitUrlMethod: method(attrs, 'waitUrlMethod'),
  };
}

function dialQueue(attrs: Record<string, string>, node: XmlNode): DialQueueVerb {
  const nouns = children(node).filter(
    (c) => tagOf(c) !== '#text' || String(c['#text']).trim() !== '',
  );
  const queue = nouns[0];
  if (nouns.length !== 1 || !queue || tagOf(queue) !== 'Queue')
    throw new TwimlError(12200, '<Dial><Queue> cannot be combined with other nouns');
  const qa = queue[':@'] ?? {};
  if (qa.reservationSid !== undefined || qa.postWorkActivitySid !== undefined)
    throw new TwimlError(13221, `Switchboard refuses <Queue reservationSid>: ${TASKROUTER}`);
  if ((attrs.record ?? 'do-not-record') !== 'do-not-record')
    throw new TwimlError(
      13221,
      'Switchboard refuses <Dial record> with <Queue>: not supported yet',
    );
  const name = text(queue);
  if (!name) throw new TwimlError(12200, '<Queue> needs a queue name');
  return {
    verb: 'DialQueue',
    queue: name,
    url: qa.url,
    urlMethod: method(qa),
    timeoutS: int(attrs, 'timeout', 30, 5, 600),
    action: attrs.action,
    method: method(attrs),
    timeLimitS: int(attrs, 'timeLimit', 14_400, 1, 86_400),
    hangupOnStar: bool(attrs, 'hangupOnStar', false),
  };
}
// ---- end call queues ----

function verb(node: XmlNode): Verb {
  const tag = tagOf(node);
  const attrs = node[':@'] ?? {};
  switch (tag) {
    case 'Say':
    case 'Play':
    case 'Pause':
      return prompt(tag, attrs, node);
    case 'Gather': {
      const input = (attrs.input ?? 'dtmf').split(/\s+/).filter(Boolean);
      if (input.some((i) => i !== 'dtmf' && i !== 'speech'))
        throw new TwimlError(12200, `<Gather input="${attrs.input}"> is invalid`);
      const finishOnKey = attrs.finishOnKey ?? '#';
      if (!/^[0-9*#]?$/.test(finishOnKey))
        throw new TwimlError(12200, `finishOnKey="${finishOnKey}" must be one key or empty`);
      const gather: GatherVerb = {
        verb: 'Gather',
        input,
        numDigits: attrs.numDigits === undefined ? undefined : int(attrs, 'numDigits', 1, 1, 100),
        finishOnKey,
        timeoutS: int(attrs, 'timeout', 5, 0, 600),
        action: attrs.action,
        method: method(attrs),
        actionOnEmptyResult: bool(attrs, 'actionOnEmptyResult', false),
        prompts: children(node)
          .filter((c) => tagOf(c) !== '#text')
          .map((c) => prompt(tagOf(c), c[':@'] ?? {}, c)),
      };
      return gather;
    }
    case 'Record': {
      const trim = attrs.trim ?? 'trim-silence';
      if (trim !== 'trim-silence' && trim !== 'do-not-trim')
        throw new TwimlError(12200, `trim="${trim}" is invalid`);
      return {
        verb: 'Record',
        maxLengthS: int(attrs, 'maxLength', 3600, 1, 14_400),
        timeoutS: int(attrs, 'timeout', 5, 0, 600),
        finishOnKey: attrs.finishOnKey ?? '1234567890*#',
        playBeep: bool(attrs, 'playBeep', true),
        action: attrs.action,
        method: method(attrs),
        recordingStatusCallback: attrs.recordingStatusCallback,
        recordingStatusCallbackMethod: method(attrs, 'recordingStatusCallbackMethod'),
        trim,
      };
    }
    case 'Redirect': {
      const target = text(node);
      if (!target) throw new TwimlError(12200, '<Redirect> needs a URL or module:<ModuleCode>');
      return { verb: 'Redirect', target, method: method(attrs) };
    }
    case 'Hangup':
      return { verb: 'Hangup' };
    case 'Reject': {
      const reason = attrs.reason ?? 'rejected';
      if (reason !== 'rejected' && reason !== 'busy')
        throw new TwimlError(12200, `<Reject reason="${reason}"> is invalid`);
      return { verb: 'Reject', reason };
    }
    case 'Enqueue':
      return enqueue(attrs, node);
    case 'Leave':
      return { verb: 'Leave' };
    case 'Dial':
      if (children(node).some((c) => tagOf(c) === 'Queue')) return dialQueue(attrs, node);
      return {
        verb: 'Dial',
        nouns: dialNouns(node),
        timeoutS: int(attrs, 'timeout', 30, 5, 600),
        callerId: attrs.callerId,
        action: attrs.action,
        method: method(attrs),
        timeLimitS: int(attrs, 'timeLimit', 14_400, 1, 86_400),
        hangupOnStar: bool(attrs, 'hangupOnStar', false),
        ...dialRecording(attrs),
      };
    default: {
      const why = UNSUPPORTED[tag];
      if (why) throw new TwimlError(13221, `Switchboard refuses <${tag}>: ${why}`);
      throw new TwimlError(12200, `<${tag}> is not a TwiML verb`);
    }
  }
}

const DIAL_RECORD = ['do-not-record', 'record-from-answer', 'record-from-ringing'] as const;
const RECORDING_EVENTS = ['in-progress', 'completed', 'absent'] as const;
const RECORDING_TRACKS = ['inbound', 'outbound', 'both'] as const;

function oneOf<T extends string>(values: readonly T[], raw: string, what: string): T {
  const found = values.find((v) => v === raw);
  if (found === undefined) throw new TwimlError(12200, `${what}="${raw}" is invalid`);
  return found;
}

/** <Dial record=…> and its recording attributes; two-channel recordings are refused. */
function dialRecording(attrs: Record<string, string>) {
  const record = attrs.record ?? 'do-not-record';
  if (record.endsWith('-dual'))
    throw new TwimlError(
      13221,
      `<Dial record="${record}">: two-channel recordings are not supported`,
    );
  if ((attrs.trim ?? 'do-not-trim') !== 'do-not-trim')
    throw new TwimlError(13221, `<Dial trim="${attrs.trim}">: silence trimming is not supported`);
  return {
    record: oneOf(DIAL_RECORD, record, 'record'),
    recordingStatusCallback: attrs.recordingStatusCallback,
    recordingStatusCallbackMethod: method(attrs, 'recordingStatusCallbackMethod'),
    recordingStatusCallbackEvents: (attrs.recordingStatusCallbackEvent ?? 'completed')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((e) => oneOf(RECORDING_EVENTS, e, 'recordingStatusCallbackEvent')),
    recordingTrack: oneOf(RECORDING_TRACKS, attrs.recordingTrack ?? 'both', 'recordingTrack'),
  };
}

/** Parses a TwiML document into verbs; throws TwimlError with Twilio's code when it cannot run. */
export function parseTwiml(xml: string): Verb[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new TwimlError(12100, 'DOCTYPE and ENTITY declarations are not allowed');
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new TwimlError(
      12100,
      `Document parse failure: ${valid.err.msg} (line ${valid.err.line})`,
    );
  const doc = parser.parse(xml) as XmlNode[];
  const root = doc.find((n) => tagOf(n) === 'Response');
  if (!root) throw new TwimlError(12100, 'the document root must be <Response>');
  return children(root)
    .filter((c) => tagOf(c) !== '#text')
    .map(verb);
}
