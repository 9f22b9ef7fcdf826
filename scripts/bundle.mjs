// Builds an entry point (the CLI, a benchmark's server) into one ESM file under .build/ with
// esbuild, and answers the file's path. Modules that run on worker threads of their own
// (src/**/*-thread.ts, loaded by path beside the module that starts them) are built beside it. The platform runs that file, not the sources through
// tsx: tsx transforms with esbuild's keepNames, which wraps every function a closure creates
// in a defineProperty call, and that showed as a large share of the API's hot path. Packages
// stay external (resolved from node_modules as usual). Rebuilt only when a source is newer.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.build');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function threadModules(dir) {
  const found = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(found, threadModules(path));
    else if (entry.name.endsWith('-thread.ts')) found[entry.name.slice(0, -3)] = path;
  }
  return found;
}

/** The bundle of `entry` (a path relative to the project root), built if it is stale. */
export async function bundle(entry) {
  const name = relative(ROOT, join(ROOT, entry)).replace(/[\\/]/g, '_').replace(/\.ts$/, '');
  const threads = threadModules(join(ROOT, 'src'));
  const file = join(OUT, `${name}.js`);
  const built = Math.min(
    mtime(file),
    ...Object.keys(threads).map((t) => mtime(join(OUT, `${t}.js`))),
  );
  const sources = [join(ROOT, 'src'), dirname(join(ROOT, entry))];
  if (built > 0 && sources.every((dir) => newestSource(dir) < built)) return file;
  const result = await build({
    entryPoints: { [name]: join(ROOT, entry), ...threads },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    outdir: OUT,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(OUT, { recursive: true });
  // Written beside, then renamed: a process starting at the same time never reads half a file.
  for (const output of result.outputFiles) {
    const tmp = `${output.path}.${process.pid}.tmp`;
    writeFileSync(tmp, output.contents);
    renameSync(tmp, output.path);
  }
  return file;
}

// `node scripts/bundle.mjs src/cli/main.ts` builds and prints the bundle's path.
if (process.argv[1] && basename(process.argv[1]) === 'bundle.mjs' && process.argv[2]) {
  console.log(await bundle(process.argv[2]));
}
