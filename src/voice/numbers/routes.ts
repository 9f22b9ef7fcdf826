import { Errors, TwilioError, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type Input,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import {
  echoFilters,
  itemRoutes,
  SMS_WEBHOOK_PARAMS,
  VOICE_WEBHOOK_PARAMS,
  optionalApplicationSid,
  readSmsWebhook,
  readVoiceWebhook,
  smsWebhookJson,
  voiceWebhookJson,
} from '../shared/index.js';
import type { NumberInput, Numbers } from './numbers.js';
import type { NumberRow } from './tables.js';

const BASE = '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers';

const WRITE_PARAMS: readonly ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'ApiVersion', type: 'enum', values: ['2010-04-01', '2008-08-01'] },
  { name: 'VoiceApplicationSid', type: 'string', max: 34 },
  ...VOICE_WEBHOOK_PARAMS,
  { name: 'SmsApplicationSid', type: 'string', max: 34 },
  ...SMS_WEBHOOK_PARAMS,
];

function readInput(input: Input): NumberInput {
  return {
    friendly_name: input.string('FriendlyName'),
    api_version: input.string('ApiVersion'),
    voice_application_sid: optionalApplicationSid(input, 'VoiceApplicationSid'),
    ...readVoiceWebhook(input),
    sms_application_sid: optionalApplicationSid(input, 'SmsApplicationSid'),
    ...readSmsWebhook(input),
  };
}

export function numberJson(row: NumberRow): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${row.account_sid}/IncomingPhoneNumbers/${row.sid}`;
  const e164 = row.address_type === 'e164';
  return {
    account_sid: row.account_sid,
    address_sid: null,
    address_requirements: 'none',
    api_version: row.api_version,
    beta: false,
    capabilities: { voice: true, sms: e164, mms: false, fax: false },
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    identity_sid: null,
    phone_number: row.phone_number,
    origin: 'hosted',
    sid: row.sid,
    sms_application_sid: row.sms_application_sid,
    ...smsWebhookJson(row),
    trunk_sid: null,
    uri: `${uri}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: row.voice_application_sid,
    ...voiceWebhookJson(row),
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
    // Extension: e164, sip (a SIP URI) or user (a SIP user part on any of our domains).
    type: e164 ? 'local' : row.address_type,
    subresource_uris: { assigned_add_ons: `${uri}/AssignedAddOns.json` },
  };
}

const LIST_PARAMS: readonly ParamSpec[] = [
  { name: 'PhoneNumber', type: 'string', max: 320 },
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'Beta', type: 'bool' },
  { name: 'Origin', type: 'string', max: 16 },
  ...PAGE_PARAMS,
];

/** IncomingPhoneNumbers (PN…): numbers and SIP addresses routed to modules or URLs. */
export function numberRoutes(numbers: Numbers): RestRoute[] {
  const list = async (req: RestRequest, addressType?: string) => {
    const i = req.input;
    const page = await numbers.list(
      req.account.sid,
      {
        phoneNumber: i.string('PhoneNumber'),
        friendlyName: i.string('FriendlyName'),
        addressType,
        beta: i.bool('Beta'),
        origin: i.string('Origin'),
      },
      { size: req.page.pageSize, after: req.page.after },
    );
    const items = page.items.map(numberJson);
    return listPage2010(
      req,
      'incoming_phone_numbers',
      items,
      page.next,
      echoFilters(i, LIST_PARAMS),
    );
  };
  // Twilio's typed collections. Switchboard does not classify E.164 numbers, so Local,
  // Mobile and TollFree each create and list E.164 numbers (SIP addresses stay out).
  const typed: RestRoute[] = ['Local', 'Mobile', 'TollFree'].flatMap((kind): RestRoute[] => [
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}/${kind}.json`,
      summary: `Provision an E.164 number (${kind}; same as IncomingPhoneNumbers)`,
      params: [{ name: 'PhoneNumber', type: 'string', required: true, max: 32 }, ...WRITE_PARAMS],
      async handler(req) {
        const raw = req.input.string('PhoneNumber') ?? '';
        if (!/^\+[1-9]\d{1,14}$/.test(raw.trim())) {
          throw new TwilioError(Errors.invalidPhoneNumber, `${kind} numbers are E.164`);
        }
        const row = await numbers.create(req.account.sid, raw, readInput(req.input));
        return { status: 201, body: numberJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}/${kind}.json`,
      summary: `List the account's E.164 numbers (${kind})`,
      paged: true,
      params: LIST_PARAMS,
      handler: (req) => list(req, 'e164'),
    },
  ]);
  return [
    ...typed,
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}.json`,
      summary: 'Provision a number or SIP address (E.164, sip:user@host, or a SIP user part)',
      params: [{ name: 'PhoneNumber', type: 'string', required: true, max: 320 }, ...WRITE_PARAMS],
      async handler(req) {
        const row = await numbers.create(
          req.account.sid,
          req.input.string('PhoneNumber') ?? '',
          readInput(req.input),
        );
        return { status: 201, body: numberJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}.json`,
      summary: "List the account's numbers",
      paged: true,
      params: LIST_PARAMS,
      handler: (req) => list(req),
    },
    ...itemRoutes({
      path: `${BASE}/:Sid.json`,
      noun: 'a number',
      params: WRITE_PARAMS,
      get: (req) => numbers.get(req.account.sid, req.params.Sid ?? ''),
      update: (req) => numbers.update(req.account.sid, req.params.Sid ?? '', readInput(req.input)),
      remove: (req) => numbers.delete(req.account.sid, req.params.Sid ?? ''),
      json: numberJson,
    }),
  ];
}
