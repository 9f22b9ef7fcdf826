// Twilio's /SIP resources driven by the official SDK: CredentialLists, Credentials, Domains
// and their credential list mappings, with Twilio's shapes and error codes, per account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

// Field names from twilio_api_v2010.json (components.schemas, api.v2010.account.sip.*).
const SPEC = {
  credential_list: [
    'account_sid',
    'date_created',
    'date_updated',
    'friendly_name',
    'sid',
    'subresource_uris',
    'uri',
  ],
  credential: [
    'account_sid',
    'credential_list_sid',
    'date_created',
    'date_updated',
    'sid',
    'uri',
    'username',
  ],
  domain: [
    'account_sid',
    'api_version',
    'auth_type',
    'byoc_trunk_sid',
    'date_created',
    'date_updated',
    'domain_name',
    'emergency_caller_sid',
    'emergency_calling_enabled',
    'friendly_name',
    'secure',
    'sid',
    'sip_registration',
    'subresource_uris',
    'uri',
    'voice_fallback_method',
    'voice_fallback_url',
    'voice_method',
    'voice_status_callback_method',
    'voice_status_callback_url',
    'voice_url',
  ],
  auth_mapping: ['account_sid', 'date_created', 'date_updated', 'friendly_name', 'sid'],
  legacy_mapping: [
    'account_sid',
    'date_created',
    'date_updated',
    'domain_sid',
    'friendly_name',
    'sid',
    'uri',
  ],
};
const keys = (o: Record<string, unknown>) => Object.keys(o).sort();

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

async function code(p: Promise<unknown>): Promise<{ code: number; status: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; status: number };
    return { code: err.code, status: err.status };
  }
  throw new Error('expected the request to fail');
}

