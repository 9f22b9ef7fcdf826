import type { SharedState } from '../state/index.js';
export type { ClientDevice, ClientPresence, RegisteredPhone } from '../plugin/index.js';
export type SharedStateLike = Pick<SharedState, 'publish' | 'subscribe'>;
