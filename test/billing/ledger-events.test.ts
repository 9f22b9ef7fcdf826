// Ledger entries are interaction events (kind `ledger`): the user's debit is part of the call's
// interaction and carries the call's tags; the publisher's credit is its own event, without
// its user's tags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsagePlan } from '../../src/billing/index.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.cleanup();
});

const PLAN: UsagePlan = {
  perMinuteMicros: 60_000,
  incrementSeconds: 1,
  perInvocationMicros: 0,
  currency: 'USD',
};

describe('ledger events', () => {
  it("carry the call's tags on the user's debit, and not on the publisher's credit", async () => {
    const publisher = await t.platform.accounts.createAccount(null, 'publisher');
    const callSid = 'CA' + 'e'.repeat(32);
    t.platform.events.bind(callSid, { accountSid: t.accountSid, tags: ['campaign:ledger'] });
    const now = Date.now();
    const seg = await t.platform.billing.openSegment({
      callSid,
      moduleSid: 'AP' + 'f'.repeat(32),
      moduleCode: 'acme.ivr',
      publisherAccountSid: publisher.sid,
      userAccountSid: t.accountSid,
      direction: 'inbound',
      plan: PLAN,
      startedMs: now - 30_000,
      first: true,
    });
    await t.platform.billing.closeSegment(seg.sid, now, 'hangup');
    await t.platform.events.flush();

    const mine = await request(
      t,
      'GET',
      `/2010-04-01/Accounts/${t.accountSid}/Events.json?Tag=campaign:ledger`,
    );
    const events = mine.json.events as { kind: string; data?: Record<string, unknown> }[];
    const kinds = events.map((e) => e.kind).sort();
    expect(kinds).toEqual(['ledger', 'segment']);
    const ledger = events.find((e) => e.kind === 'ledger');
    expect(JSON.stringify(ledger)).toContain('debit');
    expect(JSON.stringify(ledger)).toContain('-0.03');

    const theirs = await request(
      { url: t.url, accountSid: publisher.sid, authToken: publisher.auth_token },
      'GET',
      `/2010-04-01/Accounts/${publisher.sid}/Events.json`,
    );
    const credit = (theirs.json.events as { kind: string; tags?: string[] }[]).filter(
      (e) => e.kind === 'ledger',
    );
    expect(credit).toHaveLength(1);
    expect(JSON.stringify(credit[0])).toContain('credit');
    expect(JSON.stringify(credit[0])).not.toContain('campaign:ledger');
    expect(JSON.stringify(credit[0])).toContain('module:acme.ivr');
  });
});
