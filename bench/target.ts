// Starts a bench server script in its own process (so the load generator does not share its
// event loop), from its bundle as `npm start` runs the platform (scripts/bundle.mjs), and reads
// the JSON line it prints once it serves. Log lines the platform writes to stdout before it
// (pino, one JSON object with a `level`) are skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function startTarget<T>(
  script: URL,
  kind: string,
): Promise<{ child: ChildProcess; target: T }> {
  const file = await bundle(relative(ROOT, fileURLToPath(script)));
  const child = spawn(process.execPath, ['--enable-source-maps', file, kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const target = await new Promise<T>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
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
  return { child, target };
}
