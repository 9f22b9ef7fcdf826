// The resources as Twilio's Conversational Intelligence v2 renders them (snake_case, ISO 8601
// dates, absolute URLs).
import { iso8601 } from '../core/index.js';
import {
  operatorTypeSid,
  type OperatorType,
  type PrebuiltOperator,
} from './operators/catalogue.js';
import type { OperatorRow, ResultRow, SentenceRow, ServiceRow, TranscriptRow } from './tables.js';

/** When the catalogue's resources were made (they never change within a release). */
const CATALOGUE_DATE = Date.UTC(2026, 0, 1);

export function serviceJson(row: ServiceRow, attached: readonly string[], base: string) {
  return {
    account_sid: row.account_sid,
    auto_redaction: row.auto_redaction === 1,
    media_redaction: row.media_redaction === 1,
    auto_transcribe: row.auto_transcribe === 1,
    data_logging: row.data_logging === 1,
    date_created: iso8601(row.date_created),
    date_updated: iso8601(row.date_updated),
    friendly_name: row.friendly_name,
    language_code: row.language_code,
    sid: row.sid,
    unique_name: row.unique_name,
    url: `${base}/v2/Services/${row.sid}`,
    webhook_url: row.webhook_url,
    webhook_http_method: row.webhook_http_method,
    read_only_attached_operator_sids: attached,
    version: row.version,
    encryption_credential_sid: null,
  };
}

export function transcriptJson(row: TranscriptRow, base: string) {
  const url = `${base}/v2/Transcripts/${row.sid}`;
  return {
    account_sid: row.account_sid,
    service_sid: row.service_sid,
    sid: row.sid,
    date_created: iso8601(row.date_created),
    date_updated: iso8601(row.date_updated),
    status: row.status,
    channel: JSON.parse(row.channel) as unknown,
    data_logging: row.data_logging === 1,
    language_code: row.language_code,
    customer_key: row.customer_key,
    media_start_time: iso8601(row.media_start_time),
    duration: row.duration,
    url,
    redaction: row.redaction === 1,
    encryption_credential_sid: null,
    // Extension: why a transcript failed.
    failure_reason: row.error,
    links: {
      sentences: `${url}/Sentences`,
      encrypted_sentences: `${url}/Sentences/Encrypted`,
      media: `${url}/Media`,
      operator_results: `${url}/OperatorResults`,
      encrypted_operator_results: `${url}/OperatorResults/Encrypted`,
    },
  };
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function sentenceJson(row: SentenceRow, redacted: boolean, wordTimestamps: boolean) {
  const words =
    wordTimestamps && row.words
      ? (
          JSON.parse(row.words) as {
            word: string;
            startMs: number;
            endMs: number;
            confidence: number;
          }[]
        ).map((w) => ({
          word: w.word,
          start_time: seconds(w.startMs),
          end_time: seconds(w.endMs),
          confidence: w.confidence,
        }))
      : [];
  return {
    media_channel: row.media_channel,
    sentence_index: row.sentence_index,
    start_time: seconds(row.start_ms),
    end_time: seconds(row.end_ms),
    transcript: redacted && row.redacted_text !== null ? row.redacted_text : row.text,
    sid: row.sid,
    confidence: row.confidence.toFixed(3),
    words,
  };
}

export function resultJson(row: ResultRow, base: string) {
  return {
    ...(JSON.parse(row.result) as Record<string, unknown>),
    transcript_sid: row.transcript_sid,
    url: `${base}/v2/Transcripts/${row.transcript_sid}/OperatorResults/${row.operator_sid}`,
  };
}

export function customOperatorJson(row: OperatorRow, base: string, path = 'Operators/Custom') {
  return {
    account_sid: row.account_sid,
    sid: row.sid,
    friendly_name: row.friendly_name,
    description: row.description ?? row.friendly_name,
    author: row.account_sid,
    operator_type: row.operator_type,
    version: row.version,
    availability: 'general-availability',
    config: JSON.parse(row.config) as unknown,
    date_created: iso8601(row.date_created),
    date_updated: iso8601(row.date_updated),
    url: `${base}/v2/${path}/${row.sid}`,
  };
}

export function prebuiltOperatorJson(
  p: PrebuiltOperator,
  base: string,
  path = 'Operators/PreBuilt',
) {
  return {
    account_sid: null,
    sid: p.sid,
    friendly_name: p.friendlyName,
    description: p.description,
    author: 'switchboard',
    operator_type: p.operatorType,
    version: 1,
    availability: 'general-availability',
    config: p.config,
    date_created: iso8601(CATALOGUE_DATE),
    date_updated: iso8601(CATALOGUE_DATE),
    url: `${base}/v2/${path}/${p.sid}`,
  };
}

export function operatorTypeJson(t: OperatorType, base: string) {
  const sid = operatorTypeSid(t);
  return {
    name: t.name,
    sid,
    friendly_name: t.friendlyName,
    description: t.description,
    docs_link: null,
    output_type: t.outputType,
    supported_languages: ['en-US'],
    provider: t.provider,
    availability: t.generative ? 'internal' : 'general-availability',
    configurable: t.configurable,
    config_schema: t.configSchema,
    date_created: iso8601(CATALOGUE_DATE),
    date_updated: iso8601(CATALOGUE_DATE),
    url: `${base}/v2/OperatorTypes/${sid}`,
  };
}
