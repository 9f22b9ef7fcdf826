// Caches of rarely changing rows, cleared on every node through the shared-state bus.
export { SharedCache, type SharedCacheOptions } from './shared-cache.js';
