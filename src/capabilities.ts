// The capabilities this platform runs, in start order: a capability may need the ports of
// those above it. Adding a capability is one folder under src/ and one line here.
import { coverage } from './coverage/index.js';
import { intelligence } from './intelligence/index.js';
import type { Capability } from './plugin/index.js';
import { presence } from './presence/index.js';
import { tracking } from './tracking/index.js';

export const CAPABILITIES: readonly Capability[] = [presence, coverage, intelligence, tracking];
