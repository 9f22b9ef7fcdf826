export { Accounts, toContext, type NewKey, type OwnerAccount } from './accounts.js';
export { accountRoutes } from './routes.js';
export { migrations } from './tables.js';
export type { AccountRow, AccountTables, KeyRow } from './tables.js';
export { accountsCapability, accountsHandle, type AccountsHandle } from './capability.js';
export { readOwnerCredentials } from './owner-credentials.js';
export {
  openSecrets,
  resealAll,
  sealStatus,
  keyIdsInUse,
  type Secrets,
  type SealStatus,
} from './secrets.js';
export { addKeyToFile, retireKeysInFile } from './sealing.js';
