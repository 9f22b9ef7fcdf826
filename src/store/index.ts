export { openStore, type Store, type StoreOptions, type Dialect, type Statement } from './store.js';
export type { Kysely, Migration } from 'kysely';
export {
  selectPage,
  slicePage,
  sortBy,
  keysetPage,
  OLDEST_FIRST,
  NEWEST_FIRST,
  type KeyValue,
  type KeysetPage,
  type PageCursor,
  type PageSort,
  type SortKey,
} from './keyset.js';
