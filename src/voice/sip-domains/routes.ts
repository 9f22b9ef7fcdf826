// Twilio's /SIP resources (2010-04-01): CredentialLists, Credentials, Domains and the
// credential list mappings of a domain (Auth/Registrations, Auth/Calls and the legacy
// CredentialListMappings, which Twilio applies to calls and so do we).
import { Errors, TwilioError, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  splitPage,
  type Input,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import { METHODS, optionalUrl } from '../shared/index.js';
import type { DomainInput, SipDomains } from './sip-domains.js';
import type {
  CredentialListMappingRow,
  CredentialListRow,
  CredentialRow,
  MappingKind,
  SipDomainRow,
} from './tables.js';

const SIP = '/2010-04-01/Accounts/:AccountSid/SIP';
const sipUri = (accountSid: string) => `/2010-04-01/Accounts/${accountSid}/SIP`;

export function credentialListJson(row: CredentialListRow): Record<string, unknown> {
  const uri = `${sipUri(row.account_sid)}/CredentialLists/${row.sid}`;
  return {
    account_sid: row.account_sid,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    sid: row.sid,
    subresource_uris: { credentials: `${uri}/Credentials.json` },
    uri: `${uri}.json`,
  };
}

/** Never carries the password, in any form. */
export function credentialJson(row: CredentialRow): Record<string, unknown> {
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    credential_list_sid: row.credential_list_sid,
    username: row.username,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    uri: `${sipUri(row.account_sid)}/CredentialLists/${row.credential_list_sid}/Credentials/${row.sid}.json`,
  };
}

export function domainJson(row: SipDomainRow, authType: string | null): Record<string, unknown> {
  const uri = `${sipUri(row.account_sid)}/Domains/${row.sid}`;
  return {
    account_sid: row.account_sid,
    api_version: '2010-04-01',
    auth_type: authType,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    domain_name: row.domain_name,
    friendly_name: row.friendly_name,
    sid: row.sid,
    uri: `${uri}.json`,
    voice_fallback_method: row.voice_fallback_method,
    voice_fallback_url: row.voice_fallback_url,
    voice_method: row.voice_method,
    voice_status_callback_method: row.voice_status_callback_method,
    voice_status_callback_url: row.voice_status_callback_url,
    voice_url: row.voice_url,
    subresource_uris: {
      credential_list_mappings: `${uri}/CredentialListMappings.json`,
    },
    sip_registration: row.sip_registration === 1,
    emergency_calling_enabled: row.emergency_calling_enabled === 1,
    secure: row.secure === 1,
    byoc_trunk_sid: row.byoc_trunk_sid,
    emergency_caller_sid: row.emergency_caller_sid,
  };
}

function authMappingJson(
  m: CredentialListMappingRow,
  friendlyName: string,
): Record<string, unknown> {
  return {
    account_sid: m.account_sid,
    date_created: rfc2822(m.date_created),
    date_updated: rfc2822(m.date_updated),
    friendly_name: friendlyName,
    sid: m.credential_list_sid,
  };
}

function legacyMappingJson(
  m: CredentialListMappingRow,
  friendlyName: string,
): Record<string, unknown> {
  return {
    ...authMappingJson(m, friendlyName),
    domain_sid: m.domain_sid,
    uri: `${sipUri(m.account_sid)}/Domains/${m.domain_sid}/CredentialListMappings/${m.credential_list_sid}.json`,
  };
}

const DOMAIN_PARAMS: readonly ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'VoiceUrl', type: 'string', max: 2048 },
  { name: 'VoiceMethod', type: 'enum', values: METHODS },
  { name: 'VoiceFallbackUrl', type: 'string', max: 2048 },
  { name: 'VoiceFallbackMethod', type: 'enum', values: METHODS },
  { name: 'VoiceStatusCallbackUrl', type: 'string', max: 2048 },
  { name: 'VoiceStatusCallbackMethod', type: 'enum', values: METHODS },
  { name: 'SipRegistration', type: 'bool' },
  { name: 'EmergencyCallingEnabled', type: 'bool', description: 'Stored; no effect here' },
  { name: 'Secure', type: 'bool', description: 'Only false: TLS/SRTP are not supported' },
  {
    name: 'ByocTrunkSid',
    type: 'string',
    max: 34,
    description: 'Only empty: BYOC trunks are not supported',
  },
  { name: 'EmergencyCallerSid', type: 'string', max: 34, description: 'Stored; no effect here' },
];

const flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0);

