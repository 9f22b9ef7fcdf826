import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, resourceOf, trustList } from './identity.js';
import { DEFAULT_OPTIONS, delayFor, statusMatcher, type ThrottleOptions } from './options.js';

const AC = 'AC' + 'a'.repeat(32);
const SK = 'SK' + 'b'.repeat(32);

describe('requester address', () => {
  const proxies = trustList(['10.0.0.0/8', '::1']);
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', proxies)).toBe('203.0.113.9');
  });
  it('takes the right-most hop that is not a trusted proxy', () => {
    expect(clientAddress('10.0.0.1', '1.2.3.4, 198.51.100.7, 10.0.0.2', proxies)).toBe(
      '198.51.100.7',
    );
    expect(clientAddress('::1', '198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:10.1.2.3', ['5.6.7.8', '10.9.9.9'], proxies)).toBe('5.6.7.8');
  });
  it('stops at a garbage hop and never returns garbage', () => {
    expect(clientAddress('10.0.0.1', 'x, <script>', proxies)).toBe('10.0.0.1');
    expect(clientAddress(undefined, '1.2.3.4', proxies)).toBe('unknown');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (xff) => {
        const a = clientAddress('10.0.0.1', xff, proxies);
        expect(a.length).toBeLessThanOrEqual(45);
      }),
    );
  });
  it('reads a bounded number of hops of a huge header', () => {
    const xff = Array.from({ length: 100_000 }, () => '10.1.1.1').join(',');
    expect(clientAddress('10.0.0.1', xff, proxies)).toBe('10.1.1.1');
  });
  it('refuses a malformed trusted proxy entry', () => {
    expect(() => trustList(['not-an-ip'])).toThrow(/not an address/);
  });
});

describe('resource key', () => {
  it('fills in SIDs and leaves other parameters as placeholders', () => {
    expect(
      resourceOf('GET', '/2010-04-01/Accounts/:AccountSid/Keys/:Sid.json', {
        AccountSid: AC,
        Sid: SK,
      }),
    ).toBe(`GET /2010-04-01/Accounts/${AC}/Keys/${SK}.json`);
    expect(
      resourceOf('GET', '/2010-04-01/Accounts/:AccountSid/Keys/:Sid.json', {
        AccountSid: AC,
        Sid: 'x'.repeat(5000),
      }),
    ).toBe(`GET /2010-04-01/Accounts/${AC}/Keys/:Sid.json`);
    expect(resourceOf('PUT', undefined, {})).toBe('PUT (unmatched)');
  });
});

describe('delay curve', () => {
  const o = (patch: Partial<ThrottleOptions>): ThrottleOptions => ({
    ...DEFAULT_OPTIONS,
    threshold: 3,
    delayMs: 100,
    maxDelayMs: 1000,
    ...patch,
  });
  it('does not delay below the threshold', () => {
    expect(delayFor(2.9, o({}))).toBe(0);
  });
  it('grows as configured and is capped', () => {
    const exp = o({ curve: 'exponential' });
    expect([3, 4, 5, 6, 7, 50].map((n) => delayFor(n, exp))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const lin = o({ curve: 'linear' });
    expect([3, 4, 5, 20].map((n) => delayFor(n, lin))).toEqual([100, 200, 300, 1000]);
    expect(delayFor(1e9, o({ curve: 'constant' }))).toBe(100);
    expect(delayFor(Number.MAX_SAFE_INTEGER, exp)).toBe(1000);
  });
  it('matches error statuses and ranges', () => {
    const m = statusMatcher(['400-499', '503']);
    expect([400, 404, 499, 500, 503, 200].map(m)).toEqual([true, true, true, false, true, false]);
    expect(() => statusMatcher(['4xx'])).toThrow();
  });
});