describe('SIP resources through the official SDK', () => {
  it('creates, reads, updates and deletes lists, credentials, domains and mappings', async () => {
    const { client } = t;
    const list = await client.sip.credentialLists.create({ friendlyName: 'Phones' });
    expect(list.sid).toMatch(/^CL[0-9a-f]{32}$/);
    expect(list.friendlyName).toBe('Phones');
    expect(list.subresourceUris.credentials).toBe(
      `/2010-04-01/Accounts/${t.accountSid}/SIP/CredentialLists/${list.sid}/Credentials.json`,
    );
    expect(list.dateCreated).toBeInstanceOf(Date);

    const cred = await client.sip
      .credentialLists(list.sid)
      .credentials.create({ username: 'alice', password: 'IWasAtSignal2018' });
    expect(cred.sid).toMatch(/^CR[0-9a-f]{32}$/);
    expect(cred.username).toBe('alice');
    expect(cred.credentialListSid).toBe(list.sid);
    // The password is never returned, in any form.
    const raw = JSON.stringify(cred.toJSON());
    expect(raw).not.toContain('IWasAtSignal2018');
    expect(Object.keys(cred.toJSON())).not.toContain('password');
    await client.sip
      .credentialLists(list.sid)
      .credentials(cred.sid)
      .update({ password: 'AnotherGood1pass' });
    const creds = await client.sip.credentialLists(list.sid).credentials.list();
    expect(creds.map((c) => c.username)).toEqual(['alice']);

    const domain = await client.sip.domains.create({
      domainName: 'PBX-A.example.com',
      friendlyName: 'Office A',
      voiceUrl: 'https://example.com/voice',
      sipRegistration: true,
    });
    expect(domain.sid).toMatch(/^SD[0-9a-f]{32}$/);
    expect(domain.domainName).toBe('pbx-a.example.com');
    expect(domain.sipRegistration).toBe(true);
    expect(domain.voiceMethod).toBe('POST');
    expect(domain.authType).toBeNull();

    const reg = await client.sip
      .domains(domain.sid)
      .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
    expect(reg.sid).toBe(list.sid);
    expect(reg.friendlyName).toBe('Phones');
    const calls = await client.sip
      .domains(domain.sid)
      .auth.calls.credentialListMappings.create({ credentialListSid: list.sid });
    expect(calls.sid).toBe(list.sid);
    expect(
      (await client.sip.domains(domain.sid).auth.registrations.credentialListMappings.list()).map(
        (m) => m.sid,
      ),
    ).toEqual([list.sid]);
    expect(
      (await client.sip.domains(domain.sid).auth.calls.credentialListMappings(list.sid).fetch())
        .sid,
    ).toBe(list.sid);
    // The legacy mappings are the calls mappings.
    const legacy = await client.sip.domains(domain.sid).credentialListMappings.list();
    expect(legacy.map((m) => [m.sid, m.domainSid])).toEqual([[list.sid, domain.sid]]);
    expect((await client.sip.domains(domain.sid).fetch()).authType).toBe('CREDENTIAL_LIST');

    const updated = await client.sip
      .domains(domain.sid)
      .update({ sipRegistration: false, voiceUrl: '' });
    expect(updated.sipRegistration).toBe(false);
    expect(updated.voiceUrl).toBeNull();
    expect((await client.sip.domains.list()).map((d) => d.sid)).toEqual([domain.sid]);
    expect(
      (await client.sip.credentialLists(list.sid).update({ friendlyName: 'Desk phones' }))
        .friendlyName,
    ).toBe('Desk phones');

    await client.sip.domains(domain.sid).auth.calls.credentialListMappings(list.sid).remove();
    expect(await client.sip.domains(domain.sid).auth.calls.credentialListMappings.list()).toEqual(
      [],
    );
    await client.sip.credentialLists(list.sid).credentials(cred.sid).remove();
    await client.sip.credentialLists(list.sid).remove();
    // Deleting the list removed its remaining mapping.
    expect(
      await client.sip.domains(domain.sid).auth.registrations.credentialListMappings.list(),
    ).toEqual([]);
    await client.sip.domains(domain.sid).remove();
    expect(await client.sip.domains.list()).toEqual([]);
  });

  it('refuses bad input with Twilio error codes and keeps serving', async () => {
    const { client } = t;
    const list = await client.sip.credentialLists.create({ friendlyName: 'Strict' });
    for (const weak of ['short1A', 'alllowercase123', 'ALLUPPERCASE123', 'NoDigitsAtAllHere']) {
      expect(
        await code(
          client.sip
            .credentialLists(list.sid)
            .credentials.create({ username: 'bob', password: weak }),
        ),
      ).toEqual({ code: 21240, status: 400 });
    }
    const cred = await client.sip
      .credentialLists(list.sid)
      .credentials.create({ username: 'bob', password: 'GoodEnough123' });
    expect(
      await code(
        client.sip.credentialLists(list.sid).credentials(cred.sid).update({ password: 'weak' }),
      ),
    ).toEqual({ code: 21240, status: 400 });
    expect(
      await code(
        client.sip
          .credentialLists(list.sid)
          .credentials.create({ username: 'bob', password: 'GoodEnough123' }),
      ),
    ).toEqual({ code: 21243, status: 400 });
    expect(await code(client.sip.credentialLists.create({ friendlyName: 'Strict' }))).toEqual({
      code: 21240,
      status: 400,
    });

    const d = await client.sip.domains.create({ domainName: 'dup.example.net' });
    expect(d.sipRegistration).toBe(false);
    expect(await code(client.sip.domains.create({ domainName: 'DUP.example.net' }))).toEqual({
      code: 21231,
      status: 400,
    });
    expect(await code(client.sip.domains.create({ domainName: 'not a host!' }))).toEqual({
      code: 21231,
      status: 400,
    });
    expect(await code(client.sip.domains.create({ domainName: '192.0.2.10' }))).toEqual({
      code: 21231,
      status: 400,
    });
    expect(
      await code(client.sip.domains.create({ domainName: 'tls.example.net', secure: true })),
    ).toEqual({
      code: 21231,
      status: 400,
    });
    const other = await client.sip.domains.create({ domainName: 'other.example.net' });
    expect(
      await code(client.sip.domains(other.sid).update({ domainName: 'dup.example.net' })),
    ).toEqual({
      code: 21231,
      status: 400,
    });

    const missingCl = 'CL' + '0'.repeat(32);
    const missingSd = 'SD' + '0'.repeat(32);
    const missingCr = 'CR' + '0'.repeat(32);
    for (const p of [
      () => client.sip.credentialLists(missingCl).fetch(),
      () => client.sip.credentialLists('CLnot-a-sid').fetch(),
      () => client.sip.credentialLists(missingCl).credentials.list(),
      () => client.sip.credentialLists(list.sid).credentials(missingCr).fetch(),
      () => client.sip.domains(missingSd).fetch(),
      () => client.sip.domains(missingSd).remove(),
      () => client.sip.domains(d.sid).auth.registrations.credentialListMappings(list.sid).fetch(),
      () =>
        client.sip
          .domains(d.sid)
          .auth.registrations.credentialListMappings.create({ credentialListSid: missingCl }),
      () =>
        client.sip
          .domains(missingSd)
          .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid }),
    ]) {
      expect(await code(p())).toEqual({ code: 20404, status: 404 });
    }
    await client.sip
      .domains(d.sid)
      .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
    expect(
      await code(
        client.sip
          .domains(d.sid)
          .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid }),
      ),
    ).toEqual({ code: 21231, status: 400 });

    // Another account sees none of it, and cannot map this account's list to its domain.
    const sub = await client.api.accounts.create({ friendlyName: 'tenant b' });
    const b = sdkClient(t.url, sub.sid, sub.authToken);
    expect(await b.sip.credentialLists.list()).toEqual([]);
    expect(await code(b.sip.domains(d.sid).fetch())).toEqual({ code: 20404, status: 404 });
    const bd = await b.sip.domains.create({ domainName: 'b.example.net', sipRegistration: true });
    expect(
      await code(
        b.sip
          .domains(bd.sid)
          .auth.registrations.credentialListMappings.create({ credentialListSid: list.sid }),
      ),
    ).toEqual({ code: 20404, status: 404 });
    // The server still serves.
    expect((await client.sip.credentialLists.list()).map((l) => l.friendlyName)).toEqual([
      'Strict',
    ]);
  });

  it('answers with the field names of the OpenAPI spec and its list keys', async () => {
    const base = `/2010-04-01/Accounts/${t.accountSid}/SIP`;
    const cl = await request(t, 'POST', `${base}/CredentialLists.json`, 'FriendlyName=Contract');
    expect(cl.status).toBe(201);
    expect(keys(cl.json)).toEqual(SPEC.credential_list);
    const clSid = String(cl.json.sid);
    const cr = await request(
      t,
      'POST',
      `${base}/CredentialLists/${clSid}/Credentials.json`,
      'Username=carol&Password=Contract12345',
    );
    expect(keys(cr.json)).toEqual(SPEC.credential);
    const sd = await request(t, 'POST', `${base}/Domains.json`, 'DomainName=contract.example.org');
    expect(keys(sd.json)).toEqual(SPEC.domain);
    const sdSid = String(sd.json.sid);
    const m = await request(
      t,
      'POST',
      `${base}/Domains/${sdSid}/Auth/Registrations/CredentialListMappings.json`,
      `CredentialListSid=${clSid}`,
    );
    expect(m.status).toBe(201);
    expect(keys(m.json)).toEqual(SPEC.auth_mapping);
    const legacy = await request(
      t,
      'POST',
      `${base}/Domains/${sdSid}/CredentialListMappings.json`,
      `CredentialListSid=${clSid}`,
    );
    expect(keys(legacy.json)).toEqual(SPEC.legacy_mapping);
    for (const [path, key] of [
      [`${base}/CredentialLists.json`, 'credential_lists'],
      [`${base}/CredentialLists/${clSid}/Credentials.json`, 'credentials'],
      [`${base}/Domains.json`, 'domains'],
      [`${base}/Domains/${sdSid}/Auth/Registrations/CredentialListMappings.json`, 'contents'],
      [`${base}/Domains/${sdSid}/Auth/Calls/CredentialListMappings.json`, 'contents'],
      [`${base}/Domains/${sdSid}/CredentialListMappings.json`, 'credential_list_mappings'],
    ] as const) {
      const list = await request(t, 'GET', `${path}?PageSize=1`);
      expect(list.status).toBe(200);
      expect(Array.isArray(list.json[key]), path).toBe(true);
      expect(list.json).toMatchObject({ page: 0, page_size: 1, previous_page_uri: null });
    }
    // Paging: two domains at PageSize=1 give a next page with the second one.
    await request(t, 'POST', `${base}/Domains.json`, 'DomainName=contract2.example.org');
    const p1 = await request(t, 'GET', `${base}/Domains.json?PageSize=1`);
    const next = String(p1.json.next_page_uri);
    const p2 = await request(t, 'GET', next);
    expect(
      (p2.json.domains as Array<{ domain_name: string }>).map((d) => d.domain_name),
    ).not.toContain((p1.json.domains as Array<{ domain_name: string }>)[0]?.domain_name);
  });

  it('serves every credential /SIP path of the spec with its methods, listed in /openapi.json', async () => {
    // From twilio_api_v2010.json: the /SIP paths but IP access control lists.
    const SPEC_PATHS: Record<string, string[]> = {
      '/CredentialLists.json': ['get', 'post'],
      '/CredentialLists/{Sid}.json': ['delete', 'get', 'post'],
      '/CredentialLists/{CredentialListSid}/Credentials.json': ['get', 'post'],
      '/CredentialLists/{CredentialListSid}/Credentials/{Sid}.json': ['delete', 'get', 'post'],
      '/Domains.json': ['get', 'post'],
      '/Domains/{Sid}.json': ['delete', 'get', 'post'],
      '/Domains/{DomainSid}/Auth/Calls/CredentialListMappings.json': ['get', 'post'],
      '/Domains/{DomainSid}/Auth/Calls/CredentialListMappings/{Sid}.json': ['delete', 'get'],
      '/Domains/{DomainSid}/Auth/Registrations/CredentialListMappings.json': ['get', 'post'],
      '/Domains/{DomainSid}/Auth/Registrations/CredentialListMappings/{Sid}.json': [
        'delete',
        'get',
      ],
      '/Domains/{DomainSid}/CredentialListMappings.json': ['get', 'post'],
      '/Domains/{DomainSid}/CredentialListMappings/{Sid}.json': ['delete', 'get'],
    };
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, methods] of Object.entries(SPEC_PATHS)) {
      const ours = doc.paths[`/2010-04-01/Accounts/{AccountSid}/SIP${path}`] ?? {};
      expect(Object.keys(ours).sort(), path).toEqual(methods);
    }
  });
});
