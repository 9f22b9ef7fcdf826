import { formatMicros, parseCurrency, parseMicros } from '../../billing/index.js';
import { Errors, TwilioError, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type Input,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
  splitPage,
} from '../../core/rest.js';
import {
  itemRoutes,
  SMS_WEBHOOK_PARAMS,
  VOICE_WEBHOOK_PARAMS,
  optionalUrl,
  readSmsWebhook,
  readVoiceWebhook,
  smsWebhookJson,
  voiceWebhookJson,
} from '../shared/index.js';
import { type ApplicationInput, type Modules, validateModuleCode } from './modules.js';
import type { ApplicationRow, Visibility } from './tables.js';
import { TAGS_PARAM } from '../../core/tags.js';

const BASE = '/2010-04-01/Accounts/:AccountSid/Applications';
const VISIBILITIES = ['private', 'shared', 'public'] as const;

const WRITE_PARAMS: readonly ParamSpec[] = [
  TAGS_PARAM,
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'ApiVersion', type: 'enum', values: ['2010-04-01', '2008-08-01'] },
  ...VOICE_WEBHOOK_PARAMS,
  ...SMS_WEBHOOK_PARAMS,
  { name: 'SmsStatusCallback', type: 'string', max: 2048 },
  { name: 'MessageStatusCallback', type: 'string', max: 2048 },
  { name: 'PublicApplicationConnectEnabled', type: 'bool' },
  // Extensions: the module's identity, who may use it, and its usage plan.
  {
    name: 'ModuleCode',
    type: 'string',
    max: 128,
    description: 'Platform-wide unique identity code (e.g. voicemail, acme.ivr); empty clears',
  },
  {
    name: 'Visibility',
    type: 'enum',
    values: VISIBILITIES,
    description: 'private (publisher only), shared (SharedWith accounts), public (anyone)',
  },
  { name: 'SharedWith', type: 'list', description: 'Account SIDs that may use a shared module' },
  { name: 'PerMinuteRate', type: 'string', max: 20, description: 'Price per minute (decimal)' },
  {
    name: 'BillingIncrement',
    type: 'int',
    min: 1,
    max: 3600,
    description: 'Seconds; time is billed in whole increments, rounded up',
  },
  {
    name: 'PerInvocationFee',
    type: 'string',
    max: 20,
    description: 'Fee per invocation (decimal)',
  },
  { name: 'Currency', type: 'string', max: 3, description: 'ISO 4217 code (default USD)' },
];

function bool(v: boolean | undefined): number | undefined {
  return v === undefined ? undefined : v ? 1 : 0;
}

function readInput(input: Input): ApplicationInput {
  const code = input.string('ModuleCode');
  const shared = input.list('SharedWith');
  for (const sid of shared ?? []) {
    if (!/^AC[0-9a-f]{32}$/.test(sid)) {
      throw new TwilioError(
        Errors.invalidParameter,
        `SharedWith ${sid.slice(0, 40)} is not an AC SID`,
      );
    }
  }
  const rate = input.string('PerMinuteRate');
  const fee = input.string('PerInvocationFee');
  const currency = input.string('Currency');
  return {
    friendly_name: input.string('FriendlyName'),
    api_version: input.string('ApiVersion'),
    ...readVoiceWebhook(input),
    ...readSmsWebhook(input),
    sms_status_callback: optionalUrl(input, 'SmsStatusCallback'),
    message_status_callback: optionalUrl(input, 'MessageStatusCallback'),
    public_application_connect_enabled: bool(input.bool('PublicApplicationConnectEnabled')),
    module_code:
      code === undefined ? undefined : code.trim() === '' ? null : validateModuleCode(code.trim()),
    visibility: input.string('Visibility') as Visibility | undefined,
    shared_with: shared,
    per_minute_rate_micros: rate === undefined ? undefined : parseMicros('PerMinuteRate', rate),
    billing_increment: input.int('BillingIncrement'),
    per_invocation_fee_micros: fee === undefined ? undefined : parseMicros('PerInvocationFee', fee),
    currency: currency === undefined ? undefined : parseCurrency('Currency', currency),
  };
}

