// A probe of the boundary check in `npm run lint`: dependency-cruiser, with the project's own
// rules, run on a small tree of wrong imports fails each of them, and passes the same tree
// without them (so the probe cannot pass by checking nothing).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'sb-boundaries-'));
  writeFileSync(
    join(d, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, path)), { recursive: true });
    writeFileSync(join(d, path), text);
  }
  return d;
}

async function cruise(d: string): Promise<{ ok: boolean; output: string }> {
  const bin = join(root, 'node_modules', '.bin', 'depcruise');
  const config = join(root, '.dependency-cruiser.cjs');
  try {
    const r = await run(bin, ['src', '--config', config, '--output-type', 'err'], { cwd: d });
    return { ok: true, output: r.stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const CLEAN = {
  'src/core/index.ts': 'export const core = 1;\n',
  'src/http/index.ts':
    "import { billing } from '../billing/index.js';\nexport const http = billing;\n",
  'src/voice/index.ts': "export { engine } from './engine/index.js';\n",
  'src/voice/engine/index.ts': "export { engine } from './engine.js';\n",
  'src/voice/engine/engine.ts':
    "import { core } from '../../core/index.js';\nexport const engine = core;\n",
  'src/billing/index.ts':
    "import { engine } from '../voice/index.js';\nexport const billing = engine;\n",
};

describe('the boundary check (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  it('passes a tree that keeps the rules', async () => {
    dir = tree(CLEAN);
    const r = await cruise(dir);
    expect(r.output).toContain('no dependency violations');
    expect(r.ok).toBe(true);
  }, 60_000);

  it('fails a deep import into another capability, an edge imported by a capability, a type-only cycle, and a deep import between parts of voice', async () => {
    dir = tree({
      ...CLEAN,
      // Deep: messaging reaches into voice's engine instead of voice/index.ts.
      'src/messaging/index.ts':
        "import { engine } from '../voice/engine/engine.js';\nexport const messaging = engine;\n",
      // An edge from a capability, two directories down (the old ESLint globs missed this).
      'src/billing/ledger/post.ts':
        "import { http } from '../../http/index.js';\nexport const post = http;\n",
      // A cycle made only of type imports.
      'src/billing/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'src/billing/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
      // Inside voice, one part reaching into another's files instead of its index.ts.
      'src/voice/calls/routes.ts':
        "import { engine } from '../engine/engine.js';\nexport const routes = engine;\n",
    });
    const r = await cruise(dir);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/only-through-index: src\/messaging\/index\.ts → src\/voice\/engine/);
    expect(r.output).toMatch(
      /capabilities-below-edges: src\/billing\/ledger\/post\.ts → src\/http/,
    );
    expect(r.output).toMatch(/no-cycles: src\/billing\/(a|b)\.ts/);
    expect(r.output).toMatch(
      /parts-through-index: src\/voice\/calls\/routes\.ts → src\/voice\/engine\/engine/,
    );
  }, 60_000);
});