function domainInput(input: Input): DomainInput {
  if (input.bool('Secure') === true)
    throw new TwilioError(Errors.sipDomainInvalid, 'Secure=true (TLS and SRTP) is not supported');
  const byoc = input.string('ByocTrunkSid');
  if (byoc !== undefined && byoc.trim() !== '')
    throw new TwilioError(Errors.sipDomainInvalid, 'ByocTrunkSid is not supported');
  const caller = input.string('EmergencyCallerSid');
  return {
    friendly_name: input.string('FriendlyName'),
    voice_url: optionalUrl(input, 'VoiceUrl'),
    voice_method: input.string('VoiceMethod'),
    voice_fallback_url: optionalUrl(input, 'VoiceFallbackUrl'),
    voice_fallback_method: input.string('VoiceFallbackMethod'),
    voice_status_callback_url: optionalUrl(input, 'VoiceStatusCallbackUrl'),
    voice_status_callback_method: input.string('VoiceStatusCallbackMethod'),
    sip_registration: flag(input.bool('SipRegistration')),
    emergency_calling_enabled: flag(input.bool('EmergencyCallingEnabled')),
    secure: flag(input.bool('Secure')),
    emergency_caller_sid: caller === undefined ? undefined : caller.trim() === '' ? null : caller,
  };
}

const page = (req: RestRequest) => ({ size: req.page.pageSize, after: req.page.after });
const p = (req: RestRequest, name: string) => req.params[name] ?? '';

function mappingRoutes(
  sip: SipDomains,
  base: string,
  kind: MappingKind,
  legacy: boolean,
): RestRoute[] {
  const json = legacy ? legacyMappingJson : authMappingJson;
  const key = legacy ? 'credential_list_mappings' : 'contents';
  const what = legacy ? 'legacy (applies to calls)' : kind;
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${base}.json`,
      summary: `Map a CredentialList to a Domain for ${what}`,
      params: [{ name: 'CredentialListSid', type: 'string', required: true, max: 34 }],
      async handler(req) {
        const { mapping, list } = await sip.map(
          req.account.sid,
          p(req, 'DomainSid'),
          kind,
          req.input.string('CredentialListSid') ?? '',
        );
        return { status: 201, body: json(mapping, list.friendly_name) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${base}.json`,
      summary: `List the CredentialLists mapped to a Domain for ${what}`,
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await sip.mappings(req.account.sid, p(req, 'DomainSid'), kind, page(req));
        const { items, next } = splitPage(req, rows, (l) => [
          l.mapping.date_created,
          l.mapping.credential_list_sid,
        ]);
        return listPage2010(
          req,
          key,
          items.map((r) => json(r.mapping, r.friendlyName)),
          next,
        );
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${base}/:Sid.json`,
      summary: `Fetch a CredentialList mapping (${what})`,
      async handler(req) {
        const { mapping, list } = await sip.mapping(
          req.account.sid,
          p(req, 'DomainSid'),
          kind,
          p(req, 'Sid'),
        );
        return { status: 200, body: json(mapping, list.friendly_name) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${base}/:Sid.json`,
      summary: `Remove a CredentialList mapping (${what})`,
      async handler(req) {
        await sip.unmap(req.account.sid, p(req, 'DomainSid'), kind, p(req, 'Sid'));
        return { status: 204, body: undefined };
      },
    },
  ];
}

