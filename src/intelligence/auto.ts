// Auto-transcribe: a Service with `auto_transcribe` makes a transcript of every recording
// completed on its account's calls. Voice tells this node of each recording it stored as
// completed (the call-recordings port's onCompleted); a transcript already made from that
// recording for that Service is not made again.
import { newSid, type Logger } from '../core/index.js';
import type { CallRecordings } from '../plugin/index.js';
import type { TranscriptPipeline } from './pipeline.js';
import type { IntelligenceStore } from './store.js';
import type { ServiceRow, TranscriptRow } from './tables.js';

/** A queued transcript of `service`, as the Transcripts resource and auto-transcribe make it. */
export function queuedTranscript(
  service: ServiceRow,
  channel: Record<string, unknown>,
  fields: Pick<TranscriptRow, 'customer_key' | 'media_start_time' | 'source_sid' | 'media_url'>,
): TranscriptRow {
  const now = Date.now();
  return {
    sid: newSid('GT'),
    account_sid: service.account_sid,
    service_sid: service.sid,
    status: 'queued',
    channel: JSON.stringify(channel),
    language_code: service.language_code,
    duration: null,
    error: null,
    redaction: service.auto_redaction,
    data_logging: service.data_logging,
    text: null,
    date_created: now,
    date_updated: now,
    ...fields,
  };
}

export function autoTranscriber(
  store: IntelligenceStore,
  pipeline: TranscriptPipeline,
  recordings: CallRecordings,
  logger: Logger,
): (accountSid: string, recordingSid: string) => void {
  const make = async (accountSid: string, recordingSid: string) => {
    const services = await store.autoTranscribeServices(accountSid);
    if (services.length === 0) return;
    const rec = await recordings.find(accountSid, recordingSid);
    if (rec?.status !== 'completed') return;
    for (const service of services) {
      if (await store.transcriptOfSource(service.sid, recordingSid)) continue;
      const row = queuedTranscript(
        service,
        { media_properties: { source_sid: recordingSid } },
        {
          customer_key: null,
          media_start_time: rec.dateCreated,
          source_sid: recordingSid,
          media_url: null,
        },
      );
      await store.insertTranscript(row);
      logger.info(
        { transcript: row.sid, recording: recordingSid, service: service.sid },
        'recording auto-transcribed',
      );
      pipeline.submit(row.sid);
    }
  };
  return (accountSid, recordingSid) => {
    void make(accountSid, recordingSid).catch((err: unknown) =>
      logger.error({ err, recording: recordingSid }, 'auto-transcribe failed'),
    );
  };
}
