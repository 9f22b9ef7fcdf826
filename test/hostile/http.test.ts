// Hostile HTTP at the REST edge, generated from the route table (/openapi.json): random
// operations with random form, JSON and garbage bodies, wrong types, huge and deeply nested
// payloads, odd content types. Every answer is a Twilio error or a success — never a 5xx — and
// the platform still serves afterwards. SWITCHBOARD_FUZZ_RUNS raises the number of cases.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { fuzzRuns } from '../support/fuzz.js';

let t: TestPlatform;
let operations: { method: string; path: string; params: string[] }[];
const auth = () => 'Basic ' + Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64');

beforeAll(async () => {
  t = await startTestPlatform();
  const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  operations = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op['x-switchboard-access'] === 'public') continue; // signed peers: their own tests
      const body = op.requestBody as
        | { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
        | undefined;
      const query = (op.parameters as { name: string; in: string }[] | undefined) ?? [];
      const params = [
        ...Object.keys(body?.content['application/x-www-form-urlencoded']?.schema.properties ?? {}),
        ...query.filter((p) => p.in === 'query').map((p) => p.name),
      ];
      operations.push({ method: method.toUpperCase(), path, params });
    }
  }
}, 60_000);
afterAll(async () => {
  await t?.cleanup();
});

async function send(method: string, path: string, body: string | undefined, type: string) {
  const res = await fetch(t.url + path, {
    method,
    headers: { authorization: auth(), ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined && method !== 'GET' ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, text };
}

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '-1', '1e309', 'NaN', 'true', '0x10', '%00', '../../etc/passwd', '\u0000'),
  fc.integer().map(String),
  fc.string({ minLength: 2000, maxLength: 5000 }),
);

describe('hostile HTTP requests on every route', () => {
  it('never answers 5xx, and answers every refusal as Twilio error JSON', async () => {
    const fill = (path: string, sid: string) =>
      path.replace(/\{AccountSid\}/g, t.accountSid).replace(/\{[A-Za-z]+\}/g, sid);
    const bad: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 6 }),
        fc.array(value, { maxLength: 4 }),
        fc.constantFrom('form', 'json', 'json-array', 'garbage', 'xml'),
        fc.constantFrom('XX0123456789abcdef0123456789abcdef', 'x', '%2e%2e', 'A'.repeat(150)),
        async (pick, extra, known, kind, sid) => {
          const op = operations[pick % operations.length]!;
          // The route's own parameter names with hostile values, plus unknown ones.
          const fields: Record<string, string | string[]> = { ...extra };
          op.params.forEach((name, i) => {
            if (known[i] !== undefined)
              fields[name] = i % 3 === 2 ? [known[i]!, 'again'] : known[i]!;
          });
          let body: string;
          let type = 'application/x-www-form-urlencoded';
          if (kind === 'form') {
            const form = new URLSearchParams();
            for (const [k, v] of Object.entries(fields))
              for (const x of [v].flat()) form.append(k, x);
            body = form.toString();
          } else if (kind === 'json' || kind === 'json-array') {
            type = 'application/json';
            body = JSON.stringify(kind === 'json' ? fields : [fields, { nested: fields }]);
          } else if (kind === 'xml') {
            type = 'text/xml';
            body = '<Response><Say>hi</Say></Response>';
          } else {
            body = '%%%=&&=\u0000\ud800';
          }
          let path = fill(op.path, sid);
          if (op.method === 'GET' || op.method === 'DELETE') {
            const q = new URLSearchParams();
            for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) q.append(k, x);
            path += `?${q.toString()}`;
          }
          const res = await send(op.method, path, op.method === 'POST' ? body : undefined, type);
          if (res.status >= 500 || (res.status >= 400 && !/"code":\d+/.test(res.text))) {
            bad.push(
              `${op.method} ${path.slice(0, 120)} (${kind}) → ${res.status} ${res.text.slice(0, 200)}`,
            );
          }
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
    expect(bad).toEqual([]);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, 180_000);

  it('refuses huge, deeply nested and mistyped bodies, and keeps serving', async () => {
    const path = `/2010-04-01/Accounts/${t.accountSid}/Queues.json`;
    const nested = '{"FriendlyName":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    const wide = new URLSearchParams();
    for (let i = 0; i < 20_000; i++) wide.append(`P${i}`, 'x');
    for (const [body, type] of [
      [nested, 'application/json'],
      [wide.toString(), 'application/x-www-form-urlencoded'],
      ['x'.repeat(3_000_000), 'application/x-www-form-urlencoded'],
      ['{"FriendlyName":{"a":1}}', 'application/json'],
      ['{"FriendlyName":["a","b"]}', 'application/json'],
      ['{"FriendlyName":12,"MaxSize":"many"}', 'application/json'],
      ['{"__proto__":{"admin":true},"FriendlyName":"p"}', 'application/json'],
      ['[1,2,3]', 'application/json'],
      ['null', 'application/json'],
    ] as const) {
      const res = await send('POST', path, body, type);
      expect(res.status, `${body.slice(0, 40)} → ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(res.status).toBeLessThan(500);
      expect(res.text).toMatch(/"code":\d+/);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ok = await send('POST', path, 'FriendlyName=after', 'application/x-www-form-urlencoded');
    expect(ok.status).toBe(201);
  }, 60_000);
});
