// Helpers to drive sipp (Debian sip-tester) against the engine: always under `timeout`,
// in a scratch directory, on a free local port.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIPP = '/usr/bin/sipp';
export const SCENARIOS = join(import.meta.dirname, 'scenarios');
export const PCAPS = '/usr/share/sip-tester';

/** True when sipp is present; when it is not, warn loudly (and fail under CI). */
export function haveSipp(): boolean {
  if (existsSync(SIPP)) return true;
  if (process.env.CI === 'true') return true; // let the tests run and fail
  console.warn(
    '\n*** sipp is not installed: skipping the SIP tests against sipp (apt-get install sip-tester) ***\n',
  );
  return false;
}

/** A UDP+TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  for (;;) {
    const sock = createSocket('udp4');
    const port = await new Promise<number>((resolve) =>
      sock.bind(0, '127.0.0.1', () => resolve(sock.address().port)),
    );
    sock.close();
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Kill any sipp still running (call from afterAll). */
export function killSipps(): void {
  // SIGTERM: `timeout` passes it on to sipp (SIGKILL would orphan sipp).
  for (const c of children) c.kill('SIGTERM');
  children.clear();
}

export interface SippRun {
  child: ChildProcess;
  done: Promise<SippResult>;
}

/** Start sipp with `args` (plus -nostdin, -i 127.0.0.1) under `timeout`. */
export function startSipp(args: string[], timeoutSec = 30): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const child = spawn(
    'timeout',
    ['-k', '3', String(timeoutSec), SIPP, ...args, '-i', '127.0.0.1', '-nostdin'],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      children.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function runSipp(args: string[], timeoutSec = 30): Promise<SippResult> {
  return startSipp(args, timeoutSec).done;
}

/** `Successful call` and `Failed call` cumulative counts from sipp's final screen. */
export function counts(out: string): { ok: number; failed: number } {
  const ok = /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(out);
  const failed = /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(out);
  return { ok: Number(ok?.[1] ?? -1), failed: Number(failed?.[1] ?? -1) };
}
