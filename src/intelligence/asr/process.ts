// Runs a program with a bound on its time and on what it prints.
import { spawn } from 'node:child_process';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  program: string,
  args: readonly string[],
  timeoutMs: number,
  maxBytes = 32 * 1024 * 1024,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} took longer than ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const collect = (into: Buffer[]) => (b: Buffer) => {
      size += b.length;
      if (size > maxBytes) child.kill('SIGKILL');
      else into.push(b);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Whether a program can be found on PATH (or at its absolute path). */
export async function installed(program: string): Promise<boolean> {
  try {
    const r = await run('sh', ['-c', `command -v "$0"`, program], 5000);
    return r.code === 0 && r.stdout.trim() !== '';
  } catch {
    return false;
  }
}
