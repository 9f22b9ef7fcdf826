// The REST routes of Conversational Intelligence v2 (client.intelligence.v2.*): Services,
// Operators (prebuilt and custom), OperatorTypes, operator attachments, Transcripts and their
// Sentences, Media and OperatorResults.
import { readFile, rm, stat } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { Errors, TwilioError, fail, isSid, newSid } from '../core/index.js';
import {
  PAGE_PARAMS,
  listPageV1,
  type ParamSpec,
  type RestReply,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import type { CallRecordings } from '../plugin/index.js';
import { slicePage } from '../store/index.js';
import { queuedTranscript } from './auto.js';
import { parseChannel } from './channel.js';
import { parseSequence, parseStates, searchTranscripts } from './search.js';
import {
  customOperatorJson,
  operatorTypeJson,
  prebuiltOperatorJson,
  resultJson,
  sentenceJson,
  serviceJson,
  transcriptJson,
} from './json.js';
import type { Trainer } from './model/trainer.js';
import {
  OPERATOR_TYPES,
  PREBUILT_OPERATORS,
  operatorType,
  prebuiltOperator,
  type OperatorType,
} from './operators/catalogue.js';
import { examplesOf, modelKey } from './operators/resolve.js';
import type { UtteranceStateConfig } from './operators/run.js';
import { redactedMediaPath, type TranscriptPipeline } from './pipeline.js';
import type { IntelligenceStore } from './store.js';
import type { OperatorRow, ServiceRow } from './tables.js';

export interface RouteDeps {
  readonly store: IntelligenceStore;
  readonly pipeline: TranscriptPipeline;
  readonly trainer: Trainer;
  readonly recordings: CallRecordings | undefined;
  /** Public base URL of the API (the recordings' media URLs). */
  readonly apiUrl: () => string;
  /** Where the pipeline keeps redacted media. */
  readonly mediaDir: string;
  readonly onTrainFailed: (sid: string, err: unknown) => void;
}

const D = 'intelligence' as const;
const LANGUAGES = ['en-US', 'en'];

const SERVICE_PARAMS: readonly ParamSpec[] = [
  { name: 'UniqueName', type: 'string', max: 64 },
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'LanguageCode', type: 'string', max: 16 },
  { name: 'AutoTranscribe', type: 'bool' },
  { name: 'DataLogging', type: 'bool' },
  { name: 'AutoRedaction', type: 'bool' },
  { name: 'MediaRedaction', type: 'bool' },
  { name: 'WebhookUrl', type: 'url' },
  { name: 'WebhookHttpMethod', type: 'enum', values: ['GET', 'POST', 'NULL'] },
  { name: 'EncryptionCredentialSid', type: 'sid', prefix: 'CR' },
];

const bool = (v: boolean | undefined, dflt: boolean) => ((v ?? dflt) ? 1 : 0);

/** One page of a list held in memory (the catalogue), by Page and PageSize. */
function staticPage<T>(req: RestRequest, key: string, items: readonly T[]) {
  const { items: slice, next } = slicePage(items, req.page);
  return listPageV1(req, key, slice, next);
}

