import { resolveUrl, until, type Next, type VerbContext } from '../context.js';
import type { RecordVerb } from '../../twiml/verbs.js';

/** <Record>: beep, record the caller until a finish key, maxLength or hang-up, then report. */
export async function record(ctx: VerbContext, verb: RecordVerb): Promise<Next | undefined> {
  const { channel } = ctx;
  if (verb.playBeep) await until(ctx, channel.beep().done);
  if (ctx.signal.aborted && channel.isEnded) return undefined;
  const recording = channel.record({ path: ctx.recordingPath(), maxLengthS: verb.maxLengthS });
  let digits = '';
  const unsubscribe = channel.onDigit((d) => {
    if (verb.finishOnKey.includes(d) && digits === '') {
      digits = d;
      void recording.stop();
    }
  });
  const onAbort = () => void recording.stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let result: { path: string; durationMs: number };
  try {
    result = await recording.done;
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const saved = await ctx.saveRecording(result.path, result.durationMs, 'RecordVerb');
  const durationS = String(Math.round(result.durationMs / 1000));
  if (verb.recordingStatusCallback) {
    ctx.recordingStatus(
      resolveUrl(ctx, verb.recordingStatusCallback),
      verb.recordingStatusCallbackMethod,
      {
        ...ctx.params(),
        RecordingSid: saved.sid,
        RecordingUrl: saved.url,
        RecordingStatus: 'completed',
        RecordingDuration: durationS,
        RecordingChannels: '1',
        RecordingSource: 'RecordVerb',
      },
    );
  }
  // Twilio requests the action even when the caller hung up; its TwiML then no longer runs.
  return {
    kind: 'fetch',
    url: verb.action ? resolveUrl(ctx, verb.action) : ctx.documentUrl,
    method: verb.method,
    params: {
      ...ctx.params(),
      RecordingUrl: saved.url,
      RecordingSid: saved.sid,
      RecordingDuration: durationS,
      Digits: digits || 'hangup',
    },
  };
}
