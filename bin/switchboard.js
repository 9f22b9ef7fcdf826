#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx's loader, so `npx switchboard` works
// without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
