// Tags as a client gives them (the `Tags` parameter of a create, the Switchboard-Tags header on
// any request) and as the log keeps them: on every event of the tagged interaction, through the
// tag index, until retention removes them. A tagged message is followed to its receipt.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSmsc } from '../support/smsc.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import {
  createProvider,
  startSmsc,
  startWebhook,
  waitFor,
  type Hook,
} from '../messaging/support.js';

let t: TestPlatform;
let smsc: TestSmsc;
let hook: Hook;

beforeAll(async () => {
  t = await startTestPlatform();
  smsc = await startSmsc();
  hook = await startWebhook(() => t.authToken);
  await createProvider(t, {
    name: 'tags',
    port: smsc.port,
    prices: { '44': 0.02 },
    throughput: 100,
  });
  await waitFor(() => smsc.boundSessions() === 2, 10_000, 'binds');
});

afterAll(async () => {
  await t?.cleanup();
  await smsc?.close();
  await hook?.close();
});

const messages = () => `/2010-04-01/Accounts/${t.accountSid}/Messages.json`;

async function eventsOf(query: string): Promise<Record<string, unknown>[]> {
  const r = await request(
    t,
    'GET',
    `/2010-04-01/Accounts/${t.accountSid}/Events.json?PageSize=200&${query}`,
  );
  expect(r.status).toBe(200);
  return r.json.events as Record<string, unknown>[];
}

describe('tags', () => {
  it('refuses malformed tags, too many, and too long ones with a 400 naming the tag', async () => {
    const base = 'To=%2B447700900001&From=%2B15550001111&Body=hi';
    const cases: [string, Record<string, string>][] = [
      [`${base}&Tags=bad%20tag%21`, {}],
      [`${base}&Tags=${'x'.repeat(65)}`, {}],
      [`${base}&${Array.from({ length: 11 }, (_, i) => `Tags=t${i}`).join('&')}`, {}],
      [base, { 'Switchboard-Tags': 'ok,spaces are bad' }],
      [base, { 'Switchboard-Tags': 'a,,b' }],
    ];
    for (const [body, headers] of cases) {
      const r = await request(t, 'POST', messages(), body, headers);
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.code).toBe(20001);
      expect(String(r.json.message)).toMatch(/tag/i);
    }
    // The header is checked on any API request, reads included.
    const read = await request(t, 'GET', messages(), undefined, { 'Switchboard-Tags': 'é' });
    expect(read.status).toBe(400);
    // Ten tags at the limit of length are fine; the server kept serving.
    const ten = Array.from({ length: 10 }, (_, i) => `Tags=${String(i).padEnd(64, 'a')}`);
    const ok = await request(t, 'POST', messages(), `${base}&${ten.join('&')}`);
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
  });

  it('follows a tagged message through its request, every status and its receipt', async () => {
    const created = await request(
      t,
      'POST',
      messages(),
      'To=%2B447700900002&From=%2B15550001111&Body=tagged' +
        `&StatusCallback=${encodeURIComponent(hook.url + '/status')}&Tags=campaign:spring&Tags=ab-test.B`,
      { 'Switchboard-Tags': 'team_7' },
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const sid = String(created.json.sid);
    await waitFor(
      () =>
        hook.calls.some(
          (c) => c.params.MessageSid === sid && c.params.MessageStatus === 'delivered',
        ),
      15_000,
      'delivered',
    );
    // An untagged message beside it carries none of them.
    const other = await request(
      t,
      'POST',
      messages(),
      'To=%2B447700900003&From=%2B15550001111&Body=x',
    );
    expect(other.status).toBe(201);
    await waitFor(
      async () => (await eventsOf(`InteractionSid=${sid}&Kind=message`)).length >= 2,
      10_000,
      'status events',
    );
    const all = await eventsOf(`InteractionSid=${sid}`);
    const kinds = new Set(all.map((e) => e.kind));
    expect(kinds).toEqual(new Set(['api-request', 'message']));
    const statuses = all
      .filter((e) => e.kind === 'message')
      .map((e) => (e.data as { status: string }).status);
    expect(statuses).toEqual(expect.arrayContaining(['sent', 'delivered']));
    for (const e of all) {
      // (The request also carries the route's own tag, `message`.)
      expect(e.tags, JSON.stringify(e)).toEqual(
        expect.arrayContaining(['ab-test.B', 'campaign:spring', 'team_7']),
      );
    }
    // The tag index selects exactly the interaction's events (and the request's own).
    const byTag = await eventsOf('Tag=campaign:spring');
    expect(byTag.map((e) => e.sid).sort()).toEqual(all.map((e) => e.sid).sort());
    expect(byTag.every((e) => e.interaction_sid === sid)).toBe(true);
    const otherEvents = await eventsOf(`InteractionSid=${String(other.json.sid)}`);
    expect(otherEvents.length).toBeGreaterThan(0);
    expect(otherEvents.every((e) => !(e.tags as string[]).includes('campaign:spring'))).toBe(true);
  });

  it('tags any API request by header, and retention removes old events with their tags', async () => {
    const r = await request(t, 'GET', messages(), undefined, {
      'Switchboard-Tags': 'probe:1, probe:2',
    });
    expect(r.status).toBe(200);
    await t.platform.events.flush();
    const tagged = await eventsOf('Tag=probe:2');
    expect(tagged).toHaveLength(1);
    expect(tagged[0]).toMatchObject({
      kind: 'api-request',
      method: 'GET',
      tags: ['probe:1', 'probe:2'],
    });
    const db = t.platform.store.kysely();
    const count = async (table: string) =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db))
          .rows[0]!.n,
      );
    expect(await count('event_tags')).toBeGreaterThan(0);
    const deleted = await t.platform.events.deleteBefore(Date.now() + 1);
    expect(deleted).toBeGreaterThan(0);
    expect(await count('event_tags')).toBe(0);
    expect(await eventsOf('Tag=probe:2')).toHaveLength(0);
  });
});
