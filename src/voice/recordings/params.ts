// The recording parameters shared by Calls create (Record=true) and the Call Recordings API:
// channels, track, trimming and the recording status callback.
import { Errors, TwilioError } from '../../core/index.js';
import type { ParamSpec, RestRequest } from '../../core/rest.js';
import type { CallRecordingOptions, RecordingEvent, RecordingTrack } from './control.js';

const METHODS = ['GET', 'POST'] as const;
const EVENTS: readonly RecordingEvent[] = ['in-progress', 'completed', 'absent'];
export const TRIMS = ['trim-silence', 'do-not-trim'] as const;

/** The parameters: Calls create and the Call Recordings API name them alike. */
export function recordingParamSpecs(): ParamSpec[] {
  return [
    { name: 'RecordingChannels', type: 'enum', values: ['mono', 'dual'] },
    { name: 'RecordingStatusCallback', type: 'url' },
    { name: 'RecordingStatusCallbackMethod', type: 'enum', values: METHODS },
    { name: 'RecordingStatusCallbackEvent', type: 'list' },
    { name: 'RecordingTrack', type: 'enum', values: ['inbound', 'outbound', 'both'] },
    { name: 'Trim', type: 'enum', values: TRIMS },
  ];
}

/**
 * A recording of the call as the request asks: `source` is Twilio's RecordingSource, and
 * `defaultTrim` what Trim means when absent (Twilio: trim-silence for Calls create,
 * do-not-trim for the Call Recordings API). RecordingStatusCallbackEvent values may come as
 * repeated parameters or space-separated.
 */
export function recordingOptions(
  input: RestRequest['input'],
  source: string,
  defaultTrim: (typeof TRIMS)[number],
): CallRecordingOptions {
  const events = (input.list('RecordingStatusCallbackEvent') ?? ['completed']).flatMap((e) =>
    e.split(/[\s,]+/).filter(Boolean),
  );
  const bad = events.find((e) => !EVENTS.includes(e as RecordingEvent));
  if (bad)
    throw new TwilioError(
      Errors.invalidParameter,
      `RecordingStatusCallbackEvent "${bad}" (in-progress, completed, absent)`,
    );
  return {
    source,
    track: (input.string('RecordingTrack') ?? 'both') as RecordingTrack,
    channels: input.string('RecordingChannels') === 'dual' ? 2 : 1,
    trim: (input.string('Trim') ?? defaultTrim) === 'trim-silence',
    statusCallback: input.string('RecordingStatusCallback'),
    statusCallbackMethod: (input.string('RecordingStatusCallbackMethod') ?? 'POST') as
      'GET' | 'POST',
    statusCallbackEvents: events as RecordingEvent[],
  };
}
