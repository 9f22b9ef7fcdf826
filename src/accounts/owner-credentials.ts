// The owner account's credentials, saved beside the data the first time the owner is created
// so that a newcomer can find them again (`switchboard` commands read them too).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OwnerAccount } from './accounts.js';

const CREDENTIALS_FILE = 'owner-credentials.json';

/** Saves the owner credentials readable by the owner only. */
export function saveOwnerCredentials(dataDir: string, owner: OwnerAccount): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, CREDENTIALS_FILE);
  writeFileSync(
    path,
    JSON.stringify({ accountSid: owner.sid, authToken: owner.authToken }, null, 2) + '\n',
    { mode: 0o600 },
  );
  chmodSync(path, 0o600);
  return path;
}

export function readOwnerCredentials(
  dataDir: string,
): { accountSid: string; authToken: string } | undefined {
  const path = join(dataDir, CREDENTIALS_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as { accountSid: string; authToken: string };
}
