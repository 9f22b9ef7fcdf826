// The platform for bench/voice, in its own process and from its bundle as `npm start` runs it:
// SIP on a free port, one number whose module's webhook is the URL given as argument. Prints
// one JSON line ({ sipPort, dialect }), then answers each `report` line on stdin with one JSON
// line: the INVITE → first RTP packet latency of every call ended since the previous report
// (measured inside the engine) and the CPU time this process used meanwhile.
//   node <bundle> voice <webhook url> [<status callback url>]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { loadConfig } from '../src/core/index.js';
import { startPlatform } from '../src/platform.js';

const webhook = process.argv[3];
const statusCallback = process.argv[4];
if (!webhook) throw new Error('usage: voice-target voice <webhook url> [<status callback url>]');
const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-voice-'));
// On PostgreSQL and Redis, a schema and a key prefix of this run's own (dropped at the end):
// other engineers' runs share the database, and the bench's number must be free.
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
    redisPrefix: `sbbench:${run}:`,
    ...(schema ? { databaseSchema: schema } : {}),
  }),
);
const auth =
  'Basic ' + Buffer.from(`${platform.owner.sid}:${platform.owner.authToken}`).toString('base64');
const post = async (path: string, form: Record<string, string>) => {
  const res = await fetch(`${platform.url}/2010-04-01/Accounts/${platform.owner.sid}/${path}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { sid: string };
};
// A number naming a module uses the module's StatusCallback (as Twilio with an application).
const app = await post('Applications.json', {
  FriendlyName: 'bench',
  VoiceUrl: webhook,
  ...(statusCallback ? { StatusCallback: statusCallback } : {}),
});
await post('IncomingPhoneNumbers.json', {
  PhoneNumber: '+15550009999',
  VoiceApplicationSid: app.sid,
});

let firstMedia: number[] = [];
platform.telephony!.onFirstMedia((ms) => firstMedia.push(ms));
let cpuFrom = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'report') return;
  const cpu = process.cpuUsage(cpuFrom);
  console.log(JSON.stringify({ report: { cpuMs: (cpu.user + cpu.system) / 1000, firstMedia } }));
  firstMedia = [];
  cpuFrom = process.cpuUsage();
});
console.log(
  JSON.stringify({
    sipPort: platform.telephony!.sip.transport.port,
    dialect: platform.store.dialect,
  }),
);

const stop = () => {
  void platform
    .stop()
    .then(async () => {
      if (!schema) return;
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    })
    .finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
