// The Queues and Members resources through the official SDK: Twilio's fields (lists copied
// from twilio_api_v2010.json components.schemas), defaults and bounds, paging, errors, and the
// routes in /openapi.json. Members of real calls are covered by queues.sipp.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

const QUEUE_FIELDS = [
  'account_sid',
  'average_wait_time',
  'current_size',
  'date_created',
  'date_updated',
  'friendly_name',
  'max_size',
  'sid',
  'uri',
];

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('Queues and Members', () => {
  it('creates, fetches, lists, updates and deletes queues as Twilio does', async () => {
    const base = `/2010-04-01/Accounts/${t.accountSid}/Queues`;
    const sales = await t.client.queues.create({ friendlyName: 'sales' });
    expect(sales.sid).toMatch(/^QU[0-9a-f]{32}$/);
    expect(sales).toMatchObject({
      friendlyName: 'sales',
      maxSize: 1000,
      currentSize: 0,
      averageWaitTime: 0,
      accountSid: t.accountSid,
      uri: `${base}/${sales.sid}.json`,
    });
    expect(sales.dateCreated).toBeInstanceOf(Date);
    const raw = await request(t, 'GET', `${base}/${sales.sid}.json`);
    expect(Object.keys(raw.json).sort()).toEqual(QUEUE_FIELDS);

    const support = await t.client.queues.create({ friendlyName: 'support', maxSize: 5000 });
    expect(support.maxSize).toBe(5000);
    await expect(t.client.queues.create({ friendlyName: 'sales' })).rejects.toMatchObject({
      status: 409,
      code: 20409,
    });
    await expect(
      t.client.queues.create({ friendlyName: 'big', maxSize: 5001 }),
    ).rejects.toMatchObject({ status: 400, code: 20001 });
    await expect(t.client.queues.create({ friendlyName: 'x'.repeat(65) })).rejects.toMatchObject({
      status: 400,
      code: 20001,
    });

    const renamed = await t.client
      .queues(sales.sid)
      .update({ friendlyName: 'inside-sales', maxSize: 10 });
    expect(renamed).toMatchObject({ friendlyName: 'inside-sales', maxSize: 10 });
    await expect(
      t.client.queues(sales.sid).update({ friendlyName: 'support' }),
    ).rejects.toMatchObject({ status: 409 });

    // Paging: one per page, followed by the SDK through next_page_uri.
    const all = await t.client.queues.list({ pageSize: 1 });
    expect(all.map((q) => q.friendlyName).sort()).toEqual(['inside-sales', 'support']);

    await t.client.queues(sales.sid).remove();
    await expect(t.client.queues(sales.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await t.client.queues(support.sid).remove();
  });

  it('answers Members of an empty or unknown queue with Twilio errors', async () => {
    const q = await t.client.queues.create({ friendlyName: 'empty' });
    expect(await t.client.queues(q.sid).members.list()).toEqual([]);
    await expect(t.client.queues(q.sid).members('Front').fetch()).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      t.client
        .queues(q.sid)
        .members('CA' + '0'.repeat(32))
        .update({ url: 'https://example.com/x' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(t.client.queues('QU' + '0'.repeat(32)).members.list()).rejects.toMatchObject({
      status: 404,
    });
    const base = `/2010-04-01/Accounts/${t.accountSid}/Queues/${q.sid}/Members/Front.json`;
    const noUrl = await request(t, 'POST', base, 'Method=POST');
    expect(noUrl.status).toBe(400);
    const badMethod = await request(t, 'POST', base, 'Url=https%3A%2F%2Fexample.com&Method=PUT');
    expect(badMethod.status).toBe(400);
    await t.client.queues(q.sid).remove();
  });

  it('lists the queue routes in /openapi.json', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const base = '/2010-04-01/Accounts/{AccountSid}/Queues';
    expect(Object.keys(doc.paths[`${base}.json`] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths[`${base}/{Sid}.json`] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'post',
    ]);
    expect(Object.keys(doc.paths[`${base}/{QueueSid}/Members.json`] ?? {})).toEqual(['get']);
    expect(
      Object.keys(doc.paths[`${base}/{QueueSid}/Members/{CallSid}.json`] ?? {}).sort(),
    ).toEqual(['get', 'post']);
  });
});