/** A list reply whose page URLs keep the request's filters (listPageV1 keeps paging only). */
function keepFilters(reply: RestReply, req: RestRequest): RestReply {
  const body = reply.body as { meta: Record<string, string | null> };
  const filters = req.input.names().filter((n) => !['PageSize', 'Page', 'PageToken'].includes(n));
  if (filters.length === 0) return reply;
  for (const key of ['first_page_url', 'url', 'next_page_url']) {
    const u = body.meta[key];
    if (!u) continue;
    const url = new URL(u);
    for (const n of filters) {
      const v = String(req.input.string(n));
      // Dates were parsed into epoch milliseconds: give them back as ISO 8601.
      const date = /(Date|Time)/.test(n) && /^\d+$/.test(v);
      url.searchParams.set(n, date ? new Date(Number(v)).toISOString() : v);
    }
    body.meta[key] = url.toString();
  }
  return reply;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map(
  OPERATOR_TYPES.filter((t) => t.configSchema).map((t) => [t.name, ajv.compile(t.configSchema!)]),
);

/** The config of a new or updated operator, checked against its type's schema. */
function checkedConfig(type: OperatorType, raw: string | undefined): Record<string, unknown> {
  if (type.generative)
    throw new TwilioError(Errors.generativeOperatorUnavailable, `OperatorType ${type.name}`);
  if (!type.configurable)
    throw new TwilioError(
      Errors.unknownOperatorType,
      `${type.name} is prebuilt and not configurable`,
    );
  let config: unknown;
  try {
    config = JSON.parse(raw ?? '');
  } catch {
    throw new TwilioError(Errors.invalidOperatorConfig, 'Config must be a JSON object');
  }
  const validate = validators.get(type.name)!;
  if (!validate(config)) {
    const e = validate.errors?.[0];
    throw new TwilioError(
      Errors.invalidOperatorConfig,
      `${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}`,
    );
  }
  if (type.name === 'utterance-state') {
    const names = (config as UtteranceStateConfig).states.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup)
      throw new TwilioError(Errors.invalidOperatorConfig, `/states: state "${dup}" is given twice`);
  }
  return config as Record<string, unknown>;
}

