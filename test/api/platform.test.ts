// The platform as an operator meets it: restart keeps data, health, metrics, OpenAPI and
// the interaction event log.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/core/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('the running platform', () => {
  it('keeps its data across a restart', async () => {
    const sub = await t.client.api.v2010.accounts.create({ friendlyName: 'survivor' });
    const key = await t.client.newKeys.create({ friendlyName: 'kept' });
    await t.stop();
    t = await t.restart();
    const again = await t.client.api.v2010.accounts(sub.sid).fetch();
    expect(again.friendlyName).toBe('survivor');
    expect((await t.client.keys(key.sid).fetch()).friendlyName).toBe('kept');
  });

  it('saves the owner credentials under the data directory, readable by the owner only', () => {
    if (t.platform.store.dialect !== 'sqlite') return;
    const path = join(t.config.dataDir, 'owner-credentials.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      accountSid: t.accountSid,
      authToken: t.authToken,
    });
  });

  it('reports health, metrics and an OpenAPI document of what it implements', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok', state: 'ok' });

    await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}.json`);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /switchboard_http_requests_total\{method="GET",route="\/2010-04-01\/Accounts\/:AccountSid.json",status="200"\} \d+/,
    );

    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths)).toContain('/2010-04-01/Accounts/{AccountSid}/Keys.json');
    expect(Object.keys(doc.paths['/2010-04-01/Accounts/{AccountSid}/Keys.json'] ?? {})).toEqual([
      'get',
      'post',
    ]);
    expect(Object.keys(doc.paths)).toContain('/2010-04-01/Accounts/{AccountSid}/Events.json');
  });

  it('records every API request in the interaction event log', async () => {
    const path = `/2010-04-01/Accounts/${t.accountSid}.json`;
    await request(t, 'GET', path);
    await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Keys/SK${'0'.repeat(32)}.json`);
    const events = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Events.json?Kind=api-request&PageSize=20`,
    );
    expect(events.status).toBe(200);
    const list = events.json.events as Record<string, unknown>[];
    const miss = list.find((e) => String(e.resource).includes('/Keys/SK'));
    expect(miss).toMatchObject({
      kind: 'api-request',
      method: 'GET',
      status: 404,
      actor_sid: t.accountSid,
      tags: [],
    });
    const hit = list.find((e) => e.resource === path);
    expect(hit).toMatchObject({ status: 200, account_sid: t.accountSid });
    expect(typeof hit?.duration_ms).toBe('number');
  });

  it('documents every configuration key in README.md', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const key of Object.values(CONFIG_KEYS))
      expect(readme, key.env).toContain(`\`${key.env}\``);
  });
});
