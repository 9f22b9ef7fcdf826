// The capabilities this platform runs, in start order: a capability may need the ports of
// those above it (the composition checks it at start). Adding a capability is one folder under
// src/ and one line here.
import { accountsCapability } from './accounts/index.js';
import { billingCapability } from './billing/index.js';
import { coverage } from './coverage/index.js';
import { eventsCapability } from './events/index.js';
import { intelligence } from './intelligence/index.js';
import { messagingCapability } from './messaging/index.js';
import type { Capability } from './plugin/index.js';
import { presence } from './presence/index.js';
import { throttleCapability } from './throttle/index.js';
import { tracking } from './tracking/index.js';
import { voiceCapability } from './voice/index.js';

export const CAPABILITIES: readonly Capability[] = [
  accountsCapability, // offers account-directory
  eventsCapability, // offers interaction-log
  billingCapability, // needs both; offers billing (segments, ledger)
  presence, // offers client-presence (voice's <Dial><Client> rings its devices)
  voiceCapability, // needs billing; offers sms-numbers, call-recordings
  messagingCapability, // needs sms-numbers
  throttleCapability,
  coverage,
  intelligence, // needs call-recordings
  tracking,
];
