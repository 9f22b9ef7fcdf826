// Kannel (Debian's `kannel`: bearerbox + smsbox) for bench/messaging's comparison: one SMPP
// transceiver connection to the same test SMSC, its sendsms HTTP interface driven with the same
// load as Switchboard's API, delivery reports (dlr-url) counted by a receiver here.
// Not installed: the comparison is skipped with a loud message (`scripts/setup-system.sh --bench`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface KannelRun {
  readonly smscPort: number;
  readonly seconds: number;
  readonly connections: number;
  readonly messages: number;
  /** The bench's free-port finder and wait helper. */
  readonly freePort: () => Promise<number>;
  readonly until: (
    check: () => boolean | Promise<boolean>,
    ms: number,
    what: string,
  ) => Promise<void>;
  /** Submits the test SMSC has received so far (all clients). */
  readonly submits: () => number;
  /** Bound sessions on the test SMSC. */
  readonly boundSessions: () => number;
  readonly cpuSeconds: (pid: number | undefined) => number;
  /** Kannel's message store on (store-type = spool: accepted messages survive a crash). */
  readonly durable: boolean;
  /**
   * Delivery reports asked for: the final one alone (dlr-mask 1), or also the SMSC's accepting
   * the submit (dlr-mask 9: 8 + 1), the two callbacks per message that Switchboard's status
   * callbacks make (`sent`, then `delivered`).
   */
  readonly reports: 'delivered' | 'sent+delivered';
  /**
   * Outstanding submits on its SMPP connection (max-pending-submits); undefined: Kannel's own
   * default, 10 (SMPP_MAX_PENDING_SUBMITS in its smsc_smpp.c).
   */
  readonly window?: number;
}

export interface KannelFigures {
  readonly acceptedPerSecond: number;
  readonly acceptP99Ms: number;
  readonly drainS: number;
  readonly endToEndPerSecond: number;
  readonly endToEndMessages: number;
  readonly endToEndS: number;
  readonly cpuUsPerMessage: number;
  /** Delivery report callbacks received in the end-to-end run. */
  readonly callbacks: number;
}

const BEARERBOX = ['/usr/sbin/bearerbox', 'bearerbox'];

export function kannelBinary(): string | undefined {
  for (const bin of BEARERBOX) {
    const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
    if (!r.error) return bin;
  }
  return undefined;
}

export async function runKannel(o: KannelRun): Promise<KannelFigures | undefined> {
  const bearerbox = kannelBinary();
  if (!bearerbox) {
    console.log(
      "\n!!! Kannel comparison SKIPPED: bearerbox not found. Install Debian's kannel " +
        '(scripts/setup-system.sh --bench, or apt-get install kannel) to measure it in the same run.\n',
    );
    return undefined;
  }
  const smsbox = bearerbox.replace(/bearerbox$/, 'smsbox');
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-kannel-'));
  const [adminPort, boxPort, sendPort] = [
    await o.freePort(),
    await o.freePort(),
    await o.freePort(),
  ];

  let delivered = 0;
  let deliveredAt: number[] = [];
  let callbacks = 0;
  const receiver = createHttpServer((req, res) => {
    callbacks++;
    if (req.url?.includes('type=1&')) {
      delivered++;
      deliveredAt.push(Date.now());
    }
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const dlrUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/dlr?type=%d&`;

  // Kannel's defaults otherwise: internal DLR storage; without a store (its default) an
  // accepted message does not survive a crash.
  mkdirSync(join(dir, 'spool'));
  const conf = join(dir, 'kannel.conf');
  writeFileSync(
    conf,
    `group = core
admin-port = ${adminPort}
admin-password = bench
smsbox-port = ${boxPort}
box-allow-ip = 127.0.0.1
log-file = "${join(dir, 'bearerbox.log')}"
log-level = 2
${o.durable ? `store-type = spool\nstore-location = "${join(dir, 'spool')}"\n` : ''}
group = smsc
smsc = smpp
smsc-id = testsmsc
host = 127.0.0.1
port = ${o.smscPort}
transceiver-mode = true
smsc-username = test
smsc-password = secret
system-type = ""
${o.window ? `max-pending-submits = ${o.window}\n` : ''}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${boxPort}
sendsms-port = ${sendPort}
log-file = "${join(dir, 'smsbox.log')}"
log-level = 2

group = sendsms-user
username = bench
password = bench
max-messages = 1

group = sms-service
keyword = default
text = "no service"
`,
  );
  const boundBefore = o.boundSessions();
  const procs: ChildProcess[] = [
    spawn(bearerbox, ['-v', '4', conf], { stdio: ['ignore', 'ignore', 'inherit'] }),
  ];
  const stop = async () => {
    for (const p of procs.reverse()) {
      p.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)]);
      p.kill('SIGKILL');
    }
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await o.until(() => o.boundSessions() > boundBefore, 20_000, 'Kannel bound to the SMSC');
    procs.push(spawn(smsbox, ['-v', '4', conf], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const base = `http://127.0.0.1:${sendPort}/cgi-bin/sendsms?username=bench&password=bench&from=15550001111&to=447700900123&text=benchmark+message`;
    await o.until(
      async () => (await fetch(base).catch(() => undefined))?.status === 202,
      20_000,
      'Kannel sendsms',
    );
    const cpu = () => procs.reduce((n, p) => n + o.cpuSeconds(p.pid), 0);

    // (1) Accepted through sendsms (no delivery reports asked), then its backlog drained.
    const s0 = o.submits();
    const warm = await autocannon({ url: base, connections: o.connections, duration: 2 });
    await o.until(() => o.submits() - s0 >= warm['2xx'], 600_000, 'Kannel warm-up drained');
    const s1 = o.submits();
    const a = await autocannon({ url: base, connections: o.connections, duration: o.seconds });
    const endedAt = Date.now();
    await o.until(() => o.submits() - s1 >= a['2xx'], 600_000, 'Kannel backlog drained');
    const drainS = (Date.now() - endedAt) / 1000;

    // (2) End to end: sendsms -> SMSC -> receipt -> dlr-url callback with type=1 (delivered).
    const mask = o.reports === 'delivered' ? 1 : 9;
    const withDlr = `${base}&dlr-mask=${mask}&dlr-url=${encodeURIComponent(dlrUrl)}`;
    delivered = 0;
    deliveredAt = [];
    callbacks = 0;
    const c0 = cpu();
    const t0 = Date.now();
    const b = await autocannon({ url: withDlr, connections: o.connections, amount: o.messages });
    await o.until(() => delivered >= b['2xx'], 600_000, 'Kannel delivery reports');
    // Ends at the last delivery report (autocannon reports that it is done at its next tick).
    const endToEndS = (deliveredAt[b['2xx'] - 1]! - t0) / 1000;
    return {
      acceptedPerSecond: Math.round(a.requests.average),
      acceptP99Ms: a.latency.p99,
      drainS,
      endToEndPerSecond: Math.round(b['2xx'] / endToEndS),
      endToEndMessages: b['2xx'],
      endToEndS,
      cpuUsPerMessage: Math.round(((cpu() - c0) / Math.max(1, b['2xx'])) * 1e6),
      callbacks,
    };
  } finally {
    await stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
