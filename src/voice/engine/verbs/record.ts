import { rm } from 'node:fs/promises';
import { resolveUrl, until, type Next, type VerbContext } from '../context.js';
import type { RecordVerb } from '../../twiml/index.js';

/**
 * <Record>: beep, record the caller until a finish key, `timeout` seconds of silence,
 * maxLength or hang-up, trim the silence around it (trim-silence, the default), then report.
 * A recording with no sound in it is not kept: as on Twilio, the action is not requested and
 * the document goes on (warning 16102, and the `absent` event when asked for).
 */
export async function record(ctx: VerbContext, verb: RecordVerb): Promise<Next | undefined> {
  const { channel } = ctx;
  if (verb.playBeep) await until(ctx, channel.beep().done);
  if (ctx.signal.aborted && channel.isEnded) return undefined;
  const target = ctx.newRecording();
  const recording = channel.record({
    path: target.path,
    maxLengthS: verb.maxLengthS,
    silenceS: verb.timeoutS || undefined,
    trim: verb.trim === 'trim-silence',
  });
  const events = new Set(verb.recordingStatusCallbackEvents);
  const status = (event: 'in-progress' | 'completed' | 'absent', durationS: string) => {
    if (!verb.recordingStatusCallback) return;
    ctx.recordingStatus(
      resolveUrl(ctx, verb.recordingStatusCallback),
      verb.recordingStatusCallbackMethod,
      {
        ...ctx.params(),
        RecordingSid: target.sid,
        RecordingUrl: target.url,
        RecordingStatus: event,
        RecordingDuration: durationS,
        RecordingChannels: '1',
        RecordingSource: 'RecordVerb',
      },
      events.has(event),
    );
  };
  status('in-progress', '0');
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
  if (result.durationMs === 0) {
    await rm(result.path, { force: true });
    ctx.notify(
      16102,
      `<Record>: recording ${target.sid} was silent and is not kept`,
      null,
      'warning',
    );
    status('absent', '0');
    return undefined;
  }
  await ctx.saveRecording(result.path, result.durationMs, 'RecordVerb');
  const durationS = String(Math.round(result.durationMs / 1000));
  status('completed', durationS);
  // Twilio requests the action even when the caller hung up; its TwiML then no longer runs.
  return {
    kind: 'fetch',
    url: verb.action ? resolveUrl(ctx, verb.action) : ctx.documentUrl,
    method: verb.method,
    params: {
      ...ctx.params(),
      RecordingUrl: target.url,
      RecordingSid: target.sid,
      RecordingDuration: durationS,
      Digits: digits || 'hangup',
    },
  };
}
