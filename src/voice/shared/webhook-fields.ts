// The webhook fields Applications and IncomingPhoneNumbers share (Twilio gives both the same
// voice and messaging URLs): their columns, their form parameters, how a request sets them,
// and how the JSON shows them. One definition, so the two resources cannot drift apart.
import type { CreateTableBuilder } from 'kysely';
import { Errors, TwilioError, isSid } from '../../core/index.js';
import type { Input, ParamSpec } from '../../core/rest.js';

export type HttpMethod = 'GET' | 'POST';
export const METHODS = ['GET', 'POST'] as const;

/** What a call to the resource runs: its voice webhook, fallback and status callback. */
export interface VoiceWebhookFields {
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  /** 0/1: SQLite has no boolean type. */
  voice_caller_id_lookup: number;
  status_callback: string | null;
  status_callback_method: HttpMethod;
}

/** What a message to the resource runs: its messaging webhook and fallback. */
export interface SmsWebhookFields {
  sms_url: string | null;
  sms_method: HttpMethod;
  sms_fallback_url: string | null;
  sms_fallback_method: HttpMethod;
}

export function addVoiceWebhookColumns<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
): CreateTableBuilder<T, C> {
  return table
    .addColumn('voice_url', 'text')
    .addColumn('voice_method', 'varchar(8)', (c) => c.notNull())
    .addColumn('voice_fallback_url', 'text')
    .addColumn('voice_fallback_method', 'varchar(8)', (c) => c.notNull())
    .addColumn('voice_caller_id_lookup', 'integer', (c) => c.notNull())
    .addColumn('status_callback', 'text')
    .addColumn('status_callback_method', 'varchar(8)', (c) => c.notNull());
}

export function addSmsWebhookColumns<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
): CreateTableBuilder<T, C> {
  return table
    .addColumn('sms_url', 'text')
    .addColumn('sms_method', 'varchar(8)', (c) => c.notNull())
    .addColumn('sms_fallback_url', 'text')
    .addColumn('sms_fallback_method', 'varchar(8)', (c) => c.notNull());
}

export const VOICE_WEBHOOK_PARAMS: readonly ParamSpec[] = [
  { name: 'VoiceUrl', type: 'string', max: 2048 },
  { name: 'VoiceMethod', type: 'enum', values: METHODS },
  { name: 'VoiceFallbackUrl', type: 'string', max: 2048 },
  { name: 'VoiceFallbackMethod', type: 'enum', values: METHODS },
  { name: 'VoiceCallerIdLookup', type: 'bool' },
  { name: 'StatusCallback', type: 'string', max: 2048 },
  { name: 'StatusCallbackMethod', type: 'enum', values: METHODS },
];

export const SMS_WEBHOOK_PARAMS: readonly ParamSpec[] = [
  { name: 'SmsUrl', type: 'string', max: 2048 },
  { name: 'SmsMethod', type: 'enum', values: METHODS },
  { name: 'SmsFallbackUrl', type: 'string', max: 2048 },
  { name: 'SmsFallbackMethod', type: 'enum', values: METHODS },
];

type Given<T> = { [K in keyof T]?: T[K] | undefined };

const methodOf = (input: Input, name: string) => input.string(name) as HttpMethod | undefined;

/** The voice webhook fields a create/update request sets (undefined: left as they are). */
export function readVoiceWebhook(input: Input): Given<VoiceWebhookFields> {
  const lookup = input.bool('VoiceCallerIdLookup');
  return {
    voice_url: optionalUrl(input, 'VoiceUrl'),
    voice_method: methodOf(input, 'VoiceMethod'),
    voice_fallback_url: optionalUrl(input, 'VoiceFallbackUrl'),
    voice_fallback_method: methodOf(input, 'VoiceFallbackMethod'),
    voice_caller_id_lookup: lookup === undefined ? undefined : lookup ? 1 : 0,
    status_callback: optionalUrl(input, 'StatusCallback'),
    status_callback_method: methodOf(input, 'StatusCallbackMethod'),
  };
}

export function readSmsWebhook(input: Input): Given<SmsWebhookFields> {
  return {
    sms_url: optionalUrl(input, 'SmsUrl'),
    sms_method: methodOf(input, 'SmsMethod'),
    sms_fallback_url: optionalUrl(input, 'SmsFallbackUrl'),
    sms_fallback_method: methodOf(input, 'SmsFallbackMethod'),
  };
}

/** Twilio's defaults for the fields a create request left out. */
export function voiceWebhookDefaults(given: Given<VoiceWebhookFields>): VoiceWebhookFields {
  return {
    voice_url: given.voice_url ?? null,
    voice_method: given.voice_method ?? 'POST',
    voice_fallback_url: given.voice_fallback_url ?? null,
    voice_fallback_method: given.voice_fallback_method ?? 'POST',
    voice_caller_id_lookup: given.voice_caller_id_lookup ?? 0,
    status_callback: given.status_callback ?? null,
    status_callback_method: given.status_callback_method ?? 'POST',
  };
}

export function smsWebhookDefaults(given: Given<SmsWebhookFields>): SmsWebhookFields {
  return {
    sms_url: given.sms_url ?? null,
    sms_method: given.sms_method ?? 'POST',
    sms_fallback_url: given.sms_fallback_url ?? null,
    sms_fallback_method: given.sms_fallback_method ?? 'POST',
  };
}

export function voiceWebhookJson(row: VoiceWebhookFields): Record<string, unknown> {
  return {
    status_callback: row.status_callback,
    status_callback_method: row.status_callback_method,
    voice_caller_id_lookup: row.voice_caller_id_lookup === 1,
    voice_fallback_method: row.voice_fallback_method,
    voice_fallback_url: row.voice_fallback_url,
    voice_method: row.voice_method,
    voice_url: row.voice_url,
  };
}

export function smsWebhookJson(row: SmsWebhookFields): Record<string, unknown> {
  return {
    sms_fallback_method: row.sms_fallback_method,
    sms_fallback_url: row.sms_fallback_url,
    sms_method: row.sms_method,
    sms_url: row.sms_url,
  };
}

// Twilio lets a client clear a URL or a SID by sending an empty value, which the generic
// validators refuse: these read such parameters.

/** undefined: not given; null: given empty (clear); otherwise a valid http(s) URL. */
export function optionalUrl(input: Input, name: string): string | null | undefined {
  const raw = input.string(name);
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return null;
  let ok: boolean;
  try {
    const u = new URL(raw);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok)
    throw new TwilioError(Errors.invalidParameter, `${name} must be an absolute http(s) URL`);
  return raw;
}

/** undefined: not given; null: given empty (clear); otherwise an AP SID. */
export function optionalApplicationSid(input: Input, name: string): string | null | undefined {
  const raw = input.string(name);
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return null;
  if (!isSid(raw, 'AP'))
    throw new TwilioError(Errors.applicationNotAccessible, `${name} ${raw.slice(0, 40)}`);
  return raw;
}
