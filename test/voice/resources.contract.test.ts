// Field names of Applications, IncomingPhoneNumbers and Usage Records against the OpenAPI
// spec of the real API (twilio_api_v2010.json, components.schemas; lists copied from it), and
// the extension resources listed in our own OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

const SPEC = {
  application: [
    'account_sid',
    'api_version',
    'date_created',
    'date_updated',
    'friendly_name',
    'message_status_callback',
    'public_application_connect_enabled',
    'sid',
    'sms_fallback_method',
    'sms_fallback_url',
    'sms_method',
    'sms_status_callback',
    'sms_url',
    'status_callback',
    'status_callback_method',
    'uri',
    'voice_caller_id_lookup',
    'voice_fallback_method',
    'voice_fallback_url',
    'voice_method',
    'voice_url',
  ],
  incoming_phone_number: [
    'account_sid',
    'address_requirements',
    'address_sid',
    'api_version',
    'beta',
    'bundle_sid',
    'capabilities',
    'date_created',
    'date_updated',
    'emergency_address_sid',
    'emergency_address_status',
    'emergency_status',
    'friendly_name',
    'identity_sid',
    'origin',
    'phone_number',
    'sid',
    'sms_application_sid',
    'sms_fallback_method',
    'sms_fallback_url',
    'sms_method',
    'sms_url',
    'status',
    'status_callback',
    'status_callback_method',
    'trunk_sid',
    'type',
    'uri',
    'voice_application_sid',
    'voice_caller_id_lookup',
    'voice_fallback_method',
    'voice_fallback_url',
    'voice_method',
    'voice_receive_mode',
    'voice_url',
  ],
  usage_record: [
    'account_sid',
    'api_version',
    'as_of',
    'category',
    'count',
    'count_unit',
    'description',
    'end_date',
    'price',
    'price_unit',
    'start_date',
    'subresource_uris',
    'uri',
    'usage',
    'usage_unit',
  ],
};
const PAGE_2010 = [
  'end',
  'first_page_uri',
  'next_page_uri',
  'page',
  'page_size',
  'previous_page_uri',
  'start',
  'uri',
];

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

const keysOf = (o: unknown) => Object.keys(o as Record<string, unknown>);

describe('resource shapes', () => {
  it('Applications, IncomingPhoneNumbers and Usage Records carry every field of the spec', async () => {
    const base = `/2010-04-01/Accounts/${t.accountSid}`;
    const app = await request(
      t,
      'POST',
      `${base}/Applications.json`,
      'FriendlyName=x&ModuleCode=contract.app',
    );
    expect(keysOf(app.json)).toEqual(expect.arrayContaining(SPEC.application));
    const pn = await request(
      t,
      'POST',
      `${base}/IncomingPhoneNumbers.json`,
      'PhoneNumber=%2B15557654321',
    );
    expect(keysOf(pn.json)).toEqual(expect.arrayContaining(SPEC.incoming_phone_number));
    const before = new Date().toISOString().slice(0, 10);
    const usage = await request(t, 'GET', `${base}/Usage/Records/Today.json`);
    const records = usage.json.usage_records as unknown[];
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(keysOf(r)).toEqual(expect.arrayContaining(SPEC.usage_record));
    expect(keysOf(usage.json)).toEqual(expect.arrayContaining(PAGE_2010));
    const after = new Date().toISOString().slice(0, 10);
    const first = records[0] as Record<string, unknown>;
    expect(first).toMatchObject({ category: 'calls', count: '0', price: 0, price_unit: 'usd' });
    expect([before, after]).toContain(first.start_date);
    expect(first.end_date).toBe(first.start_date);
    expect(String((records[0] as Record<string, unknown>).as_of)).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/,
    );
  });

  it('lists the extension resources in /openapi.json', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths).join('\n');
    for (const p of [
      'Applications',
      'IncomingPhoneNumbers',
      'Modules',
      'Segments',
      'Ledger',
      'Balance',
      'SpendLimit',
      'Usage/Records/Daily',
    ]) {
      expect(paths).toContain(p);
    }
  });
});
