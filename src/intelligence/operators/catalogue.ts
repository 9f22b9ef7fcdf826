// The operator types this platform runs and the prebuilt operators every account sees. Their
// SIDs are derived from their names, so they are the same on every node and every restart.
import { createHash } from 'node:crypto';
import { ENTITY_TYPES } from '../extract/entity-types.js';

export type OutputType =
  | 'text-classification'
  | 'text-extraction'
  | 'text-extraction-normalized'
  | 'text-generation'
  | 'json';

/** What an operator's result says (OperatorResult.operator_type). */
export type ResultType =
  | 'conversation-classify'
  | 'utterance-classify'
  | 'extract'
  | 'extract-normalize'
  | 'pii-extract'
  | 'text-generation'
  | 'json';

export interface OperatorType {
  readonly name: string;
  readonly friendlyName: string;
  readonly description: string;
  readonly outputType: OutputType;
  readonly resultType: ResultType;
  readonly provider: 'twilio' | 'openai';
  /** Custom operators may be created from it (with a config matching configSchema). */
  readonly configurable: boolean;
  /** Needs a language model service: listed, but operators of it are refused. */
  readonly generative?: true;
  readonly configSchema: Record<string, unknown> | null;
}

const texts = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1000 } };

export const UTTERANCE_STATE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['states'],
  properties: {
    states: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'examples'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64, not: { const: 'none' } },
          examples: { ...texts, minItems: 1, maxItems: 20000 },
          extract: { type: 'string', enum: ENTITY_TYPES },
        },
      },
    },
    none_examples: { ...texts, maxItems: 20000 },
  },
} as const;

export const PHRASE_MATCHING_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['phrases'],
  properties: {
    phrases: { ...texts, minItems: 1, maxItems: 500 },
    /** exact: the words in order; fuzzy: most of them, in order, allowing for recognition errors. */
    match_type: { type: 'string', enum: ['exact', 'fuzzy'] },
  },
} as const;

const GENERATIVE_SCHEMA = {
  type: 'object',
  required: ['prompt'],
  properties: { prompt: { type: 'string' }, json_result_schema: { type: 'object' } },
} as const;

export const OPERATOR_TYPES: readonly OperatorType[] = [
  {
    name: 'utterance-state',
    friendlyName: 'Utterance State',
    description:
      "Labels each sentence with one of the account's states (or none), trained from examples, and extracts and normalises each state's value (money, percent, number, date, time, phone, email, identifier).",
    outputType: 'text-classification',
    resultType: 'utterance-classify',
    provider: 'twilio',
    configurable: true,
    configSchema: UTTERANCE_STATE_SCHEMA,
  },
  {
    name: 'phrase-matching',
    friendlyName: 'Phrase Matching',
    description: 'Finds the sentences that say one of the given phrases.',
    outputType: 'text-extraction',
    resultType: 'extract',
    provider: 'twilio',
    configurable: true,
    configSchema: PHRASE_MATCHING_SCHEMA,
  },
  {
    name: 'generative-json',
    friendlyName: 'Generative JSON',
    description: 'Answers a prompt about the conversation with a language model.',
    outputType: 'json',
    resultType: 'json',
    provider: 'openai',
    configurable: true,
    generative: true,
    configSchema: GENERATIVE_SCHEMA,
  },
  {
    name: 'sentiment',
    friendlyName: 'Sentiment',
    description: 'Positive, neutral or negative, per sentence and for the conversation.',
    outputType: 'text-classification',
    resultType: 'conversation-classify',
    provider: 'twilio',
    configurable: false,
    configSchema: null,
  },
  {
    name: 'entity-recognition',
    friendlyName: 'Entity Recognition',
    description:
      'Money, percentages, numbers, dates, times, phone numbers, e-mail addresses and identifiers, normalised.',
    outputType: 'text-extraction-normalized',
    resultType: 'extract-normalize',
    provider: 'twilio',
    configurable: false,
    configSchema: null,
  },
  {
    name: 'pii-redaction',
    friendlyName: 'PII Redaction',
    description:
      'Finds personal data (phone numbers, e-mail addresses, identifiers, names of numbers) and redacts it from the transcript.',
    outputType: 'text-extraction',
    resultType: 'pii-extract',
    provider: 'twilio',
    configurable: false,
    configSchema: null,
  },
  {
    name: 'call-disposition',
    friendlyName: 'Call Disposition',
    description: 'How the call ended: resolved, escalated, follow-up or unresolved.',
    outputType: 'text-classification',
    resultType: 'conversation-classify',
    provider: 'twilio',
    configurable: false,
    configSchema: null,
  },
];

export function derivedSid(prefix: 'LY' | 'EY', name: string): string {
  return prefix + createHash('sha256').update(`switchboard:${name}`).digest('hex').slice(0, 32);
}

export function operatorTypeSid(t: OperatorType): string {
  return derivedSid('EY', `operator-type:${t.name}`);
}

export function operatorType(nameOrSid: string): OperatorType | undefined {
  return OPERATOR_TYPES.find((t) => t.name === nameOrSid || operatorTypeSid(t) === nameOrSid);
}

export interface PrebuiltOperator {
  readonly sid: string;
  readonly friendlyName: string;
  readonly description: string;
  readonly operatorType: string;
  readonly config: Record<string, unknown>;
}

const prebuilt = (
  key: string,
  friendlyName: string,
  operatorType: string,
  description: string,
  config: Record<string, unknown> = {},
): PrebuiltOperator => ({
  sid: derivedSid('LY', `prebuilt:${key}`),
  friendlyName,
  description,
  operatorType,
  config,
});

export const PREBUILT_OPERATORS: readonly PrebuiltOperator[] = [
  prebuilt(
    'agent-introduction',
    'Agent Introduction',
    'phrase-matching',
    'The agent said who they are.',
    {
      phrases: [
        'my name is',
        'this is',
        'you are speaking with',
        'you are talking to',
        "you've reached",
        'you have reached',
        'speaking',
      ],
      match_type: 'fuzzy',
    },
  ),
  prebuilt(
    'recording-disclosure',
    'Recording Disclosure',
    'phrase-matching',
    'The caller was told that the call is recorded.',
    {
      phrases: [
        'this call is recorded',
        'this call may be recorded',
        'this call is being recorded',
        'calls are recorded',
        'calls may be recorded',
        'recorded for quality',
        'monitored or recorded',
        'recorded and monitored',
      ],
      match_type: 'fuzzy',
    },
  ),
  prebuilt(
    'escalation-request',
    'Escalation Request',
    'phrase-matching',
    'The caller asked for someone else.',
    {
      phrases: [
        'speak to a manager',
        'talk to a manager',
        'speak to your supervisor',
        'talk to a supervisor',
        'speak to a supervisor',
        'speak with a manager',
        'speak to someone else',
        'speak to a real person',
        'talk to a human',
        'escalate this',
        'file a complaint',
      ],
      match_type: 'fuzzy',
    },
  ),
  prebuilt(
    'sentiment',
    'Sentiment Analysis',
    'sentiment',
    'Sentiment per sentence and for the conversation.',
  ),
  prebuilt(
    'entity-recognition',
    'Entity Recognition',
    'entity-recognition',
    'Entities, normalised.',
  ),
  prebuilt('pii-redaction', 'PII Redaction', 'pii-redaction', 'Personal data found and redacted.'),
  prebuilt('call-disposition', 'Call Disposition', 'call-disposition', 'How the call ended.'),
];

export function prebuiltOperator(sid: string): PrebuiltOperator | undefined {
  return PREBUILT_OPERATORS.find((p) => p.sid === sid);
}
