// Exactly once across a crash: a `switchboard serve` process logs tagged API requests as fast as
// clients send them and is killed (SIGKILL) while requests are in flight and answered requests'
// events still wait in its buffer. Started again on the same data, the tracker's measures equal
// what the log holds: every written event counted once, none counted that was not written.
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../support/platform.js';
import { serveSwitchboard, type Served } from '../support/serve.js';

let served: Served | undefined;

afterAll(async () => {
  await served?.cleanup();
});

describe('tracker counts across a SIGKILL', () => {
  it('equal the events the log kept, each counted once', async () => {
    // Batches wait up to a second: the kill lands with answered requests' events unwritten.
    served = await serveSwitchboard({ rtpPorts: '0', env: { SWITCHBOARD_EVENT_FLUSH_MS: '1000' } });
    await served.start();
    const s = served;
    const created = await request(
      s,
      'POST',
      '/tracking/v1/Trackers',
      'Tags=crash:kill&Bucket=minute',
    );
    expect(created.status).toBe(201);
    const tracker = String(created.json.sid);

    const agent = new Agent({ connections: 64, pipelining: 1 });
    const auth = 'Basic ' + Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64');
    let answered = 0;
    let failed = 0;
    let inFlight = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        inFlight++;
        try {
          const r = await fetch(`${s.url}/tracking/v1/Trackers/${tracker}`, {
            headers: { authorization: auth, 'switchboard-tags': 'crash:kill,load' },
            dispatcher: agent,
          } as RequestInit);
          await r.arrayBuffer();
          if (r.status === 200) answered++;
        } catch {
          failed++;
        } finally {
          inFlight--;
        }
      }
    };
    const loops = Array.from({ length: 48 }, loop);
    // Let several batches commit, then kill it mid-stream.
    await new Promise((r) => setTimeout(r, 3000));
    const inFlightAtKill = inFlight;
    const answeredAtKill = answered;
    await s.crash();
    stop = true;
    await Promise.all(loops);
    await agent.close();
    expect(inFlightAtKill, 'requests in flight when the kill landed').toBeGreaterThan(0);
    expect(answeredAtKill).toBeGreaterThan(50);
    expect(failed, 'requests cut by the kill').toBeGreaterThan(0);

    await s.start();
    // What the log kept: every tagged event, paged through the tag index.
    let kept = 0;
    let next: string | null =
      `/2010-04-01/Accounts/${s.accountSid}/Events.json?Tag=crash:kill&PageSize=1000`;
    while (next) {
      const page = await request(s, 'GET', next);
      expect(page.status).toBe(200);
      kept += (page.json.events as unknown[]).length;
      next = page.json.next_page_uri as string | null;
    }
    expect(kept).toBeGreaterThan(0);
    // Answered requests whose events were still buffered when the kill landed are gone: the
    // kill did land while events were in flight.
    expect(kept).toBeLessThan(answered);
    const m = await request(s, 'GET', `/tracking/v1/Trackers/${tracker}/Measurements`);
    expect(m.status).toBe(200);
    const totals = m.json.totals as { count: number; events: number; duration: { sum: number } };
    expect(totals.events).toBe(kept);
    // Each tagged request is an interaction of its own.
    expect(totals.count).toBe(kept);
  }, 180_000);
});
