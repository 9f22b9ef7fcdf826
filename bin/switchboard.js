#!/usr/bin/env node
// Runs the CLI from its bundle (scripts/bundle.mjs builds it from the TypeScript sources when
// they changed), so `npx switchboard` and `npm start` need no separate build step.
import { pathToFileURL } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';

process.setSourceMapsEnabled(true);
await import(pathToFileURL(await bundle('src/cli/main.ts')).href);
