// Malformed and hostile input: each gets a specific Twilio error and the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
let accountPath: string;
beforeAll(async () => {
  t = await startTestPlatform({ bodyLimit: 64 * 1024 });
  accountPath = `/2010-04-01/Accounts/${t.accountSid}.json`;
});
afterAll(async () => {
  await t?.cleanup();
});

const stillServing = async () => {
  const ok = await request(t, 'GET', accountPath);
  expect(ok.status).toBe(200);
};

describe('bad input', () => {
  it.each([
    ['no credentials', async () => fetch(t.url + accountPath), 401, 20003],
    [
      'garbage Authorization header',
      async () => fetch(t.url + accountPath, { headers: { authorization: 'Basic !!!' } }),
      401,
      20003,
    ],
    ['unknown route', async () => fetch(t.url + '/2010-04-01/Nope.json'), 404, 20404],
    [
      'unknown method on a known path',
      async () => fetch(t.url + accountPath, { method: 'PUT' }),
      404,
      20404,
    ],
  ])('%s', async (_name, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      code,
      status,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
    });
    expect(typeof body.message).toBe('string');
    await stillServing();
  });

  it('answers 401 with a WWW-Authenticate challenge', async () => {
    const res = await fetch(t.url + accountPath);
    expect(res.headers.get('www-authenticate')).toContain('Basic');
  });

  it('refuses malformed form bodies', async () => {
    const res = await request(t, 'POST', accountPath, 'FriendlyName=%zz&x');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 20001 });
    expect(String(res.json.message)).toContain('Malformed');
    await stillServing();
  });

  it('refuses malformed JSON bodies', async () => {
    const res = await request(t, 'POST', accountPath, '{"FriendlyName": ', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 20001 });
  });

  it('accepts JSON bodies with PascalCase parameters', async () => {
    const res = await request(
      t,
      'POST',
      accountPath,
      JSON.stringify({ FriendlyName: 'from json' }),
      {
        'content-type': 'application/json',
      },
    );
    expect(res.status).toBe(200);
    expect(res.json.friendly_name).toBe('from json');
  });

  it('refuses unsupported content types with 415', async () => {
    const res = await request(t, 'POST', accountPath, '<xml/>', {
      'content-type': 'application/xml',
    });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ code: 20001, status: 415 });
  });

  it('refuses oversize bodies with 413', async () => {
    const res = await request(t, 'POST', accountPath, 'FriendlyName=' + 'a'.repeat(100 * 1024));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 20001, status: 413 });
    await stillServing();
  });

  it('refuses unknown parameters, naming them', async () => {
    const res = await request(t, 'POST', accountPath, 'FriendlyName=x&Colour=blue');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 20001 });
    expect(String(res.json.message)).toContain('Colour');
    const get = await request(t, 'GET', '/2010-04-01/Accounts.json?Bogus=1');
    expect(get.status).toBe(400);
  });

  it('refuses invalid parameter values', async () => {
    const res = await request(t, 'POST', accountPath, 'Status=sleeping');
    expect(res.status).toBe(400);
    expect(String(res.json.message)).toContain('Status');
    const size = await request(t, 'GET', '/2010-04-01/Accounts.json?PageSize=5000');
    expect(size.status).toBe(400);
    expect(String(size.json.message)).toContain('PageSize');
    const twice = await request(t, 'POST', accountPath, 'FriendlyName=a&FriendlyName=b');
    expect(twice.status).toBe(400);
  });

  it('answers bad SIDs with 404', async () => {
    for (const sid of [
      'AC123',
      'XX' + '0'.repeat(32),
      'AC' + 'G'.repeat(32),
      '%00%ff',
      'AC' + 'a'.repeat(150),
    ]) {
      const res = await request(t, 'GET', `/2010-04-01/Accounts/${sid}.json`);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ code: 20404 });
    }
    const key = await request(t, 'GET', `/2010-04-01/Accounts/${t.accountSid}/Keys/SKnope.json`);
    expect(key.status).toBe(404);
    await stillServing();
  });

  it('refuses bad paging tokens', async () => {
    for (const token of [
      'garbage',
      'PT!!!',
      'PT' + Buffer.from('{"a":1}').toString('base64url'),
      'PT' + Buffer.from('[]').toString('base64url'),
    ]) {
      const res = await request(
        t,
        'GET',
        `/2010-04-01/Accounts.json?PageToken=${encodeURIComponent(token)}`,
      );
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 20001 });
      expect(String(res.json.message)).toContain('PageToken');
    }
    const wrongShape = 'PT' + Buffer.from('["x", 5]').toString('base64url');
    const res = await request(t, 'GET', `/2010-04-01/Accounts.json?PageToken=${wrongShape}`);
    expect(res.status).toBe(400);
    await stillServing();
  });
});
