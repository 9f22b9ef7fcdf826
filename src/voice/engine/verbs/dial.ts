import { resolveUrl, type Next, type VerbContext } from '../context.js';
import type { DialVerb } from '../../twiml/index.js';

/** <Dial>: places the outgoing leg, bridges it, and reports DialCallStatus to the action. */
export async function dial(ctx: VerbContext, verb: DialVerb): Promise<Next | undefined> {
  const first = verb.nouns[0];
  const result =
    first?.noun === 'Conference'
      ? await ctx.joinConference(first, verb)
      : await ctx.dial({
          ...verb,
          // A noun's whisper and callbacks are relative to this document, as the rest.
          nouns: verb.nouns.map((n) =>
            n.noun === 'Conference'
              ? n
              : {
                  ...n,
                  url: n.url && resolveUrl(ctx, n.url),
                  statusCallback: n.statusCallback && resolveUrl(ctx, n.statusCallback),
                },
          ),
          recordingStatusCallback:
            verb.recordingStatusCallback && resolveUrl(ctx, verb.recordingStatusCallback),
        });
  if (!verb.action) return undefined;
  const status = result.status === 'answered' ? 'completed' : result.status;
  return {
    kind: 'fetch',
    url: resolveUrl(ctx, verb.action),
    method: verb.method,
    params: {
      ...ctx.params(),
      DialCallStatus: status,
      ...(result.callSid ? { DialCallSid: result.callSid } : {}),
      DialCallDuration: String(result.durationS),
      ...(result.recording
        ? {
            RecordingSid: result.recording.sid,
            RecordingUrl: result.recording.url,
            RecordingDuration: String(result.recording.durationS),
          }
        : {}),
    },
  };
}
