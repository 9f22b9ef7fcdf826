// Conferences: `<Dial><Conference>` rooms on the media mixer, their REST resources and their
// status callbacks. See docs/voice.md#conferences.
export { Conferences, type ConferencesOptions, type ConferenceCommand } from './conferences.js';
export { ConferenceStore } from './store.js';
export { conferenceRoutes } from './routes.js';
export { migrations } from './tables.js';
export type { AudioRoom, ConferenceAudio, ConferenceLeg, ConferenceOutcome } from './ports.js';