export function applicationJson(
  row: ApplicationRow,
  sharedWith: readonly string[],
): Record<string, unknown> {
  return {
    account_sid: row.account_sid,
    api_version: row.api_version,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    message_status_callback: row.message_status_callback,
    sid: row.sid,
    ...smsWebhookJson(row),
    sms_status_callback: row.sms_status_callback,
    ...voiceWebhookJson(row),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Applications/${row.sid}.json`,
    public_application_connect_enabled: row.public_application_connect_enabled === 1,
    // Extensions.
    module_code: row.module_code,
    visibility: row.visibility,
    shared_with: sharedWith,
    per_minute_rate: formatMicros(row.per_minute_rate_micros),
    billing_increment: row.billing_increment,
    per_invocation_fee: formatMicros(row.per_invocation_fee_micros),
    currency: row.currency,
  };
}

/** A catalogue entry: what a user needs to pick a module, not the publisher's webhooks. */
function catalogueJson(row: ApplicationRow, accountSid: string): Record<string, unknown> {
  return {
    module_code: row.module_code,
    reference: `module:${row.module_code ?? ''}`,
    application_sid: row.sid,
    friendly_name: row.friendly_name,
    publisher_account_sid: row.account_sid,
    own: row.account_sid === accountSid,
    visibility: row.visibility,
    per_minute_rate: formatMicros(row.per_minute_rate_micros),
    billing_increment: row.billing_increment,
    per_invocation_fee: formatMicros(row.per_invocation_fee_micros),
    currency: row.currency,
  };
}

/** Applications (AP…) as modules: Twilio's CRUD plus the module extension fields. */
export function applicationRoutes(
  modules: Modules,
  hooks: { onDelete?: (applicationSid: string) => Promise<void> } = {},
): RestRoute[] {
  const show = async (row: ApplicationRow) => applicationJson(row, await modules.sharesOf(row.sid));
  const pageOf = (req: RestRequest) => ({ size: req.page.pageSize, after: req.page.after });
  return [
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts/:AccountSid/Modules.json',
      summary:
        'Modules this account may use: its own, public ones and those shared with it (extension)',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await modules.available(req.account.sid, pageOf(req));
        const { items, next } = splitPage(req, rows, (last) => [last.module_code ?? '']);
        return listPage2010(
          req,
          'modules',
          items.map((row) => catalogueJson(row, req.account.sid)),
          next,
        );
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}.json`,
      summary: 'Create an application (a module: ModuleCode, Visibility, SharedWith, usage plan)',
      params: WRITE_PARAMS,
      async handler(req) {
        const row = await modules.create(req.account.sid, readInput(req.input));
        return { status: 201, body: await show(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}.json`,
      summary: "List the account's applications",
      paged: true,
      params: [{ name: 'FriendlyName', type: 'string', max: 64 }, ...PAGE_PARAMS],
      async handler(req) {
        const friendlyName = req.input.string('FriendlyName');
        const page = await modules.list(req.account.sid, { friendlyName }, pageOf(req));
        return listPage2010(
          req,
          'applications',
          await Promise.all(page.items.map(show)),
          page.next,
          {
            FriendlyName: friendlyName,
          },
        );
      },
    },
    ...itemRoutes({
      path: `${BASE}/:Sid.json`,
      noun: 'an application',
      params: WRITE_PARAMS,
      get: (req) => modules.get(req.account.sid, req.params.Sid ?? ''),
      update: (req) => modules.update(req.account.sid, req.params.Sid ?? '', readInput(req.input)),
      async remove(req) {
        await modules.delete(req.account.sid, req.params.Sid ?? '');
        await hooks.onDelete?.(req.params.Sid ?? '');
      },
      json: show,
    }),
  ];
}