/** Every /SIP route of the 2010-04-01 API that Switchboard serves. */
export function sipDomainRoutes(sip: SipDomains): RestRoute[] {
  const domainBody = async (row: SipDomainRow) => domainJson(row, await sip.authType(row.sid));
  return [
    // ---- CredentialLists
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/CredentialLists.json`,
      summary: 'Create a SIP CredentialList',
      params: [{ name: 'FriendlyName', type: 'string', required: true, max: 64 }],
      async handler(req) {
        const row = await sip.createList(req.account.sid, req.input.string('FriendlyName') ?? '');
        return { status: 201, body: credentialListJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/CredentialLists.json`,
      summary: "List the account's SIP CredentialLists",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await sip.lists(req.account.sid, page(req));
        const { items, next } = splitPage(req, rows, (l) => [l.date_created, l.sid]);
        return listPage2010(req, 'credential_lists', items.map(credentialListJson), next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/CredentialLists/:Sid.json`,
      summary: 'Fetch a SIP CredentialList',
      async handler(req) {
        return {
          status: 200,
          body: credentialListJson(await sip.getList(req.account.sid, p(req, 'Sid'))),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/CredentialLists/:Sid.json`,
      summary: 'Rename a SIP CredentialList',
      params: [{ name: 'FriendlyName', type: 'string', required: true, max: 64 }],
      async handler(req) {
        const row = await sip.renameList(
          req.account.sid,
          p(req, 'Sid'),
          req.input.string('FriendlyName') ?? '',
        );
        return { status: 200, body: credentialListJson(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${SIP}/CredentialLists/:Sid.json`,
      summary: 'Delete a SIP CredentialList, its credentials and its mappings',
      async handler(req) {
        await sip.deleteList(req.account.sid, p(req, 'Sid'));
        return { status: 204, body: undefined };
      },
    },
    // ---- Credentials
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/CredentialLists/:CredentialListSid/Credentials.json`,
      summary: 'Add a username and password (12+ chars, a digit, mixed case) to a CredentialList',
      params: [
        { name: 'Username', type: 'string', required: true, max: 256 },
        { name: 'Password', type: 'string', required: true, max: 256 },
      ],
      async handler(req) {
        const row = await sip.createCredential(
          req.account.sid,
          p(req, 'CredentialListSid'),
          req.input.string('Username') ?? '',
          req.input.string('Password') ?? '',
        );
        return { status: 201, body: credentialJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/CredentialLists/:CredentialListSid/Credentials.json`,
      summary: 'List the credentials of a CredentialList (usernames only)',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await sip.credentials(req.account.sid, p(req, 'CredentialListSid'), page(req));
        const { items, next } = splitPage(req, rows, (l) => [l.date_created, l.sid]);
        return listPage2010(req, 'credentials', items.map(credentialJson), next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/CredentialLists/:CredentialListSid/Credentials/:Sid.json`,
      summary: 'Fetch a credential (never its password)',
      async handler(req) {
        const row = await sip.getCredential(
          req.account.sid,
          p(req, 'CredentialListSid'),
          p(req, 'Sid'),
        );
        return { status: 200, body: credentialJson(row) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/CredentialLists/:CredentialListSid/Credentials/:Sid.json`,
      summary: "Change a credential's password",
      params: [{ name: 'Password', type: 'string', max: 256 }],
      async handler(req) {
        const row = await sip.updateCredential(
          req.account.sid,
          p(req, 'CredentialListSid'),
          p(req, 'Sid'),
          req.input.string('Password'),
        );
        return { status: 200, body: credentialJson(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${SIP}/CredentialLists/:CredentialListSid/Credentials/:Sid.json`,
      summary: 'Delete a credential',
      async handler(req) {
        await sip.deleteCredential(req.account.sid, p(req, 'CredentialListSid'), p(req, 'Sid'));
        return { status: 204, body: undefined };
      },
    },
    // ---- Domains
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/Domains.json`,
      summary: 'Create a SIP Domain (any host name; unique on the platform)',
      params: [{ name: 'DomainName', type: 'string', required: true, max: 253 }, ...DOMAIN_PARAMS],
      async handler(req) {
        const row = await sip.createDomain(
          req.account.sid,
          req.input.string('DomainName') ?? '',
          domainInput(req.input),
        );
        return { status: 201, body: await domainBody(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/Domains.json`,
      summary: "List the account's SIP Domains",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const rows = await sip.domains(req.account.sid, page(req));
        const { items, next } = splitPage(req, rows, (l) => [l.date_created, l.sid]);
        return listPage2010(req, 'domains', await Promise.all(items.map(domainBody)), next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${SIP}/Domains/:Sid.json`,
      summary: 'Fetch a SIP Domain',
      async handler(req) {
        return {
          status: 200,
          body: await domainBody(await sip.getDomain(req.account.sid, p(req, 'Sid'))),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${SIP}/Domains/:Sid.json`,
      summary: 'Update a SIP Domain',
      params: [{ name: 'DomainName', type: 'string', max: 253 }, ...DOMAIN_PARAMS],
      async handler(req) {
        const input = domainInput(req.input);
        const name = req.input.string('DomainName');
        if (name !== undefined) input.domain_name = name;
        const row = await sip.updateDomain(req.account.sid, p(req, 'Sid'), input);
        return { status: 200, body: await domainBody(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${SIP}/Domains/:Sid.json`,
      summary: 'Delete a SIP Domain and its mappings (live registrations expire on their own)',
      async handler(req) {
        await sip.deleteDomain(req.account.sid, p(req, 'Sid'));
        return { status: 204, body: undefined };
      },
    },
    ...mappingRoutes(
      sip,
      `${SIP}/Domains/:DomainSid/Auth/Registrations/CredentialListMappings`,
      'registrations',
      false,
    ),
    ...mappingRoutes(
      sip,
      `${SIP}/Domains/:DomainSid/Auth/Calls/CredentialListMappings`,
      'calls',
      false,
    ),
    ...mappingRoutes(sip, `${SIP}/Domains/:DomainSid/CredentialListMappings`, 'calls', true),
  ];
}
