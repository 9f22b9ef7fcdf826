// Trackers over the REST API (/tracking/v1): CRUD with v1 paging and Twilio-style refusals;
// measurements of tagged interactions (count = interactions, events = their events, each
// measure's sum/avg/min/max/p95) in buckets; and two writers of one log counting exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/events/index.js';
import { createLogger } from '../../src/core/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform();
});

afterAll(async () => {
  await t?.cleanup();
});

const TRACKERS = '/tracking/v1/Trackers';

async function createTracker(form: string): Promise<Record<string, unknown>> {
  const r = await request(t, 'POST', TRACKERS, form);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

async function measurements(sid: string, query = ''): Promise<Record<string, unknown>> {
  const r = await request(t, 'GET', `${TRACKERS}/${sid}/Measurements${query}`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

/** One call of `ms` ms with its child leg: four events, one interaction. */
function call(tags: string[], ms: number, at: number): string {
  const sid = 'CA' + Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32);
  const child = 'CA' + Math.random().toString(16).slice(2).padEnd(32, '1').slice(0, 32);
  const log = t.platform.events;
  log.bind(sid, { accountSid: t.accountSid, tags });
  const base = { accountSid: t.accountSid, kind: 'call' as const, occurredAt: at };
  log.record({ ...base, subjectSid: sid, data: { status: 'ringing' } });
  log.record({ ...base, subjectSid: child, parentSid: sid, data: { status: 'ringing' } });
  log.record({ ...base, subjectSid: child, parentSid: sid, durationMs: ms / 2 });
  log.record({ ...base, subjectSid: sid, durationMs: ms, data: { status: 'completed' } });
  return sid;
}

describe('trackers', () => {
  it('are created (201), listed with v1 paging, fetched, updated and deleted', async () => {
    const a = await createTracker('FriendlyName=first&Tags=crud:a&Bucket=minute');
    expect(a).toMatchObject({
      friendly_name: 'first',
      tags: ['crud:a'],
      match: 'all',
      event_kinds: null,
      measures: ['duration', 'price', 'segments', 'message_segments'],
      bucket: 'minute',
    });
    expect(String(a.sid)).toMatch(/^TK[0-9a-f]{32}$/);
    await createTracker('FriendlyName=second&Tags=crud:b&Match=any&EventKinds=call&Measures=price');
    const page1 = await request(t, 'GET', `${TRACKERS}?PageSize=1`);
    expect(page1.status).toBe(200);
    const meta = page1.json.meta as Record<string, unknown>;
    expect(meta.key).toBe('trackers');
    expect((page1.json.trackers as unknown[]).length).toBe(1);
    const next = new URL(String(meta.next_page_url));
    const page2 = await request(t, 'GET', next.pathname + next.search);
    expect((page2.json.trackers as { friendly_name: string }[])[0]!.friendly_name).toBe('second');
    const updated = await request(
      t,
      'POST',
      `${TRACKERS}/${String(a.sid)}`,
      'Tags=crud:c&Match=any',
    );
    expect(updated.json).toMatchObject({ tags: ['crud:c'], match: 'any', friendly_name: 'first' });
    expect((await request(t, 'GET', `${TRACKERS}/${String(a.sid)}`)).json.tags).toEqual(['crud:c']);
    expect((await request(t, 'DELETE', `${TRACKERS}/${String(a.sid)}`)).status).toBe(204);
    const gone = await request(t, 'GET', `${TRACKERS}/${String(a.sid)}`);
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe(20404);
    const doc = await request(t, 'GET', '/openapi.json');
    expect(Object.keys(doc.json.paths as object)).toContain(
      '/tracking/v1/Trackers/{Sid}/Measurements',
    );
  });

  it('refuses bad trackers with 400s naming the fault', async () => {
    const bad = [
      'FriendlyName=x',
      'Tags=ok&EventKinds=phone-call',
      'Tags=ok&Measures=latency',
      'Tags=bad%21',
      'Tags=ok&Match=most',
      'Tags=ok&Bucket=week',
      `Tags=ok&FriendlyName=${'n'.repeat(65)}`,
    ];
    for (const form of bad) {
      const r = await request(t, 'POST', TRACKERS, form);
      expect(r.status, form).toBe(400);
      expect(r.json.code, form).toBe(20001);
    }
    const a = await createTracker('Tags=ok');
    const r = await request(
      t,
      'GET',
      `${TRACKERS}/${String(a.sid)}/Measurements?StartTime=2026-01-01&EndTime=2025-01-01`,
    );
    expect(r.status).toBe(400);
  });

  it('measures the interactions and events it follows, in buckets', async () => {
    const all = await createTracker('Tags=m:spring&Tags=m:web&Match=all&Bucket=minute');
    const any = await createTracker('Tags=m:spring&Tags=m:web&Match=any&Bucket=hour');
    const calls = await createTracker(
      'Tags=m:spring&EventKinds=call&Measures=duration&Bucket=minute',
    );
    const minute = 60_000;
    const t0 = Date.now() - (Date.now() % minute) - 5 * minute;
    // Four tagged calls (both tags) in two minutes, one call with only one tag.
    call(['m:spring', 'm:web'], 10_000, t0);
    call(['m:spring', 'm:web'], 20_000, t0 + 1000);
    call(['m:spring', 'm:web'], 30_000, t0 + minute);
    call(['m:spring', 'm:web'], 40_000, t0 + minute + 1);
    call(['m:spring'], 100_000, t0 + 2 * minute);
    // Three API requests tagged by header: each an interaction of its own.
    for (let i = 0; i < 3; i++) {
      const r = await request(t, 'GET', `${TRACKERS}?PageSize=1`, undefined, {
        'Switchboard-Tags': 'm:web',
      });
      expect(r.status).toBe(200);
    }
    const mAll = await measurements(String(all.sid));
    const totals = mAll.totals as Record<string, Record<string, number> | number>;
    expect(totals.count).toBe(4);
    expect(totals.events).toBe(16);
    // Durations: each call 10/20/30/40 s and its child leg half that.
    expect(totals.duration).toMatchObject({ sum: 150, min: 5, max: 40 });
    expect((totals.duration as Record<string, number>).avg).toBeCloseTo(150 / 8, 5);
    expect((totals.duration as Record<string, number>).p95).toBeGreaterThan(39.5);
    expect((totals.duration as Record<string, number>).p95).toBeLessThan(40.5);
    const series = mAll.series as { start_time: string; count: number; events: number }[];
    expect(series.map((s) => [s.count, s.events])).toEqual([
      [2, 8],
      [2, 8],
    ]);
    expect(series[0]!.start_time).toBe(new Date(t0).toISOString().replace('.000Z', 'Z'));

    const mAny = await measurements(String(any.sid));
    // 5 calls (20 events) + 3 requests; the requests' durations are theirs.
    expect((mAny.totals as Record<string, number>).count).toBe(8);
    expect((mAny.totals as Record<string, number>).events).toBe(23);
    expect(mAny.bucket).toBe('hour');

    const mCalls = await measurements(String(calls.sid), '?Bucket=day');
    expect(mCalls.totals).toMatchObject({ count: 5, events: 20 });
    expect(Object.keys(mCalls.totals as object).sort()).toEqual(['count', 'duration', 'events']);
    expect((mCalls.series as unknown[]).length).toBe(1);
  });

  it('counts each event once with two writers of one log', async () => {
    const tracker = await createTracker('Tags=two:writers&Bucket=minute');
    const logger = createLogger('silent');
    // A second node's log on the same database, with its own counter (the capability's).
    const second = new EventLog(t.platform.store, logger, { batchSize: 50, flushMs: 5 });
    const { TrackerRegistry } = await import('../../src/tracking/registry.js');
    const { TrackerCounter } = await import('../../src/tracking/counter.js');
    const registry = new TrackerRegistry(t.platform.store.kysely(), t.platform.state, logger);
    await registry.start();
    second.listen(new TrackerCounter(t.platform.store, registry));
    const n = 2000;
    const sids: string[] = [];
    for (let i = 0; i < n; i++) {
      const sid = `SM${i.toString(16).padStart(32, '0')}`;
      sids.push(sid);
      const log = i % 2 ? second : t.platform.events;
      log.bind(sid, { accountSid: t.accountSid, tags: ['two:writers'] });
    }
    await Promise.all([second.flush(), t.platform.events.flush()]);
    // Each message's three events are written by either node, interleaved.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) {
        const log = (i + round) % 2 ? second : t.platform.events;
        log.record({
          accountSid: t.accountSid,
          kind: 'message',
          subjectSid: sids[i]!,
          data: { status: ['queued', 'sent', 'delivered'][round], num_segments: 2 },
        });
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([second.close(), t.platform.events.flush()]);
    await registry.stop();
    const m = await measurements(String(tracker.sid));
    expect(m.totals).toMatchObject({ count: n, events: 3 * n });
    expect((m.totals as Record<string, Record<string, number>>).message_segments).toMatchObject({
      sum: 2 * n,
      min: 2,
      max: 2,
    });
  });
});
