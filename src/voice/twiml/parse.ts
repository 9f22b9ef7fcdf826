import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Attrs } from './attrs.js';
import { dial } from './dial.js';
import { TwimlError } from './errors.js';
import { sayContent } from './ssml.js';
import type {
  EnqueueVerb,
  GatherVerb,
  Prompt,
  RecordVerb,
  StartRecordingVerb,
  Verb,
} from './verbs.js';
import { attrsOf, bareText, elements, tagOf, type XmlNode } from './xml.js';

export { TwimlError } from './errors.js';

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
  Connect: '<Connect> (streams, rooms, virtual agents, conversation relay) is not supported',
  Refer: 'SIP REFER is not supported yet',
  Sms: '<Sms> is deprecated; use the Messages API',
  Stop: '<Stop> (streams, SIPREC, transcriptions) is not supported',
  Echo: '<Echo> is not supported',
  Queue: '<Queue> is only a <Dial> noun',
  Task: '<Task> belongs in <Enqueue workflowSid>, and TaskRouter is not implemented',
};

const RECORDING_EVENTS = ['in-progress', 'completed', 'absent'] as const;
const TRIMS = ['trim-silence', 'do-not-trim'] as const;
const NO_SPEECH = 'speech recognition is not available (Gather listens for DTMF only)';
const NO_TRANSCRIPTION = 'transcription is not available';

/** Verbs that carry no attributes or children of their own besides <Parameter>s. */
function noParameters(node: XmlNode, tag: string): void {
  if (elements(node).some((c) => tagOf(c) === 'Parameter'))
    throw new TwimlError(
      13221,
      `Switchboard refuses <${tag}><Parameter>: parameters for the Voice SDK are not supported`,
    );
  const other = elements(node)[0];
  if (other) throw new TwimlError(12200, `<${tagOf(other)}> is not allowed in <${tag}>`);
}

