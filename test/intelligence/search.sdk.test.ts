// Search (extension): transcripts by the states an account's operator found in them, their
// values and their order, and by text; scoped to the account, paged. Transcripts are made
// through the SDK; the search itself is an extension the SDK does not know (raw requests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

let t: TestPlatform;
let operatorSid = '';
const sids: Record<string, string> = {};

const CONFIG = {
  states: [
    {
      name: 'rate quoted',
      examples: [
        'I can offer you a rate of 3%',
        'the interest rate would be 4.5 percent',
        'we can do two point nine percent APR',
        'your rate is going to be 5 percent',
        'the best rate I have is six percent',
      ],
      extract: 'percent',
    },
    {
      name: 'objection',
      examples: [
        'that is too expensive for me',
        'I think that rate is too high',
        'I am not sure I can afford that',
        'that seems like a lot of money',
        'another bank offered me a better deal',
      ],
    },
  ],
  none_examples: [
    'hello how are you',
    'thank you for calling',
    'have a nice day',
    'goodbye',
    'let me check',
  ],
};

const CALLS: Record<string, string[]> = {
  quotedThenObjection: [
    'Hello, thank you for calling.',
    'I can offer you a rate of 3% today.',
    'That rate is too high for me.',
  ],
  objectionThenQuoted: [
    'That seems like a lot of money.',
    'Then the best rate I have is 7 percent.',
    'Goodbye.',
  ],
  quotedOnly: ['Your rate is going to be 4 percent.', 'Great, have a nice day.'],
  nothing: ['Hello, I lost my umbrella on the bus.', 'Let me check, goodbye.'],
};

beforeAll(async () => {
  t = await startTestPlatform({ asrEngine: 'none' });
  const v2 = t.client.intelligence.v2;
  const service = await v2.services.create({ uniqueName: 'search' });
  operatorSid = (
    await v2.customOperators.create({
      friendlyName: 'Rates',
      operatorType: 'utterance-state',
      config: CONFIG,
    })
  ).sid;
  await v2.operatorAttachment(service.sid, operatorSid).create();
  for (const [key, lines] of Object.entries(CALLS)) {
    const tr = await v2.transcripts.create({
      serviceSid: service.sid,
      channel: {
        media_properties: {
          transcript: lines.map((text, i) => ({ channel_participant: (i % 2) + 1, text })),
        },
      },
    });
    sids[key] = tr.sid;
  }
  for (const sid of Object.values(sids))
    await until(
      `transcript ${sid}`,
      async () => (await v2.transcripts(sid).fetch()).status === 'completed',
    );
}, 90_000);

afterAll(async () => {
  await t?.cleanup();
});

async function search(query: Record<string, string>, who = t): Promise<string[]> {
  const r = await request(
    who,
    'GET',
    `/intelligence/v2/Search/Transcripts?${new URLSearchParams(query).toString()}`,
  );
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return (r.json.transcripts as { sid: string }[]).map((x) => x.sid).sort();
}
const of = (...keys: string[]) => keys.map((k) => sids[k]!).sort();

describe('transcript search', () => {
  it('finds transcripts by states present and absent', async () => {
    expect(await search({ OperatorSid: operatorSid, States: 'rate quoted' })).toEqual(
      of('quotedThenObjection', 'objectionThenQuoted', 'quotedOnly'),
    );
    expect(
      await search({ OperatorSid: operatorSid, AbsentStates: 'rate quoted|objection' }),
    ).toEqual(of('nothing'));
    expect(
      await search({ OperatorSid: operatorSid, States: 'rate quoted', AbsentStates: 'objection' }),
    ).toEqual(of('quotedOnly'));
  });

  it('finds transcripts by the order of states', async () => {
    expect(await search({ OperatorSid: operatorSid, Sequence: 'rate quoted>objection' })).toEqual(
      of('quotedThenObjection'),
    );
    // Quoted, and never an objection after it.
    expect(await search({ OperatorSid: operatorSid, Sequence: 'rate quoted>!objection' })).toEqual(
      of('objectionThenQuoted', 'quotedOnly'),
    );
  });

  it('finds transcripts by a state value', async () => {
    expect(
      await search({
        OperatorSid: operatorSid,
        ValueState: 'rate quoted',
        ValueMin: '0.035',
        ValueMax: '0.08',
      }),
    ).toEqual(of('objectionThenQuoted', 'quotedOnly'));
    expect(
      await search({ OperatorSid: operatorSid, ValueState: 'rate quoted', ValueEquals: '0.03' }),
    ).toEqual(of('quotedThenObjection'));
    expect(
      await search({
        OperatorSid: operatorSid,
        ValueState: 'rate quoted',
        ValueNotIn: '0.03|0.04',
      }),
    ).toEqual(of('objectionThenQuoted'));
    expect(
      await search({ OperatorSid: operatorSid, ValueState: 'rate quoted', ValueIn: '0.03|0.04' }),
    ).toEqual(of('quotedThenObjection', 'quotedOnly'));
  });

  it('finds transcripts by text, pages, and stays within the account', async () => {
    expect(await search({ Text: 'umbrella' })).toEqual(of('nothing'));
    expect(await search({ Text: 'rate', OperatorSid: operatorSid, States: 'objection' })).toEqual(
      of('quotedThenObjection', 'objectionThenQuoted'),
    );
    const first = await request(
      t,
      'GET',
      `/intelligence/v2/Search/Transcripts?OperatorSid=${operatorSid}&States=rate%20quoted&PageSize=2`,
    );
    const meta = first.json.meta as { next_page_url: string };
    expect(first.json.transcripts).toHaveLength(2);
    const next = await request(t, 'GET', meta.next_page_url.slice(t.url.length));
    expect(next.json.transcripts).toHaveLength(1);
    // Another account finds nothing of these.
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'other' });
    const other = { url: t.url, accountSid: sub.sid, authToken: sub.authToken };
    expect(
      await search(
        { Text: 'umbrella' },
        { ...t, ...other, client: sdkClient(t.url, sub.sid, sub.authToken) },
      ),
    ).toEqual([]);
    const bad = await request(t, 'GET', '/intelligence/v2/Search/Transcripts?States=objection');
    expect(bad.status).toBe(400);
    expect(String(bad.json.message)).toMatch(/OperatorSid/);
  });
});
