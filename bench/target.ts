// Starts a bench server script in its own process (so the load generator does not share its
// event loop) and reads the JSON line it prints once it serves. Log lines the platform writes
// to stdout before it (pino, one JSON object with a `level`) are skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startTarget<T>(
  script: URL,
  kind: string,
): Promise<{ child: ChildProcess; target: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script.pathname, kind], {
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
