// The platform for bench/presence, in its own process and from its bundle as `npm start` runs
// it: TLS (wss /signal) and SIP on free ports, an API key for tokens, and one number whose
// webhook (the URL given as argument) dials a Client. Prints one JSON line, then answers each
// `report` line on stdin with the CPU time used since the previous report and its memory.
//   node <bundle> presence <webhook url>
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/core/index.js';
import { startPlatform } from '../src/platform.js';

const webhook = process.argv[3];
if (!webhook) throw new Error('usage: presence-target presence <webhook url>');
const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-presence-'));
const run = randomBytes(5).toString('hex');
const schema = process.env.DATABASE_URL ? `sbbench_${run}` : undefined;
const platform = await startPlatform(
  loadConfig(process.env, {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'warn',
    sipEnabled: true,
    sipPort: 0,
    sipHost: '127.0.0.1',
    rtpPorts: '30000-39999',
    tlsEnabled: true,
    tlsPort: 0,
    throttle: false,
    redisPrefix: `sbbench:${run}:`,
    ...(schema ? { databaseSchema: schema } : {}),
  }),
);
const key = await platform.accounts.createKey(platform.owner.sid, 'bench');
const number = '+15550017000';
const created = await fetch(
  `${platform.url}/2010-04-01/Accounts/${platform.owner.sid}/IncomingPhoneNumbers.json`,
  {
    method: 'POST',
    headers: {
      authorization:
        'Basic ' +
        Buffer.from(`${platform.owner.sid}:${platform.owner.authToken}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ PhoneNumber: number, VoiceUrl: webhook }).toString(),
  },
);
if (!created.ok) throw new Error(`number: ${created.status} ${await created.text()}`);
// The application calls the simulated SDK clients place run (bench/presence-media.ts).
const app = await fetch(
  `${platform.url}/2010-04-01/Accounts/${platform.owner.sid}/Applications.json`,
  {
    method: 'POST',
    headers: {
      authorization:
        'Basic ' +
        Buffer.from(`${platform.owner.sid}:${platform.owner.authToken}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      FriendlyName: 'bench media',
      VoiceUrl: `${new URL(webhook).origin}/media`,
    }).toString(),
  },
);
if (!app.ok) throw new Error(`application: ${app.status} ${await app.text()}`);
const appSid = ((await app.json()) as { sid: string }).sid;
let cpuFrom = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'report') return;
  const cpu = process.cpuUsage(cpuFrom);
  global.gc?.();
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      report: { cpuMs: (cpu.user + cpu.system) / 1000, rss: mem.rss, heapUsed: mem.heapUsed },
    }),
  );
  cpuFrom = process.cpuUsage();
});
console.log(
  JSON.stringify({
    tlsPort: platform.tls!.port,
    sipPort: platform.telephony!.sip.transport.port,
    accountSid: platform.owner.sid,
    keySid: key.row.sid,
    secret: key.secret,
    number,
    appSid,
  }),
);
const stop = async () => {
  await platform.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
