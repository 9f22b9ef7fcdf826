// package.json says what the package is: its entry points exist, and the SDK helper's runtime
// dependency (twilio) is declared as an optional peer, so the server installs without it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin: Record<string, string>;
};

describe('package.json', () => {
  it('exports and bin name files that exist', () => {
    const targets = [...Object.values(pkg.exports), ...Object.values(pkg.bin)];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(existsSync(join(root, target)), target).toBe(true);
  });

  it('declares twilio, which ./sdk imports at run time, as an optional peer dependency', () => {
    const sdk = readFileSync(join(root, pkg.exports['./sdk']!), 'utf8');
    expect(sdk).toMatch(/from 'twilio'/);
    expect(pkg.peerDependencies?.twilio).toBeDefined();
    expect(pkg.peerDependenciesMeta?.twilio?.optional).toBe(true);
  });
});
