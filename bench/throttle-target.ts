// A server for bench/throttle, in its own process so that the load generators do not share its
// event loop. Kinds: sb-on / sb-off (the platform with the throttle on or off), ex-on / ex-off
// (Express 4 with or without express-slow-down). Prints one JSON line, then serves until killed.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { slowDown } from 'express-slow-down';
import { loadConfig } from '../src/core/index.js';
import { startPlatform } from '../src/platform.js';

const kind = process.argv[2] ?? 'sb-on';
const basic = (user: string, pass: string) =>
  'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

if (kind.startsWith('ex-')) {
  const app = express();
  app.disable('x-powered-by');
  if (kind === 'ex-on') {
    // As close to Switchboard's defaults as the library allows: key = IP + path, only failed
    // requests count, 5 tolerated in 60 s, then 100 ms doubling up to 10 s.
    app.use(
      slowDown({
        windowMs: 60_000,
        delayAfter: 5,
        delayMs: (used) => Math.min(10_000, 100 * 2 ** Math.min(used - 6, 30)),
        maxDelayMs: 10_000,
        skipSuccessfulRequests: true,
        keyGenerator: (req) => `${req.ip ?? ''}|${req.path}`,
        validate: false,
      }),
    );
  }
  app.get('/ok', (_req, res) => {
    res.json({ hello: 'world' });
  });
  app.get('/missing', (_req, res) => {
    res.status(404).json({ code: 20404, message: 'not found', status: 404 });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    console.log(JSON.stringify({ ok: { url: `${base}/ok` }, missing: { url: `${base}/missing` } }));
  });
  process.on('SIGTERM', () => process.exit(0));
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-throttle-'));
  const platform = await startPlatform(
    loadConfig(
      { ...process.env, SWITCHBOARD_CONFIG: undefined },
      {
        port: 0,
        host: '127.0.0.1',
        dataDir,
        logLevel: 'warn',
        sipEnabled: false,
        throttle: kind === 'sb-on',
        // On, but never refusing the benchmark's own load: its cost is still paid per request.
        throttleRate: 1_000_000_000,
        throttleConcurrency: 10_000,
      },
    ),
  );
  const { sid, authToken } = platform.owner;
  // The normal client is another account (a subaccount), as a second customer would be.
  const res = await fetch(`${platform.url}/2010-04-01/Accounts.json`, {
    method: 'POST',
    headers: {
      authorization: basic(sid, authToken),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'FriendlyName=normal',
  });
  const sub = (await res.json()) as { sid: string; auth_token: string };
  console.log(
    JSON.stringify({
      ok: {
        url: `${platform.url}/2010-04-01/Accounts/${sub.sid}.json`,
        authorization: basic(sub.sid, sub.auth_token),
      },
      missing: {
        url: `${platform.url}/2010-04-01/Accounts/${sid}/Keys/SK${'0'.repeat(32)}.json`,
        authorization: basic(sid, authToken),
      },
    }),
  );
  const stop = () => {
    void platform.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
