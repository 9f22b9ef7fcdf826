export { openStore, type Store, type StoreOptions, type Dialect, type Statement } from './store.js';
export type { Kysely, Migration } from 'kysely';
export { keysetPage, type Keyed, type KeysetOrder, type KeysetPage } from './keyset.js';
