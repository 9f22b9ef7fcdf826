// Rooms whose node is gone: a single node ends the rooms it left open when it restarts, and
// every node's sweep ends rooms that no node claims any more (a crashed node of several).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid } from '../../src/core/index.js';
import { ConferenceStore } from '../../src/voice/index.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

async function orphan(store: ConferenceStore, name: string, ageMs: number): Promise<string> {
  const sid = newSid('CF');
  const at = Date.now() - ageMs;
  await store.insert({
    sid,
    account_sid: t.accountSid,
    friendly_name: name,
    status: 'in-progress',
    reason_conference_ended: null,
    call_sid_ending_conference: null,
    node_id: 'a-node-that-crashed',
    date_created: at,
    date_updated: at,
  });
  await store.insertParticipant({
    conference_sid: sid,
    call_sid: newSid('CA'),
    account_sid: t.accountSid,
    label: null,
    status: 'connected',
    muted: 0,
    hold: 0,
    start_conference_on_enter: 1,
    end_conference_on_exit: 0,
    date_created: at,
    date_updated: at,
  });
  return sid;
}

describe('conferences left by a node that stopped', () => {
  it('the sweep ends unclaimed rooms older than a claim; a restart of a single node ends the rest', async () => {
    const store = new ConferenceStore(t.platform.store);
    const old = await orphan(store, 'old-room', 120_000);
    const fresh = await orphan(store, 'fresh-room', 0);
    expect(await t.platform.conferences.sweep()).toBe(1);
    const ended = await t.client.conferences(old).fetch();
    expect(ended).toMatchObject({
      status: 'completed',
      reasonConferenceEnded: 'last-participant-left',
    });
    expect(await t.client.conferences(old).participants.list()).toEqual([]);
    expect((await t.client.conferences(fresh).fetch()).status).toBe('in-progress');
    if (process.env.REDIS_URL) return; // several nodes: a starting node leaves others' rooms alone
    t = await t.restart();
    expect((await t.client.conferences(fresh).fetch()).status).toBe('completed');
    expect(await t.client.conferences.list({ status: 'in-progress' })).toEqual([]);
  });
});
