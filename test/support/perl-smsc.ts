// Starts test/support/perl-smsc.pl: an SMSC on Debian's Net::SMPP (Perl), a different SMPP
// implementation from the npm `smpp` package the platform and its own test SMSC use.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const SCRIPT = fileURLToPath(new URL('./perl-smsc.pl', import.meta.url));

/** Perl with Net::SMPP (scripts/setup-system.sh installs libnet-smpp-perl). */
export function havePerlSmpp(): boolean {
  return spawnSync('perl', ['-MNet::SMPP', '-e', '1']).status === 0;
}

export interface PerlSmsc {
  readonly port: number;
  /** Accepted submits: the id as answered, destination and text. */
  readonly submits: { id: string; to: string; text: string }[];
  /** Submits read and lost (--drop): never accepted, never answered. */
  readonly drops: { to: string; text: string }[];
  close(): Promise<void>;
}

export async function startPerlSmsc(args: string[] = []): Promise<PerlSmsc> {
  const child: ChildProcess = spawn('perl', [SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: connections are served by forked children, which go with it.
    detached: true,
  });
  const submits: PerlSmsc['submits'] = [];
  const drops: PerlSmsc['drops'] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('perl SMSC did not start')), 10_000);
    child.once('exit', (code) => reject(new Error(`perl SMSC exited (${code})`)));
    lines.on('line', (line) => {
      const m = /^port (\d+)$/.exec(line);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
        return;
      }
      const s = /^SUBMIT (\S+) (\S+) (.*)$/.exec(line);
      if (s) submits.push({ id: s[1]!, to: s[2]!, text: s[3]! });
      const d = /^DROP (\S+) (.*)$/.exec(line);
      if (d) drops.push({ to: d[1]!, text: d[2]! });
    });
  });
  return {
    port,
    submits,
    drops,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        process.kill(-child.pid!, 'SIGTERM');
      }),
  };
}
