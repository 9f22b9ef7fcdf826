// REST routes of the messaging capability: Messages (2010-04-01), messaging Services (v1) and
// the Providers extension resource (v1, the platform operator only).
import { fail, iso8601, rfc2822 } from '../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  listPageV1,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import { mediaJson } from './media.js';
import type { Messaging } from './messaging.js';
import type { ProviderInput } from './providers.js';
import type { RouteEvent } from './route-log.js';
import type { ServiceInput } from './services.js';
import type { RouteWeights } from './router.js';
import type { MessageRow, ProviderRow, ServiceRow } from './tables.js';
import { TAGS_PARAM } from '../core/tags.js';

const MESSAGES = '/2010-04-01/Accounts/:AccountSid/Messages';
const PRICED = new Set(['sent', 'delivered', 'undelivered']);

export function messageJson(row: MessageRow): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${row.account_sid}/Messages/${row.sid}.json`;
  return {
    account_sid: row.account_sid,
    api_version: '2010-04-01',
    body: row.body,
    date_created: rfc2822(row.date_created),
    date_sent: rfc2822(row.date_sent),
    date_updated: rfc2822(row.date_updated),
    direction: row.direction,
    error_code: row.error_code,
    error_message: row.error_message,
    from: row.from_addr,
    messaging_service_sid: row.messaging_service_sid,
    num_media: String(row.num_media),
    num_segments: String(row.num_segments),
    price: PRICED.has(row.status) && row.price !== null ? row.price.toFixed(5) : null,
    price_unit: row.price_unit,
    sid: row.sid,
    status: row.status,
    subresource_uris: {
      media: uri.replace(/\.json$/, '/Media.json'),
      feedback: uri.replace(/\.json$/, '/Feedback.json'),
    },
    to: row.to_addr,
    uri,
    // Switchboard extension: the provider chosen and why, and what happened since.
    provider_sid: row.provider_sid,
    encoding: row.encoding,
    routing: JSON.parse(row.route) as RouteEvent[],
  };
}

function serviceJson(row: ServiceRow, baseUrl: string): Record<string, unknown> {
  const url = `${baseUrl}/v1/Services/${row.sid}`;
  return {
    account_sid: row.account_sid,
    sid: row.sid,
    friendly_name: row.friendly_name,
    date_created: iso8601(row.date_created),
    date_updated: iso8601(row.date_updated),
    inbound_request_url: row.inbound_request_url,
    inbound_method: row.inbound_method,
    fallback_url: row.fallback_url,
    fallback_method: row.fallback_method,
    status_callback: row.status_callback,
    sticky_sender: row.sticky_sender === 1,
    mms_converter: false,
    smart_encoding: false,
    scan_message_content: 'inherit',
    fallback_to_long_code: false,
    area_code_geomatch: false,
    validity_period: row.validity_period,
    synchronous_validation: false,
    usecase: 'undeclared',
    us_app_to_person_registered: false,
    use_inbound_webhook_on_number: row.use_inbound_webhook_on_number === 1,
    url,
    links: { phone_numbers: `${url}/PhoneNumbers` },
    // Switchboard extension: the sender pool.
    senders: JSON.parse(row.senders) as string[],
    sender_throughput: row.sender_throughput,
  };
}

function providerJson(
  row: ProviderRow,
  figures: Record<string, unknown>,
  baseUrl: string,
): Record<string, unknown> {
  const settings = JSON.parse(row.settings) as Record<string, unknown>;
  if ('password' in settings) settings.password = '********';
  if ('secret' in settings) settings.secret = '********';
  return {
    sid: row.sid,
    name: row.name,
    kind: row.kind,
    settings,
    prices: JSON.parse(row.prices) as Record<string, number>,
    price_unit: row.price_unit,
    throughput: row.throughput,
    priority: row.priority,
    enabled: row.enabled === 1,
    max_wait_ms: row.max_wait_ms,
    max_queue: row.max_queue,
    sender_throughput: row.sender_throughput,
    date_created: iso8601(row.date_created),
    date_updated: iso8601(row.date_updated),
    live: figures,
    url: `${baseUrl}/v1/Providers/${row.sid}`,
    // Where an HTTP carrier posts delivery reports and inbound messages (docs/messaging.md).
    callback_url: row.kind === 'http' ? `${baseUrl}/v1/Providers/${row.sid}/Callbacks` : null,
  };
}

function json<T>(name: string, raw: string | undefined): T | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fail('invalidParameter', `${name} must be JSON`);
  }
}

const SERVICE_PARAMS: ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'InboundRequestUrl', type: 'url' },
  { name: 'InboundMethod', type: 'enum', values: ['POST', 'GET'] },
  { name: 'FallbackUrl', type: 'url' },
  { name: 'FallbackMethod', type: 'enum', values: ['POST', 'GET'] },
  { name: 'UseInboundWebhookOnNumber', type: 'bool' },
  { name: 'StatusCallback', type: 'url' },
  { name: 'StickySender', type: 'bool' },
  { name: 'ValidityPeriod', type: 'int', min: 1, max: 36000 },
  { name: 'Senders', type: 'list', description: 'Switchboard extension: sender numbers' },
  {
    name: 'SenderThroughput',
    type: 'number',
    min: 0,
    max: 10000,
    description: 'Switchboard extension: segments/s allowed to each sender of the pool (0: no cap)',
  },
  // Accepted for compatibility, not acted on.
  { name: 'SmartEncoding', type: 'bool' },
  { name: 'MmsConverter', type: 'bool' },
  { name: 'AreaCodeGeomatch', type: 'bool' },
  { name: 'FallbackToLongCode', type: 'bool' },
  { name: 'ScanMessageContent', type: 'string' },
  { name: 'SynchronousValidation', type: 'bool' },
  { name: 'Usecase', type: 'string' },
];

function serviceInput(req: RestRequest): ServiceInput {
  const i = req.input;
  return {
    friendlyName: i.string('FriendlyName'),
    inboundRequestUrl: i.string('InboundRequestUrl'),
    inboundMethod: i.string('InboundMethod'),
    fallbackUrl: i.string('FallbackUrl'),
    fallbackMethod: i.string('FallbackMethod'),
    useInboundWebhookOnNumber: i.bool('UseInboundWebhookOnNumber'),
    statusCallback: i.string('StatusCallback'),
    stickySender: i.bool('StickySender'),
    validityPeriod: i.int('ValidityPeriod'),
    senders: i.list('Senders'),
    senderThroughput: i.number('SenderThroughput'),
  };
}

const WEIGHT_PARAMS: readonly (readonly [string, keyof RouteWeights])[] = [
  ['PriceWeight', 'price'],
  ['QueueWeight', 'queue'],
  ['DeliveryWeight', 'delivery'],
  ['LatencyWeight', 'latency'],
  ['HealthWeight', 'health'],
  ['PriorityWeight', 'priority'],
];

const PROVIDER_PARAMS: ParamSpec[] = [
  { name: 'Name', type: 'string', max: 64 },
  { name: 'Kind', type: 'enum', values: ['smpp', 'http'] },
  { name: 'Settings', type: 'string', max: 4096, description: 'JSON connection settings' },
  { name: 'Prices', type: 'string', max: 65536, description: 'JSON {"<prefix>": price}' },
  { name: 'PriceUnit', type: 'string', max: 3 },
  { name: 'Throughput', type: 'int', min: 1, max: 100000 },
  { name: 'Priority', type: 'int', min: 0, max: 1000 },
  { name: 'Enabled', type: 'bool' },
  { name: 'MaxWaitMs', type: 'int', min: 100, max: 36_000_000 },
  { name: 'MaxQueue', type: 'int', min: 1 },
  {
    name: 'SenderThroughput',
    type: 'number',
    min: 0,
    max: 10000,
    description: 'Segments/s allowed to each sender number through this provider (0: no cap)',
  },
];

function providerInput(req: RestRequest): ProviderInput {
  const i = req.input;
  return {
    name: i.string('Name'),
    kind: i.string('Kind') as 'smpp' | 'http' | undefined,
    settings: json<Record<string, unknown>>('Settings', i.string('Settings')),
    prices: json<Record<string, number>>('Prices', i.string('Prices')),
    priceUnit: i.string('PriceUnit'),
    throughput: i.int('Throughput'),
    priority: i.int('Priority'),
    enabled: i.bool('Enabled'),
    maxWaitMs: i.int('MaxWaitMs'),
    maxQueue: i.int('MaxQueue'),
    senderThroughput: i.number('SenderThroughput'),
  };
}

export function messagingRoutes(m: Messaging): RestRoute[] {
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${MESSAGES}.json`,
      summary: 'Send a message',
      params: [
        TAGS_PARAM,
        { name: 'To', type: 'string', max: 64 },
        { name: 'From', type: 'string', max: 64 },
        { name: 'MessagingServiceSid', type: 'sid', prefix: 'MG' },
        { name: 'Body', type: 'string', max: 1600 },
        { name: 'StatusCallback', type: 'url' },
        { name: 'ValidityPeriod', type: 'int' },
        { name: 'ScheduleType', type: 'string' },
        { name: 'SendAt', type: 'string' },
        { name: 'MediaUrl', type: 'list' },
        // Accepted for compatibility, not acted on.
        { name: 'ApplicationSid', type: 'string' },
        { name: 'MaxPrice', type: 'number' },
        { name: 'ProvideFeedback', type: 'bool' },
        { name: 'Attempt', type: 'int' },
        { name: 'ForceDelivery', type: 'bool' },
        { name: 'ContentRetention', type: 'string' },
        { name: 'AddressRetention', type: 'string' },
        { name: 'SmartEncoded', type: 'bool' },
        { name: 'ShortenUrls', type: 'bool' },
        { name: 'PersistentAction', type: 'list' },
      ],
      async handler(req) {
        const i = req.input;
        const to = i.string('To');
        if (!to) fail('toRequired');
        const validity = i.int('ValidityPeriod');
        if (validity !== undefined && (validity < 1 || validity > 36000)) {
          fail('invalidValidityPeriod');
        }
        const row = await m.send(req.account.sid, {
          to,
          from: i.string('From'),
          messagingServiceSid: i.string('MessagingServiceSid'),
          body: i.string('Body') ?? '',
          statusCallback: i.string('StatusCallback'),
          validityPeriod: validity,
          mediaUrls: i.list('MediaUrl'),
          scheduleType: i.string('ScheduleType'),
          sendAt: i.string('SendAt'),
        });
        req.tag('message');
        return { status: 201, body: messageJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${MESSAGES}.json`,
      summary: 'List messages, newest first',
      paged: true,
      params: [
        { name: 'To', type: 'string', max: 64 },
        { name: 'From', type: 'string', max: 64 },
        { name: 'DateSent', type: 'date' },
        { name: 'DateSent<', type: 'date' },
        { name: 'DateSent>', type: 'date' },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        const i = req.input;
        const p = await m.listMessages(
          req.account.sid,
          {
            to: i.string('To'),
            from: i.string('From'),
            sentOn: i.date('DateSent'),
            sentBefore: i.date('DateSent<'),
            sentAfter: i.date('DateSent>'),
          },
          req.page,
        );
        return listPage2010(req, 'messages', p.items.map(messageJson), p.next, {
          To: i.string('To'),
          From: i.string('From'),
        });
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${MESSAGES}/:Sid.json`,
      summary: 'Fetch a message',
      async handler(req) {
        return {
          status: 200,
          body: messageJson(await m.message(req.account.sid, req.params.Sid ?? '')),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${MESSAGES}/:Sid.json`,
      summary: 'Redact a message (Body="") or cancel a scheduled one (Status=canceled)',
      params: [
        { name: 'Body', type: 'string', max: 1600 },
        { name: 'Status', type: 'enum', values: ['canceled'] },
      ],
      async handler(req) {
        if (req.input.has('Status')) {
          if (req.input.has('Body')) fail('invalidParameter', 'Body and Status cannot be combined');
          return {
            status: 200,
            body: messageJson(await m.cancel(req.account.sid, req.params.Sid ?? '')),
          };
        }
        if (req.input.string('Body') !== '') fail('invalidParameter', 'Body can only be set to ""');
        return {
          status: 200,
          body: messageJson(await m.redact(req.account.sid, req.params.Sid ?? '')),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${MESSAGES}/:Sid.json`,
      summary: 'Delete a message',
      async handler(req) {
        await m.deleteMessage(req.account.sid, req.params.Sid ?? '');
        return { status: 204, body: null };
      },
    },
    // ------------------------------------------------------------ Media (MMS)
    {
      method: 'GET',
      domain: 'api',
      path: `${MESSAGES}/:MessageSid/Media.json`,
      summary: 'List the media of a message (MMS)',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const p = await m.listMedia(req.account.sid, req.params.MessageSid ?? '', req.page);
        return listPage2010(req, 'media_list', p.items.map(mediaJson), p.next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${MESSAGES}/:MessageSid/Media/:Sid.json`,
      summary: 'Fetch one media file of a message',
      async handler(req) {
        const row = await m.media(
          req.account.sid,
          req.params.MessageSid ?? '',
          req.params.Sid ?? '',
        );
        return { status: 200, body: mediaJson(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${MESSAGES}/:MessageSid/Media/:Sid.json`,
      summary: 'Delete one media file of a message',
      async handler(req) {
        await m.deleteMedia(req.account.sid, req.params.MessageSid ?? '', req.params.Sid ?? '');
        return { status: 204, body: null };
      },
    },
    // ------------------------------------------------------------ Services (messaging v1)
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Services',
      summary: 'Create a messaging service',
      params: SERVICE_PARAMS,
      async handler(req) {
        if (!req.input.string('FriendlyName')) fail('missingParameter', 'FriendlyName');
        const row = await m.createService(req.account.sid, serviceInput(req));
        return { status: 201, body: serviceJson(row, req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: 'messaging',
      path: '/v1/Services',
      summary: 'List messaging services',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const p = await m.listServices(req.account.sid, req.page);
        return listPageV1(
          req,
          'services',
          p.items.map((r) => serviceJson(r, req.baseUrl)),
          p.next,
        );
      },
    },
    {
      method: 'GET',
      domain: 'messaging',
      path: '/v1/Services/:Sid',
      summary: 'Fetch a messaging service',
      async handler(req) {
        const row = await m.service(req.account.sid, req.params.Sid ?? '');
        return { status: 200, body: serviceJson(row, req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Services/:Sid',
      summary: 'Update a messaging service',
      params: SERVICE_PARAMS,
      async handler(req) {
        const row = await m.updateService(req.account.sid, req.params.Sid ?? '', serviceInput(req));
        return { status: 200, body: serviceJson(row, req.baseUrl) };
      },
    },
    {
      method: 'DELETE',
      domain: 'messaging',
      path: '/v1/Services/:Sid',
      summary: 'Delete a messaging service',
      async handler(req) {
        await m.deleteService(req.account.sid, req.params.Sid ?? '');
        return { status: 204, body: null };
      },
    },
    // ------------------------------------------------------------ Routing weights (extension)
    {
      method: 'GET',
      domain: 'messaging',
      path: '/v1/Routing',
      operator: true,
      summary: 'Routing weights in force (Switchboard extension, operator only)',
      async handler(req) {
        return {
          status: 200,
          body: { weights: m.routingWeights(), url: `${req.baseUrl}/v1/Routing` },
        };
      },
    },
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Routing',
      operator: true,
      summary: 'Set routing weights (Switchboard extension, operator only)',
      params: WEIGHT_PARAMS.map(([name]) => ({ name, type: 'number', min: 0, max: 100 })),
      async handler(req) {
        const update: Partial<Record<keyof RouteWeights, number>> = {};
        for (const [name, key] of WEIGHT_PARAMS) {
          const v = req.input.number(name);
          if (v !== undefined) update[key] = v;
        }
        const weights = await m.setRoutingWeights(update);
        return { status: 200, body: { weights, url: `${req.baseUrl}/v1/Routing` } };
      },
    },
    // ------------------------------------------------------------ Providers (extension)
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Providers',
      operator: true,
      summary: 'Create a carrier provider (Switchboard extension, operator only)',
      params: PROVIDER_PARAMS,
      async handler(req) {
        const row = await m.createProvider(providerInput(req));
        return { status: 201, body: providerJson(row, m.figures(row.sid), req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: 'messaging',
      path: '/v1/Providers',
      operator: true,
      summary: 'List carrier providers with live figures (Switchboard extension, operator only)',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await m.listProviders();
        return listPageV1(
          req,
          'providers',
          rows.map((r) => providerJson(r, m.figures(r.sid), req.baseUrl)),
          undefined,
        );
      },
    },
    {
      method: 'GET',
      domain: 'messaging',
      path: '/v1/Providers/:Sid',
      operator: true,
      summary: 'Fetch a carrier provider with live figures',
      async handler(req) {
        const row = await m.provider(req.params.Sid ?? '');
        return { status: 200, body: providerJson(row, m.figures(row.sid), req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Providers/:Sid',
      operator: true,
      summary: 'Update a carrier provider',
      params: PROVIDER_PARAMS,
      async handler(req) {
        const row = await m.updateProvider(req.params.Sid ?? '', providerInput(req));
        return { status: 200, body: providerJson(row, m.figures(row.sid), req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: 'messaging',
      path: '/v1/Providers/:Sid/Callbacks',
      summary:
        'Delivery reports and inbound messages from an HTTP carrier (JSON, signed with X-Switchboard-Signature; Switchboard extension)',
      auth: 'none',
      rawBody: true,
      async handler(req) {
        const reply = await m.carrierCallback(
          req.params.Sid ?? '',
          req.headers ?? {},
          req.rawBody ?? '',
        );
        if (reply.status === 401) fail('authenticate', reply.why);
        if (reply.status === 400) fail('malformedBody', reply.why);
        if (reply.status === 503) fail('unavailable', reply.why);
        return { status: 200, body: { status: 'ok' } };
      },
    },
    {
      method: 'DELETE',
      domain: 'messaging',
      path: '/v1/Providers/:Sid',
      operator: true,
      summary: 'Delete a carrier provider',
      async handler(req) {
        await m.deleteProvider(req.params.Sid ?? '');
        return { status: 204, body: null };
      },
    },
  ];
}
