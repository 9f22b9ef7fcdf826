// The TwiML language: the parser (every verb, noun and attribute the official SDK can write
// runs or is refused by name), the verbs it yields, and fetching a document (signed, with the
// fallback URL).
export { parseTwiml, TwimlError } from './parse.js';
export { fetchTwiml, type Fetched, type FetchContext, type TwimlSource } from './fetch.js';
export type {
  ConferenceNoun,
  DialNoun,
  DialQueueVerb,
  DialVerb,
  EnqueueVerb,
  GatherVerb,
  HttpMethod,
  LegOptions,
  Prompt,
  RecordVerb,
  StartRecordingVerb,
  Verb,
} from './verbs.js';
