// Child processes for audio conversion: sox (resampling, formats) and espeak-ng (TTS).
// Heavy work runs there, never on the media loop.

import { spawn } from 'node:child_process';

export class MediaToolError extends Error {
  override readonly name = 'MediaToolError';
  constructor(
    message: string,
    /** True when the program is not installed. */
    readonly missing = false,
  ) {
    super(message);
  }
}

const INSTALL_HINT: Readonly<Record<string, string>> = {
  sox: 'install it with `apt-get install sox` (scripts/setup-system.sh)',
  'espeak-ng': 'install it with `apt-get install espeak-ng` (scripts/setup-system.sh)',
};

/** Arguments for sox to write raw 8 kHz 16-bit mono little-endian samples to stdout. */
export const SOX_TO_8K = [
  '-t',
  'raw',
  '-r',
  '8000',
  '-c',
  '1',
  '-e',
  'signed-integer',
  '-b',
  '16',
  '-L',
  '-',
];

/**
 * Runs `program args`, writes `input` to its stdin, returns its stdout. Rejects with a
 * MediaToolError (missing program, non-zero exit, timeout).
 */
export function run(
  program: string,
  args: readonly string[],
  input: Uint8Array | string | undefined,
  timeoutMs = 30_000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const finish = (e: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(value ?? Buffer.alloc(0));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new MediaToolError(`${program} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        finish(
          new MediaToolError(
            `${program} is not installed: ${INSTALL_HINT[program] ?? 'install it'}`,
            true,
          ),
        );
      } else finish(new MediaToolError(`${program} failed to start: ${e.message}`));
    });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 16) err.push(d);
    });
    child.on('close', (code) => {
      if (code === 0) finish(undefined, Buffer.concat(out));
      else {
        const msg = Buffer.concat(err).toString('utf8').trim().slice(0, 500);
        finish(new MediaToolError(`${program} exited with ${code}: ${msg}`));
      }
    });
    child.stdin.on('error', () => undefined); // EPIPE when the program exits early
    child.stdin.end(input);
  });
}

/** Resamples any audio sox understands to 8 kHz mono samples. `type` is sox's -t (wav, mp3…). */
export async function soxTo8k(input: Uint8Array, type: string): Promise<Int16Array> {
  const raw = await run('sox', ['-V1', '-t', type, '-', ...SOX_TO_8K], input);
  return samplesOf(raw);
}

export function samplesOf(raw: Buffer): Int16Array {
  const n = Math.floor(raw.length / 2);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = raw.readInt16LE(i * 2);
  return out;
}
