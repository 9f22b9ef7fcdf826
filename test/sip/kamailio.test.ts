// Scale-out: two engine processes behind a Kamailio dispatcher started by the test. Calls
// from sipp are spread over both nodes, and each call's ACK and BYE reach the node that
// answered it (Kamailio record-routes; in-dialog requests follow the node's Contact).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIOS, counts, freePort, haveSipp, killSipps, runSipp } from './sipp.js';

const KAMAILIO = '/usr/sbin/kamailio';
const HERE = join(import.meta.dirname, 'kamailio');

function haveKamailio(): boolean {
  if (existsSync(KAMAILIO) || process.env.CI === 'true') return true;
  console.warn('\n*** kamailio is not installed: skipping the dispatcher scale-out test ***\n');
  return false;
}

interface NodeEvent {
  node: string;
  event: string;
  port?: number;
  callId?: string;
  reason?: string;
}

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
afterAll(async () => {
  killSipps();
  // SIGTERM reaches Kamailio through `timeout`, and Kamailio stops its worker processes.
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startNode(name: string, events: NodeEvent[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'node.ts'), name], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`node ${name} did not start`)), 20_000);
    lines.on('line', (line) => {
      const e = JSON.parse(line) as NodeEvent;
      events.push(e);
      if (e.event === 'ready') {
        clearTimeout(t);
        resolve(e.port as number);
      }
    });
  });
}

describe.skipIf(!haveSipp() || !haveKamailio())(
  'two engine nodes behind Kamailio dispatcher',
  () => {
    it('spreads calls over both nodes and keeps each call on its node', async () => {
      const events: NodeEvent[] = [];
      const [portA, portB] = await Promise.all([startNode('A', events), startNode('B', events)]);
      const kport = await freePort();
      const list = join(dir, 'dispatcher.list');
      writeFileSync(list, `1 sip:127.0.0.1:${portA}\n1 sip:127.0.0.1:${portB}\n`);
      const cfg = join(dir, 'kamailio.cfg');
      writeFileSync(
        cfg,
        readFileSync(join(HERE, 'kamailio.cfg'), 'utf8')
          .replaceAll('LISTEN_PORT', String(kport))
          .replaceAll('DISPATCHER_LIST', list),
      );
      const kam = spawn(
        'timeout',
        [
          '-k',
          '3',
          '60',
          KAMAILIO,
          '-f',
          cfg,
          '-DD',
          '-E',
          '-m',
          '64',
          '-M',
          '8',
          '-Y',
          dir,
          '-w',
          dir,
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      children.push(kam);
      let log = '';
      kam.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      // sipp retransmits its INVITE (500 ms) if Kamailio is still starting.
      await new Promise((r) => setTimeout(r, 1000));
      const r = await runSipp(
        [
          '-sf',
          join(SCENARIOS, 'uac-routed.xml'),
          `127.0.0.1:${kport}`,
          '-m',
          '10',
          '-r',
          '10',
          '-p',
          String(await freePort()),
          '-timeout',
          '30s',
        ],
        45,
      );
      expect(counts(r.stdout), `${r.stderr}\n${log.slice(-2000)}`).toEqual({ ok: 10, failed: 0 });
      // Give the last BYE's event line a moment to arrive.
      const deadline = Date.now() + 5000;
      while (events.filter((e) => e.event === 'ended').length < 10 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));

      const invitedAt = new Map<string, string>();
      for (const e of events) if (e.event === 'invite') invitedAt.set(e.callId as string, e.node);
      const ended = events.filter((e) => e.event === 'ended');
      expect(invitedAt.size).toBe(10);
      expect(ended).toHaveLength(10);
      for (const e of ended) {
        expect(e.reason).toBe('bye');
        expect(e.node).toBe(invitedAt.get(e.callId as string)); // the BYE reached the same node
      }
      const perNode = [...invitedAt.values()].reduce<Record<string, number>>(
        (acc, n) => ({ ...acc, [n]: (acc[n] ?? 0) + 1 }),
        {},
      );
      expect(perNode.A).toBeGreaterThanOrEqual(3);
      expect(perNode.B).toBeGreaterThanOrEqual(3);
    }, 90_000);
  },
);
