// Starts a bench server script in its own process (so the load generator does not share its
// event loop), from its bundle as `npm start` runs the platform (scripts/bundle.mjs), and reads
// the JSON line it prints once it serves. Log lines the platform writes to stdout before it
// (pino, one JSON object with a `level`) are skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function startTarget<T>(
  script: URL,
  kind: string,
  options: { args?: readonly string[]; nodeArgs?: readonly string[] } = {},
): Promise<{ child: ChildProcess; target: T; lines: Interface }> {
  const file = await bundle(relative(ROOT, fileURLToPath(script)));
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--enable-source-maps', file, kind, ...(options.args ?? [])],
    // stdin stays open for targets that take commands (bench/voice asks for its figures).
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const rl = createInterface({ input: child.stdout! });
  const target = await new Promise<T>((resolve, reject) => {
    rl.on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (parsed && typeof parsed === 'object' && !('level' in parsed)) resolve(parsed as T);
    });
    child.once('exit', (code) => reject(new Error(`${kind} target exited with ${code}`)));
    setTimeout(() => reject(new Error(`${kind} target did not start in 30 s`)), 30_000).unref();
  });
  // Later lines (a target's answers to commands) reach whoever listens on `lines`.
  return { child, target, lines: rl };
}

/** CPU seconds (user + system) a process (or, by its stat file, one thread) has used so far (Linux /proc; 0 elsewhere). */
export function cpuSeconds(pid: number | undefined, file = `/proc/${pid}/stat`): number {
  try {
    const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return 0;
  }
}
