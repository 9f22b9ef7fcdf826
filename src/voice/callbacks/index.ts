// Status callbacks through a durable outbox: a call's, a recording's and a conference's events
// are stored before their first attempt and delivered in order, retried, by one node.
export { CallbackOutbox, type CallbackOutboxOptions, type OutboxItem } from './outbox.js';
export { StatusCallbacks, callbackTimestamp, type StatusEvent } from './status-callbacks.js';
export { RecordingCallbacks, type RecordingEventName } from './recording-callbacks.js';
export { migrations, type CallbackRow, type CallbackTables } from './tables.js';
