// A server for bench/api, run in its own process so that the load generator does not share
// its event loop: `bare` (Fastify hello-world) or `switchboard` (the platform). Prints one
// JSON line with what the load generator needs, then serves until killed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { loadConfig } from '../src/core/index.js';
import { startPlatform } from '../src/platform.js';

const kind = process.argv[2];
if (kind === 'bare') {
  const bare = Fastify();
  bare.get('/', async () => ({ hello: 'world' }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const a = bare.server.address();
  console.log(
    JSON.stringify({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/` }),
  );
  // Exit through process.exit so that --cpu-prof writes its profile.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const platform = await startPlatform(
    loadConfig(process.env, {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'warn',
      sipEnabled: false,
      // One credential sends every request here: lift the per-credential rate limit (10,000/s by
      // default) so that the figure is served requests, not 429s. The throttle still runs.
      throttleRate: 1_000_000_000,
    }),
  );
  const { sid, authToken } = platform.owner;
  console.log(
    JSON.stringify({
      url: `${platform.url}/2010-04-01/Accounts/${sid}.json`,
      authorization: 'Basic ' + Buffer.from(`${sid}:${authToken}`).toString('base64'),
      dialect: platform.store.dialect,
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
