// HTTP carrier callbacks (delivery receipts and inbound messages posted by an HTTP carrier to
// /messaging/v1/Providers/{Sid}/Callbacks) as a broken or hostile carrier would send them:
// bodies of any shape, correctly signed or not, of the wrong type, garbage bytes. Each is
// answered 200 (taken), 400 (refused, Twilio error JSON), 401 (signature), 413/415 — never a 5xx
// — and the platform goes on serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../../src/messaging/carriers/http/contract.js';
import { fuzzRuns } from '../support/fuzz.js';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

const SECRET = 'carrier-secret-of-enough-length';
let t: TestPlatform;
let url: string;
let sid: string;

beforeAll(async () => {
  t = await startTestPlatform();
  const form = new URLSearchParams({
    Name: 'hostile-http',
    Kind: 'http',
    Settings: JSON.stringify({ url: 'http://127.0.0.1:9/unused', secret: SECRET }),
    Prices: JSON.stringify({ '1': 0.01 }),
    Throughput: '10',
  });
  const res = await request(t, 'POST', '/messaging/v1/Providers', form.toString());
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  url = String(res.json.callback_url);
  sid = String(res.json.sid);
});

afterAll(async () => {
  await t?.cleanup();
});

async function post(body: string | Uint8Array, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text };
}

function expectRefusalShape(r: { status: number; text: string }) {
  expect(r.status, r.text).toBeLessThan(500);
  if (r.status >= 400) {
    const json = JSON.parse(r.text) as { code?: unknown; status?: unknown };
    expect(typeof json.code).toBe('number');
    expect(json.status).toBe(r.status);
  }
}

const anything = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

describe('HTTP carrier callbacks from a hostile carrier', { timeout: 300_000 }, () => {
  it('signed bodies of any shape are taken or refused with a Twilio error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record(
            {
              type: fc.oneof(fc.constantFrom('receipt', 'inbound'), anything),
              message_id: anything,
              status: fc.oneof(fc.constantFrom('delivered', 'failed', 'sent'), anything),
              error_code: anything,
              from: anything,
              to: anything,
              body: anything,
              media_urls: anything,
              media_content_types: anything,
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue({ maxDepth: 4 }),
        ),
        async (payload) => {
          const body = JSON.stringify(payload);
          expectRefusalShape(await post(body, signedHeaders(SECRET, body)));
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('garbage, unsigned, wrongly typed and oversized bodies are refused, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.boolean(),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (bytes, signed, type) => {
          const text = Buffer.from(bytes).toString('latin1');
          const headers: Record<string, string> = signed
            ? { ...signedHeaders(SECRET, text), 'content-type': type }
            : { 'content-type': type, 'x-switchboard-signature': 'v1=' + 'ab'.repeat(32) };
          const r = await post(text, headers);
          expectRefusalShape(r);
          expect(r.status).not.toBe(200);
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
    const huge = JSON.stringify({ type: 'inbound', body: 'x'.repeat(3_000_000) });
    const r = await post(huge, signedHeaders(SECRET, huge));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });

  it('still serves afterwards', async () => {
    expect((await request(t, 'GET', `/messaging/v1/Providers/${sid}`)).status).toBe(200);
  });
});