function prompt(node: XmlNode): Prompt {
  const tag = tagOf(node);
  const a = new Attrs(tag, attrsOf(node));
  let out: Prompt;
  switch (tag) {
    case 'Say': {
      const { text: spoken, ssml } = sayContent(node);
      out = {
        verb: 'Say',
        text: spoken,
        ssml,
        voice: a.get('voice'),
        language: a.get('language'),
        loop: a.int('loop', 1, 0, 1000),
      };
      break;
    }
    case 'Play': {
      const url = bareText(node) || undefined;
      const digits = a.get('digits');
      if (!url && !digits) throw new TwimlError(12200, '<Play> needs a URL or a digits attribute');
      if (digits !== undefined && !/^[0-9*#wWA-D]*$/.test(digits))
        throw new TwimlError(12200, `<Play digits="${digits}"> has invalid digits`);
      out = { verb: 'Play', url, loop: a.int('loop', 1, 0, 1000), digits };
      break;
    }
    case 'Pause':
      out = { verb: 'Pause', lengthS: a.int('length', 1, 0, 600) };
      break;
    default:
      throw new TwimlError(12200, `<${tag}> is not allowed here`);
  }
  if (tag !== 'Say' && elements(node)[0]) throw new TwimlError(12200, `<${tag}> holds no elements`);
  a.done();
  return out;
}

function gather(node: XmlNode): GatherVerb {
  const a = new Attrs('Gather', attrsOf(node));
  const input = a.list('input', ['dtmf', 'speech'] as const, ['dtmf']);
  if (input.includes('speech'))
    throw new TwimlError(
      13221,
      `Switchboard refuses <Gather input="${input.join(' ')}">: ${NO_SPEECH}`,
    );
  const finishOnKey = a.get('finishOnKey') ?? '#';
  if (!/^[0-9*#]?$/.test(finishOnKey))
    throw new TwimlError(12200, `finishOnKey="${finishOnKey}" must be one key or empty`);
  // Speech settings: refused unless they say what Twilio does without them.
  a.refuse(
    [
      'speechTimeout',
      'maxSpeechTime',
      'hints',
      'language',
      'partialResultCallback',
      'partialResultCallbackMethod',
      'speechModel',
    ],
    NO_SPEECH,
  );
  a.refuse('profanityFilter', NO_SPEECH, 'true');
  a.refuse(['enhanced', 'debug'], NO_SPEECH, 'false');
  const out: GatherVerb = {
    verb: 'Gather',
    input,
    numDigits: a.has('numDigits') ? a.int('numDigits', 1, 1, 100) : undefined,
    finishOnKey,
    timeoutS: a.int('timeout', 5, 0, 600),
    action: a.get('action'),
    method: a.method(),
    actionOnEmptyResult: a.bool('actionOnEmptyResult', false),
    bargeIn: a.bool('bargeIn', true),
    prompts: elements(node).map(prompt),
  };
  a.done();
  return out;
}

function record(node: XmlNode): RecordVerb {
  const a = new Attrs('Record', attrsOf(node));
  a.refuse('transcribe', NO_TRANSCRIPTION, 'false');
  a.refuse('transcribeCallback', NO_TRANSCRIPTION);
  a.refuse(
    'recordingConfigurationId',
    'recording configurations (encryption, storage) are not supported',
  );
  const out: RecordVerb = {
    verb: 'Record',
    maxLengthS: a.int('maxLength', 3600, 1, 14_400),
    timeoutS: a.int('timeout', 5, 0, 600),
    finishOnKey: a.get('finishOnKey') ?? '1234567890*#',
    playBeep: a.bool('playBeep', true),
    action: a.get('action'),
    method: a.method(),
    recordingStatusCallback: a.get('recordingStatusCallback'),
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvents: a.list('recordingStatusCallbackEvent', RECORDING_EVENTS, [
      'completed',
    ]),
    trim: a.oneOf('trim', TRIMS, 'trim-silence'),
  };
  if (elements(node)[0]) throw new TwimlError(12200, '<Record> holds no elements');
  a.done();
  return out;
}

/** `<Start>`: only `<Recording>` runs (the rest of the call is recorded). */
function start(node: XmlNode): StartRecordingVerb {
  const inner = elements(node);
  const first = inner[0];
  if (inner.length !== 1 || !first)
    throw new TwimlError(
      12200,
      '<Start> holds exactly one <Recording>, <Stream>, <Siprec> or <Transcription>',
    );
  const tag = tagOf(first);
  if (tag !== 'Recording') {
    const why = tag === 'Stream' ? 'media streams' : tag === 'Siprec' ? 'SIPREC' : 'transcriptions';
    throw new TwimlError(13221, `Switchboard refuses <Start><${tag}>: ${why} are not supported`);
  }
  const s = new Attrs('Start', attrsOf(node));
  s.refuse(['action', 'method'], 'the document goes on after <Start>; it has no action');
  s.done();
  const a = new Attrs('Recording', attrsOf(first));
  a.refuse('recordingConfigurationId', 'recording configurations are not supported');
  const out: StartRecordingVerb = {
    verb: 'StartRecording',
    track: a.oneOf('track', ['inbound', 'outbound', 'both'] as const, 'both'),
    trim: a.oneOf('trim', TRIMS, 'do-not-trim'),
    channels: a.oneOf('channels', ['mono', 'dual'] as const, 'mono') === 'dual' ? 2 : 1,
    recordingStatusCallback: a.get('recordingStatusCallback'),
    recordingStatusCallbackMethod: a.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvents: a.list('recordingStatusCallbackEvent', RECORDING_EVENTS, [
      'completed',
    ]),
  };
  a.done();
  return out;
}

// ---- call queues ----
const TASKROUTER = 'TaskRouter (workflowSid, <Task>) is not implemented';

function enqueue(node: XmlNode): EnqueueVerb {
  const a = new Attrs('Enqueue', attrsOf(node));
  if (a.has('workflowSid') || elements(node).some((c) => tagOf(c) === 'Task'))
    throw new TwimlError(13221, `Switchboard refuses <Enqueue workflowSid>: ${TASKROUTER}`);
  const name = bareText(node);
  if (!name) throw new TwimlError(12200, '<Enqueue> needs a queue name');
  if (name.length > 64)
    throw new TwimlError(12200, '<Enqueue> queue name must be 64 characters or less');
  const inner = elements(node)[0];
  if (inner) throw new TwimlError(12200, `<${tagOf(inner)}> is not allowed in <Enqueue>`);
  const out: EnqueueVerb = {
    verb: 'Enqueue',
    name,
    action: a.get('action'),
    method: a.method(),
    waitUrl: a.get('waitUrl'),
    waitUrlMethod: a.method('waitUrlMethod'),
    maxQueueSize: a.has('maxQueueSize') ? a.int('maxQueueSize', 100, 1, 5000) : undefined,
  };
  a.done();
  return out;
}

// ---- end call queues ----

function verb(node: XmlNode): Verb {
  const tag = tagOf(node);
  const a = new Attrs(tag, attrsOf(node));
  let out: Verb;
  switch (tag) {
    case 'Say':
    case 'Play':
    case 'Pause':
      return prompt(node);
    case 'Gather':
      return gather(node);
    case 'Record':
      return record(node);
    case 'Start':
      return start(node);
    case 'Redirect': {
      const target = bareText(node);
      if (!target) throw new TwimlError(12200, '<Redirect> needs a URL or module:<ModuleCode>');
      out = { verb: 'Redirect', target, method: a.method() };
      break;
    }
    case 'Hangup':
      noParameters(node, tag);
      out = { verb: 'Hangup' };
      break;
    case 'Reject':
      noParameters(node, tag);
      out = {
        verb: 'Reject',
        reason: a.oneOf('reason', ['rejected', 'busy'] as const, 'rejected'),
      };
      break;
    case 'Enqueue':
      return enqueue(node);
    case 'Leave':
      out = { verb: 'Leave' };
      break;
    case 'Dial':
      return dial(node, a);
    default: {
      const why = UNSUPPORTED[tag];
      if (why) throw new TwimlError(13221, `Switchboard refuses <${tag}>: ${why}`);
      throw new TwimlError(12200, `<${tag}> is not a TwiML verb`);
    }
  }
  const inner = elements(node)[0];
  if (inner) throw new TwimlError(12200, `<${tagOf(inner)}> is not allowed in <${tag}>`);
  a.done();
  return out;
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
  let doc: XmlNode[];
  try {
    doc = parser.parse(xml) as XmlNode[];
  } catch (e) {
    // The validator lets a few malformed tags through ("<:/") that the parser then rejects.
    throw new TwimlError(12100, `Document parse failure: ${(e as Error).message}`);
  }
  const root = doc.find((n) => tagOf(n) === 'Response');
  if (!root) throw new TwimlError(12100, 'the document root must be <Response>');
  return elements(root).map(verb);
}
