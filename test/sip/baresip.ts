// Runs a baresip user agent for a test and drives it over its ctrl_tcp JSON port
// (netstring-framed commands). The one baresip launcher of the tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './sipp.js';

export const BARESIP = '/usr/bin/baresip';
export const BARESIP_MODULES = '/usr/lib/baresip/modules';

export function haveBaresip(): boolean {
  return (
    existsSync(BARESIP) &&
    existsSync(join(BARESIP_MODULES, 'ctrl_tcp.so')) &&
    spawnSync('sox', ['--version']).status === 0
  );
}

export interface Baresip {
  dir: string;
  sipPort: number;
  ctrlPort: number;
  /** stdout + stderr so far. */
  log(): string;
  command(cmd: string, params?: string): Promise<{ ok: boolean; data?: string }>;
  stop(): void;
}

/**
 * Starts baresip with one account line (`<sip:alice@example.com>;auth_pass=…`), sending
 * `source` (a WAV) as its microphone and dumping what it hears into `dir` (sndfile).
 */
export async function startBaresip(
  account: string,
  source: string,
  lifetimeS = 60,
): Promise<Baresip> {
  // A free port can be taken between the probe and baresip's bind (its TCP and TLS
  // listeners take more than one): try again on a fresh one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(account, source, lifetimeS);
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
    }
  }
}

async function launch(account: string, source: string, lifetimeS: number): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method poll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'audio_player aubridge,nil',
      'audio_alert aubridge,nil',
      `audio_source aufile,${source}`,
      `module_path ${BARESIP_MODULES}`,
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module account.so',
      'module menu.so',
      'module ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      `snd_path ${dir}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), account + '\n');
  writeFileSync(join(dir, 'contacts'), '');
  const child: ChildProcess = spawn(
    'timeout',
    ['-k', '2', String(lifetimeS), BARESIP, '-f', dir, '-t', String(lifetimeS)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 10_000;
  while (!out.includes('baresip is ready')) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`baresip did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    sipPort,
    ctrlPort,
    log: () => out,
    command: (cmd, params = '') => command(ctrlPort, cmd, params),
    stop() {
      child.kill('SIGTERM'); // through `timeout` to baresip
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One ctrl_tcp command, bounded by a timeout. */
function command(
  port: number,
  cmd: string,
  params: string,
): Promise<{ ok: boolean; data?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`baresip ${cmd}: no reply`));
    }, 5000);
    let buf = '';
    s.on('connect', () => {
      const json = JSON.stringify({ command: cmd, params, token: 't' });
      s.write(`${Buffer.byteLength(json)}:${json},`);
    });
    s.on('data', (d) => {
      buf += d.toString();
      // Netstrings: events may come before our response.
      for (;;) {
        const colon = buf.indexOf(':');
        if (colon <= 0) return;
        const len = Number(buf.slice(0, colon));
        if (buf.length < colon + 1 + len + 1) return;
        const msg = JSON.parse(buf.slice(colon + 1, colon + 1 + len)) as {
          ok: boolean;
          data?: string;
          response?: boolean;
        };
        buf = buf.slice(colon + 1 + len + 1);
        if (msg.response === true) {
          clearTimeout(timer);
          s.end();
          resolve(msg);
          return;
        }
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
