// Recordings: their rows (every source: <Record>, Record=true, <Dial record>, conferences, the
// Call Recordings API), the Recordings resources, the recording parameters Calls create shares,
// and the port through which the routes command a live call's recording.
export { RecordingStore } from './store.js';
export type { RecordingRow } from './tables.js';
export type {
  CallRecordingControl,
  CallRecordingOptions,
  RecordedCalls,
  RecordingCommand,
  RecordingEvent,
  RecordingReply,
  RecordingTrack,
} from './control.js';
export { recordingOptions, recordingParamSpecs } from './params.js';
export {
  recordingRoutes,
  recordingJson,
  listRecordings,
  findRecording,
  deleteRecording,
  type RecordingScope,
} from './routes.js';
