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
import type { HttpMethod } from '../modules/index.js';
import { METHODS, optionalApplicationSid, optionalUrl } from '../modules/params.js';
import type { NumberInput, Numbers } from './numbers.js';
import type { NumberRow } from './tables.js';

const BASE = '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers';

const WRITE_PARAMS: readonly ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'ApiVersion', type: 'enum', values: ['2010-04-01', '2008-08-01'] },
  { name: 'VoiceApplicationSid', type: 'string', max: 34 },
  { name: 'VoiceUrl', type: 'string', max: 2048 },
  { name: 'VoiceMethod', type: 'enum', values: METHODS },
  { name: 'VoiceFallbackUrl', type: 'string', max: 2048 },
  { name: 'VoiceFallbackMethod', type: 'enum', values: METHODS },
  { name: 'VoiceCallerIdLookup', type: 'bool' },
  { name: 'StatusCallback', type: 'string', max: 2048 },
  { name: 'StatusCallbackMethod', type: 'enum', values: METHODS },
  { name: 'SmsApplicationSid', type: 'string', max: 34 },
  { name: 'SmsUrl', type: 'string', max: 2048 },
  { name: 'SmsMethod', type: 'enum', values: METHODS },
  { name: 'SmsFallbackUrl', type: 'string', max: 2048 },
  { name: 'SmsFallbackMethod', type: 'enum', values: METHODS },
];

function readInput(input: Input): NumberInput {
  const method = (name: string) => input.string(name) as HttpMethod | undefined;
  const lookup = input.bool('VoiceCallerIdLookup');
  return {
    friendly_name: input.string('FriendlyName'),
    api_version: input.string('ApiVersion'),
    voice_application_sid: optionalApplicationSid(input, 'VoiceApplicationSid'),
    voice_url: optionalUrl(input, 'VoiceUrl'),
    voice_method: method('VoiceMethod'),
    voice_fallback_url: optionalUrl(input, 'VoiceFallbackUrl'),
    voice_fallback_method: method('VoiceFallbackMethod'),
    voice_caller_id_lookup: lookup === undefined ? undefined : lookup ? 1 : 0,
    status_callback: optionalUrl(input, 'StatusCallback'),
    status_callback_method: method('StatusCallbackMethod'),
    sms_application_sid: optionalApplicationSid(input, 'SmsApplicationSid'),
    sms_url: optionalUrl(input, 'SmsUrl'),
    sms_method: method('SmsMethod'),
    sms_fallback_url: optionalUrl(input, 'SmsFallbackUrl'),
    sms_fallback_method: method('SmsFallbackMethod'),
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
    sms_fallback_method: row.sms_fallback_method,
    sms_fallback_url: row.sms_fallback_url,
    sms_method: row.sms_method,
    sms_url: row.sms_url,
    status_callback: row.status_callback,
    status_callback_method: row.status_callback_method,
    trunk_sid: null,
    uri: `${uri}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: row.voice_application_sid,
    voice_caller_id_lookup: row.voice_caller_id_lookup === 1,
    voice_fallback_method: row.voice_fallback_method,
    voice_fallback_url: row.voice_fallback_url,
    voice_method: row.voice_method,
    voice_url: row.voice_url,
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
  const page = (req: RestRequest) => ({ size: req.page.pageSize, after: req.page.after });
  const list = async (req: RestRequest, addressType?: string) => {
    const phoneNumber = req.input.string('PhoneNumber');
    const friendlyName = req.input.string('FriendlyName');
    const rows = await numbers.list(
      req.account.sid,
      { phoneNumber, friendlyName, addressType },
      page(req),
    );
    const { items, next } = splitPage(req, rows, (last) => [last.date_created, last.sid]);
    return listPage2010(req, 'incoming_phone_numbers', items.map(numberJson), next, {
      PhoneNumber: phoneNumber,
      FriendlyName: friendlyName,
    });
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
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: 'Fetch a number',
      async handler(req) {
        return {
          status: 200,
          body: numberJson(await numbers.get(req.account.sid, req.params.Sid ?? '')),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: 'Update a number (route it to a module with VoiceApplicationSid, or to a VoiceUrl)',
      params: WRITE_PARAMS,
      async handler(req) {
        const row = await numbers.update(
          req.account.sid,
          req.params.Sid ?? '',
          readInput(req.input),
        );
        return { status: 200, body: numberJson(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: 'Release a number',
      async handler(req) {
        await numbers.delete(req.account.sid, req.params.Sid ?? '');
        return { status: 204, body: undefined };
      },
    },
  ];
}