export function intelligenceRoutes(d: RouteDeps): RestRoute[] {
  const { store } = d;
  const serviceOf = async (req: RestRequest, sid: string): Promise<ServiceRow> => {
    const row = await store.service(req.account.sid, sid);
    if (!row) fail('notFound', `Service ${sid.slice(0, 64)}`);
    return row;
  };
  const transcriptOf = async (req: RestRequest, sid: string) => {
    const row = await store.transcript(req.account.sid, sid);
    if (!row) fail('notFound', `Transcript ${sid.slice(0, 40)}`);
    return row;
  };
  const customOf = async (req: RestRequest, sid: string): Promise<OperatorRow> => {
    const row = await store.operator(req.account.sid, sid);
    if (!row) fail('notFound', `Operator ${sid.slice(0, 40)}`);
    return row;
  };
  /** Trains a new version ahead of its first transcript. */
  const train = (row: OperatorRow) => {
    if (row.operator_type !== 'utterance-state') return;
    d.trainer
      .classifier(modelKey(row), () => examplesOf(JSON.parse(row.config) as UtteranceStateConfig))
      .catch((err: unknown) => d.onTrainFailed(row.sid, err));
  };
  const allOperators = async (req: RestRequest) => {
    const custom = await store.operators(req.account.sid, { pageSize: 1000, after: undefined });
    return [
      ...PREBUILT_OPERATORS.map((p) => prebuiltOperatorJson(p, req.baseUrl, 'Operators')),
      ...custom.items.map((r) => customOperatorJson(r, req.baseUrl, 'Operators')),
    ];
  };

  return [
    // ------------------------------------------------------------ Services
    {
      method: 'POST',
      domain: D,
      path: '/v2/Services',
      summary: 'Create an Intelligence Service',
      params: SERVICE_PARAMS,
      async handler(req) {
        const i = req.input;
        const uniqueName = i.string('UniqueName');
        if (!uniqueName) fail('missingParameter', 'UniqueName');
        const language = i.string('LanguageCode') ?? 'en-US';
        if (!LANGUAGES.includes(language))
          fail('invalidParameter', `LanguageCode ${language} is not supported (en-US only)`);
        if (await store.service(req.account.sid, uniqueName))
          fail('intelligenceUniqueNameInUse', uniqueName);
        const now = Date.now();
        const method = i.string('WebhookHttpMethod');
        const row: ServiceRow = {
          sid: newSid('GA'),
          account_sid: req.account.sid,
          unique_name: uniqueName,
          friendly_name: i.string('FriendlyName') ?? null,
          language_code: language,
          auto_transcribe: bool(i.bool('AutoTranscribe'), false),
          data_logging: bool(i.bool('DataLogging'), false),
          auto_redaction: bool(i.bool('AutoRedaction'), false),
          media_redaction: bool(i.bool('MediaRedaction'), false),
          webhook_url: i.string('WebhookUrl') ?? null,
          webhook_http_method:
            method && method !== 'NULL' ? method : i.string('WebhookUrl') ? 'POST' : null,
          version: 1,
          date_created: now,
          date_updated: now,
        };
        await store.insertService(row);
        return { status: 201, body: serviceJson(row, [], req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Services',
      summary: 'List Intelligence Services',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const page = await store.services(req.account.sid, req.page);
        const items = [];
        for (const r of page.items)
          items.push(serviceJson(r, await store.attached(r.sid), req.baseUrl));
        return listPageV1(req, 'services', items, page.next);
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Services/:Sid',
      summary: 'Fetch an Intelligence Service (by SID or UniqueName)',
      async handler(req) {
        const row = await serviceOf(req, req.params.Sid ?? '');
        return { status: 200, body: serviceJson(row, await store.attached(row.sid), req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: D,
      path: '/v2/Services/:Sid',
      summary: 'Update an Intelligence Service',
      params: SERVICE_PARAMS,
      async handler(req) {
        const row = await serviceOf(req, req.params.Sid ?? '');
        const i = req.input;
        const changes: Partial<ServiceRow> = { version: row.version + 1, date_updated: Date.now() };
        const uniqueName = i.string('UniqueName');
        if (uniqueName !== undefined && uniqueName !== row.unique_name) {
          if (await store.service(req.account.sid, uniqueName))
            fail('intelligenceUniqueNameInUse', uniqueName);
          changes.unique_name = uniqueName;
        }
        if (i.has('FriendlyName')) changes.friendly_name = i.string('FriendlyName') ?? null;
        if (i.has('AutoTranscribe'))
          changes.auto_transcribe = bool(i.bool('AutoTranscribe'), false);
        if (i.has('DataLogging')) changes.data_logging = bool(i.bool('DataLogging'), false);
        if (i.has('AutoRedaction')) changes.auto_redaction = bool(i.bool('AutoRedaction'), false);
        if (i.has('MediaRedaction'))
          changes.media_redaction = bool(i.bool('MediaRedaction'), false);
        if (i.has('WebhookUrl')) changes.webhook_url = i.string('WebhookUrl') || null;
        if (i.has('WebhookHttpMethod')) {
          const m = i.string('WebhookHttpMethod');
          changes.webhook_http_method = m === 'NULL' ? null : (m ?? null);
        }
        await store.updateService(row.sid, changes);
        const updated = { ...row, ...changes };
        return {
          status: 200,
          body: serviceJson(updated, await store.attached(row.sid), req.baseUrl),
        };
      },
    },
    {
      method: 'DELETE',
      domain: D,
      path: '/v2/Services/:Sid',
      summary: 'Delete an Intelligence Service',
      async handler(req) {
        const row = await serviceOf(req, req.params.Sid ?? '');
        await store.deleteService(row.sid);
        return { status: 204, body: undefined };
      },
    },
    // ------------------------------------------------------------ Operator attachments
    {
      method: 'POST',
      domain: D,
      path: '/v2/Services/:ServiceSid/Operators/:OperatorSid',
      summary: 'Attach an operator to a Service: it runs on every new transcript of the Service',
      async handler(req) {
        const service = await serviceOf(req, req.params.ServiceSid ?? '');
        const operatorSid = req.params.OperatorSid ?? '';
        if (!prebuiltOperator(operatorSid)) await customOf(req, operatorSid);
        await store.attach({
          service_sid: service.sid,
          operator_sid: operatorSid,
          account_sid: req.account.sid,
          date_created: Date.now(),
        });
        return {
          status: 201,
          body: {
            service_sid: service.sid,
            operator_sid: operatorSid,
            url: `${req.baseUrl}/v2/Services/${service.sid}/Operators/${operatorSid}`,
          },
        };
      },
    },
    {
      method: 'DELETE',
      domain: D,
      path: '/v2/Services/:ServiceSid/Operators/:OperatorSid',
      summary: 'Detach an operator from a Service',
      async handler(req) {
        const service = await serviceOf(req, req.params.ServiceSid ?? '');
        await store.detach(service.sid, req.params.OperatorSid ?? '');
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Services/:ServiceSid/Operators',
      summary: 'The operators attached to a Service',
      async handler(req) {
        const service = await serviceOf(req, req.params.ServiceSid ?? '');
        return {
          status: 200,
          body: {
            service_sid: service.sid,
            operator_sids: await store.attached(service.sid),
            url: `${req.baseUrl}/v2/Services/${service.sid}/Operators`,
          },
        };
      },
    },
    // ------------------------------------------------------------ Operator types
    {
      method: 'GET',
      domain: D,
      path: '/v2/OperatorTypes',
      summary:
        'List the operator types (utterance-state, phrase-matching, …) with their config schemas',
      paged: true,
      params: [...PAGE_PARAMS, { name: 'LanguageCode', type: 'string', max: 16 }],
      handler(req) {
        return staticPage(
          req,
          'operator_types',
          OPERATOR_TYPES.map((t) => operatorTypeJson(t, req.baseUrl)),
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/OperatorTypes/:Sid',
      summary: 'Fetch an operator type (by SID or name)',
      handler(req) {
        const t = operatorType(req.params.Sid ?? '');
        if (!t) fail('notFound', `OperatorType ${(req.params.Sid ?? '').slice(0, 40)}`);
        return { status: 200, body: operatorTypeJson(t, req.baseUrl) };
      },
    },
    // ------------------------------------------------------------ Operators
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators/PreBuilt',
      summary: 'List the prebuilt operators',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Availability', type: 'string', max: 32 },
        { name: 'LanguageCode', type: 'string', max: 16 },
      ],
      handler(req) {
        return staticPage(
          req,
          'operators',
          PREBUILT_OPERATORS.map((p) => prebuiltOperatorJson(p, req.baseUrl)),
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators/PreBuilt/:Sid',
      summary: 'Fetch a prebuilt operator',
      handler(req) {
        const p = prebuiltOperator(req.params.Sid ?? '');
        if (!p) fail('notFound', `Operator ${(req.params.Sid ?? '').slice(0, 40)}`);
        return { status: 200, body: prebuiltOperatorJson(p, req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: D,
      path: '/v2/Operators/Custom',
      summary: "Create a custom operator (utterance-state: trained from the config's examples)",
      params: [
        { name: 'FriendlyName', type: 'string', required: true, max: 64 },
        { name: 'OperatorType', type: 'string', required: true, max: 64 },
        { name: 'Config', type: 'string', required: true, max: 4_000_000 },
      ],
      async handler(req) {
        const typeName = req.input.string('OperatorType') ?? '';
        const type = operatorType(typeName);
        if (!type) fail('unknownOperatorType', `${typeName.slice(0, 64)} (see /v2/OperatorTypes)`);
        const config = checkedConfig(type, req.input.string('Config'));
        const now = Date.now();
        const row: OperatorRow = {
          sid: newSid('LY'),
          account_sid: req.account.sid,
          friendly_name: req.input.string('FriendlyName') ?? '',
          description: null,
          operator_type: type.name,
          config: JSON.stringify(config),
          version: 1,
          model: null,
          model_version: null,
          date_created: now,
          date_updated: now,
        };
        await store.insertOperator(row);
        train(row);
        return { status: 202, body: customOperatorJson(row, req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators/Custom',
      summary: 'List the custom operators',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Availability', type: 'string', max: 32 },
        { name: 'LanguageCode', type: 'string', max: 16 },
      ],
      async handler(req) {
        const page = await store.operators(req.account.sid, req.page);
        return listPageV1(
          req,
          'operators',
          page.items.map((r) => customOperatorJson(r, req.baseUrl)),
          page.next,
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators/Custom/:Sid',
      summary: 'Fetch a custom operator',
      async handler(req) {
        return {
          status: 200,
          body: customOperatorJson(await customOf(req, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    },
    {
      method: 'POST',
      domain: D,
      path: '/v2/Operators/Custom/:Sid',
      summary: 'Update a custom operator (a new version, retrained)',
      params: [
        { name: 'FriendlyName', type: 'string', required: true, max: 64 },
        { name: 'Config', type: 'string', required: true, max: 4_000_000 },
      ],
      async handler(req) {
        const row = await customOf(req, req.params.Sid ?? '');
        const type = operatorType(row.operator_type);
        if (!type) fail('unknownOperatorType', row.operator_type);
        const config = checkedConfig(type, req.input.string('Config'));
        const changes = {
          friendly_name: req.input.string('FriendlyName') ?? row.friendly_name,
          config: JSON.stringify(config),
          version: row.version + 1,
          date_updated: Date.now(),
        };
        if (!(await store.updateOperator(row.sid, row.version, changes)))
          fail('operatorVersionMismatch', `Operator ${row.sid} was updated meanwhile`);
        const updated = { ...row, ...changes };
        train(updated);
        return { status: 200, body: customOperatorJson(updated, req.baseUrl) };
      },
    },
    {
      method: 'DELETE',
      domain: D,
      path: '/v2/Operators/Custom/:Sid',
      summary: 'Delete a custom operator (detaching it from every Service)',
      async handler(req) {
        const row = await customOf(req, req.params.Sid ?? '');
        if (await store.attachedAnywhere(row.sid))
          fail('operatorInUse', `Operator ${row.sid}: detach it first`);
        await store.deleteOperator(row.sid);
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators',
      summary: 'List every operator: prebuilt and custom',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Availability', type: 'string', max: 32 },
        { name: 'LanguageCode', type: 'string', max: 16 },
      ],
      async handler(req) {
        return staticPage(req, 'operators', await allOperators(req));
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Operators/:Sid',
      summary: 'Fetch an operator, prebuilt or custom',
      async handler(req) {
        const sid = req.params.Sid ?? '';
        const p = prebuiltOperator(sid);
        if (p) return { status: 200, body: prebuiltOperatorJson(p, req.baseUrl, 'Operators') };
        return {
          status: 200,
          body: customOperatorJson(await customOf(req, sid), req.baseUrl, 'Operators'),
        };
      },
    },
    // ------------------------------------------------------------ Search (extension)
    {
      method: 'GET',
      domain: D,
      path: '/v2/Search/Transcripts',
      summary:
        'Switchboard extension: transcripts by text (full-text) and by what an operator found — States present (a|b), AbsentStates, a value of ValueState (ValueEquals, ValueMin, ValueMax, ValueIn, ValueNotIn; a|b), and Sequence (a>b: a then b; a>!b: a and never b after it)',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Text', type: 'string', max: 500 },
        { name: 'ServiceSid', type: 'sid', prefix: 'GA' },
        { name: 'OperatorSid', type: 'sid', prefix: 'LY' },
        { name: 'States', type: 'string', max: 1000 },
        { name: 'AbsentStates', type: 'string', max: 1000 },
        { name: 'Sequence', type: 'string', max: 1000 },
        { name: 'ValueState', type: 'string', max: 64 },
        { name: 'ValueEquals', type: 'string', max: 200 },
        { name: 'ValueMin', type: 'number' },
        { name: 'ValueMax', type: 'number' },
        { name: 'ValueIn', type: 'string', max: 2000 },
        { name: 'ValueNotIn', type: 'string', max: 2000 },
      ],
      async handler(req) {
        const i = req.input;
        const valueState = i.string('ValueState');
        const valueGiven = ['ValueEquals', 'ValueMin', 'ValueMax', 'ValueIn', 'ValueNotIn'].some(
          (n) => i.has(n),
        );
        if (valueGiven && !valueState) fail('missingParameter', 'ValueState');
        const list = (n: string) => (i.has(n) ? parseStates(i.string(n)) : undefined);
        const sids = await searchTranscripts(store.db, store.store.dialect, {
          accountSid: req.account.sid,
          text: i.string('Text'),
          operatorSid: i.string('OperatorSid'),
          present: parseStates(i.string('States')),
          absent: parseStates(i.string('AbsentStates')),
          sequence: parseSequence(i.string('Sequence')),
          value: valueState
            ? {
                state: valueState,
                equals: i.string('ValueEquals'),
                min: i.number('ValueMin'),
                max: i.number('ValueMax'),
                in: list('ValueIn'),
                notIn: list('ValueNotIn'),
              }
            : undefined,
        });
        const page = await store.transcripts(
          req.account.sid,
          { sids, serviceSid: i.string('ServiceSid') },
          req.page,
        );
        return keepFilters(
          listPageV1(
            req,
            'transcripts',
            page.items.map((r) => transcriptJson(r, req.baseUrl)),
            page.next,
          ),
          req,
        );
      },
    },
    // ------------------------------------------------------------ Transcripts
    {
      method: 'POST',
      domain: D,
      path: '/v2/Transcripts',
      summary:
        'Create a transcript from a recording (source_sid), a media URL (media_url) or a text transcript (Switchboard: media_properties.transcript)',
      params: [
        { name: 'ServiceSid', type: 'string', required: true, max: 64 },
        { name: 'Channel', type: 'string', required: true, max: 4_000_000 },
        { name: 'CustomerKey', type: 'string', max: 64 },
        { name: 'MediaStartTime', type: 'date' },
      ],
      async handler(req) {
        const service = await serviceOf(req, req.input.string('ServiceSid') ?? '');
        const { channel, source } = parseChannel(req.input.string('Channel') ?? '');
        let mediaStart = req.input.date('MediaStartTime') ?? null;
        if (source.kind === 'recording') {
          const rec = await d.recordings?.find(req.account.sid, source.recordingSid);
          if (!rec) fail('notFound', `Recording ${source.recordingSid}`);
          if (rec.status === 'in-progress' || rec.status === 'paused')
            fail('recordingNotReady', `Recording ${rec.sid} is ${rec.status}`);
          if (rec.status !== 'completed')
            fail('recordingNotReady', `Recording ${rec.sid} is ${rec.status}: it holds no audio`);
          mediaStart ??= rec.dateCreated;
        }
        const row = queuedTranscript(service, channel, {
          customer_key: req.input.string('CustomerKey') ?? null,
          media_start_time: mediaStart,
          source_sid: source.kind === 'recording' ? source.recordingSid : null,
          media_url: source.kind === 'media' ? source.url : null,
        });
        await store.insertTranscript(row);
        d.pipeline.submit(row.sid);
        req.tag('intelligence:transcript');
        return { status: 202, body: transcriptJson(row, req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts',
      summary: 'List transcripts, newest first',
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'ServiceSid', type: 'string', max: 64 },
        { name: 'BeforeStartTime', type: 'date' },
        { name: 'AfterStartTime', type: 'date' },
        { name: 'BeforeDateCreated', type: 'date' },
        { name: 'AfterDateCreated', type: 'date' },
        {
          name: 'Status',
          type: 'enum',
          values: ['queued', 'in-progress', 'completed', 'failed', 'new', 'canceled', 'error'],
        },
        { name: 'LanguageCode', type: 'string', max: 16 },
        { name: 'SourceSid', type: 'string', max: 34 },
      ],
      async handler(req) {
        const i = req.input;
        const page = await store.transcripts(
          req.account.sid,
          {
            serviceSid: i.string('ServiceSid'),
            status: i.string('Status'),
            sourceSid: i.string('SourceSid'),
            languageCode: i.string('LanguageCode'),
            createdBefore: i.date('BeforeDateCreated'),
            createdAfter: i.date('AfterDateCreated'),
            startBefore: i.date('BeforeStartTime'),
            startAfter: i.date('AfterStartTime'),
          },
          req.page,
        );
        return keepFilters(
          listPageV1(
            req,
            'transcripts',
            page.items.map((r) => transcriptJson(r, req.baseUrl)),
            page.next,
          ),
          req,
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:Sid',
      summary: 'Fetch a transcript',
      async handler(req) {
        return {
          status: 200,
          body: transcriptJson(await transcriptOf(req, req.params.Sid ?? ''), req.baseUrl),
        };
      },
    },
    {
      method: 'DELETE',
      domain: D,
      path: '/v2/Transcripts/:Sid',
      summary: 'Delete a transcript, its sentences and its operator results',
      async handler(req) {
        const row = await transcriptOf(req, req.params.Sid ?? '');
        await store.deleteTranscript(row.sid);
        await rm(redactedMediaPath(d.mediaDir, row.sid), { force: true });
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:Sid/Media.wav',
      summary:
        "A transcript's redacted audio (Switchboard): the media with the words PII redaction took out silenced on the speaker's channel (16-bit WAV)",
      async handler(req) {
        const row = await transcriptOf(req, req.params.Sid ?? '');
        const path = redactedMediaPath(d.mediaDir, row.sid);
        if (!(await exists(path))) fail('notFound', `redacted media of transcript ${row.sid}`);
        return { status: 200, body: await readFile(path), contentType: 'audio/x-wav' };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:Sid/Media',
      summary: "A transcript's media",
      params: [{ name: 'Redacted', type: 'bool' }],
      async handler(req) {
        const row = await transcriptOf(req, req.params.Sid ?? '');
        // Redacted by default when the Service redacts media (Twilio's `Redacted`).
        const redacted =
          req.input.bool('Redacted') !== false &&
          (await exists(redactedMediaPath(d.mediaDir, row.sid)));
        const media = redacted
          ? `${req.baseUrl}/v2/Transcripts/${row.sid}/Media.wav`
          : row.source_sid
            ? `${d.apiUrl()}/2010-04-01/Accounts/${row.account_sid}/Recordings/${row.source_sid}.wav`
            : row.media_url;
        return {
          status: 200,
          body: {
            account_sid: row.account_sid,
            media_url: media,
            service_sid: row.service_sid,
            sid: row.sid,
            url: `${req.baseUrl}/v2/Transcripts/${row.sid}/Media`,
          },
        };
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:TranscriptSid/Sentences',
      summary:
        "A transcript's sentences in speaking order (redacted by default when the Service redacts)",
      paged: true,
      params: [
        ...PAGE_PARAMS,
        { name: 'Redacted', type: 'bool' },
        { name: 'WordTimestamps', type: 'bool' },
      ],
      async handler(req) {
        const t = await transcriptOf(req, req.params.TranscriptSid ?? '');
        const { items, next } = await store.sentences(t.sid, req.page);
        const redacted = req.input.bool('Redacted') ?? true;
        const words = req.input.bool('WordTimestamps') ?? false;
        return listPageV1(
          req,
          'sentences',
          items.map((r) => sentenceJson(r, redacted, words)),
          next,
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:TranscriptSid/OperatorResults',
      summary: 'The results of the operators run on a transcript',
      paged: true,
      params: [...PAGE_PARAMS, { name: 'Redacted', type: 'bool' }],
      async handler(req) {
        const t = await transcriptOf(req, req.params.TranscriptSid ?? '');
        const rows = await store.results(t.sid);
        return staticPage(
          req,
          'operator_results',
          rows.map((r) => resultJson(r, req.baseUrl)),
        );
      },
    },
    {
      method: 'GET',
      domain: D,
      path: '/v2/Transcripts/:TranscriptSid/OperatorResults/:OperatorSid',
      summary: "One operator's result on a transcript",
      params: [{ name: 'Redacted', type: 'bool' }],
      async handler(req) {
        const t = await transcriptOf(req, req.params.TranscriptSid ?? '');
        const sid = req.params.OperatorSid ?? '';
        if (!isSid(sid, 'LY')) fail('notFound', `OperatorResult ${sid.slice(0, 40)}`);
        const row = await store.result(t.sid, sid);
        if (!row) fail('notFound', `OperatorResult ${sid}`);
        return { status: 200, body: resultJson(row, req.baseUrl) };
      },
    },
  ];
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
