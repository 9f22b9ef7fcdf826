// A transcript's way from queued to completed (or failed, with the reason): its sentences are
// made (a text transcript split, or a recording's channels recognised), every operator
// attached to its Service runs over them, and the Service's webhook is told. One node works
// on a transcript at a time (the queued → in-progress move is a guarded UPDATE); transcripts a
// stopped node left behind are taken up again by a sweep.
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter, Histogram } from 'prom-client';
import { newSid, type Logger } from '../core/index.js';
import type { AccountDirectory, CallRecordings } from '../plugin/index.js';
import { callWebhook } from '../webhook/index.js';
import type { SpeechEngine } from './asr/engine.js';
import { parseChannel } from './channel.js';
import type { Trainer } from './model/trainer.js';
import { runnable, servicePhrases } from './operators/resolve.js';
import { run } from './asr/process.js';
import { silencedRanges, writeSilenced } from './media-redaction.js';
import type { Sentence, Word } from './sentences.js';
import type { IntelligenceStore } from './store.js';
import type { SentenceRow, TranscriptRow } from './tables.js';

// The language models behind sentences and operators (wink-nlp, compromise, chrono: ~25 MB of
// heap) load with the first transcript, not at start: a node that never analyses one does not
// carry them, nor mark them in every major garbage collection.
const operators = () => import('./operators/run.js');
const sentenceSplitter = () => import('./sentences.js');

export interface PipelineOptions {
  readonly store: IntelligenceStore;
  readonly trainer: Trainer;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly speech: SpeechEngine | undefined;
  readonly recordings: CallRecordings | undefined;
  readonly accounts: AccountDirectory;
  /** How long a transcript may stay in progress before another node takes it over. */
  readonly staleMs: number;
  /** Largest media file fetched from a media URL. */
  readonly maxMediaBytes: number;
  /** Where redacted copies of transcripts' media are kept (`<transcript sid>.wav`). */
  readonly mediaDir: string;
}

/** The redacted media of a transcript, when its Service redacts media. */
export function redactedMediaPath(mediaDir: string, transcriptSid: string): string {
  return join(mediaDir, `${transcriptSid}.wav`);
}

/** A failure whose message is the reason the transcript shows. */
class TranscriptFailure extends Error {}

const MEDIA_TIMEOUT_MS = 60_000;

export class TranscriptPipeline {
  private readonly running = new Set<string>();
  private readonly done: Counter;
  private readonly seconds: Histogram;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: PipelineOptions) {
    this.done = new PromCounter({
      name: 'switchboard_intelligence_transcripts_total',
      help: 'Transcripts processed, by outcome',
      labelNames: ['status'],
      registers: [o.metrics],
    });
    this.seconds = new Histogram({
      name: 'switchboard_intelligence_transcript_seconds',
      help: 'Time from in-progress to completed or failed',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [o.metrics],
    });
  }

  /** Takes up transcripts left unfinished, then keeps sweeping for them. */
  start(sweepMs: number): void {
    const sweep = () => {
      void this.o.store
        .unfinished(Date.now() - this.o.staleMs, 50)
        .then((rows) => rows.forEach((r) => this.submit(r.sid, true)))
        .catch((err: unknown) => this.o.logger.error({ err }, 'transcript sweep failed'));
    };
    sweep();
    this.sweeper = setInterval(sweep, sweepMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (let i = 0; i < 100 && this.running.size > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
  }

  /** Processes a transcript in the background (taking it over when `stale`). */
  submit(sid: string, stale = false): void {
    if (this.running.has(sid) || this.stopped) return;
    this.running.add(sid);
    void this.process(sid, stale)
      .catch((err: unknown) =>
        this.o.logger.error({ err, transcript: sid }, 'transcript processing failed'),
      )
      .finally(() => this.running.delete(sid));
  }

  private async process(sid: string, stale: boolean): Promise<void> {
    const { store } = this.o;
    const claimed = await store.moveStatus(
      sid,
      stale ? ['queued', 'in-progress'] : ['queued'],
      'in-progress',
    );
    if (!claimed) return;
    const t = await store.transcriptBySid(sid);
    if (!t) return;
    const started = performance.now();
    try {
      const sentences = await this.sentencesOf(t);
      if (sentences.length === 0)
        throw new TranscriptFailure('no speech was recognised in the media');
      const rows: SentenceRow[] = sentences.map((s, i) => ({
        sid: newSid('GX'),
        transcript_sid: t.sid,
        account_sid: t.account_sid,
        sentence_index: i,
        media_channel: s.channel,
        start_ms: s.startMs,
        end_ms: s.endMs,
        confidence: s.confidence,
        text: s.text,
        redacted_text: null,
        words: s.words ? JSON.stringify(s.words) : null,
      }));
      const duration = Math.ceil((sentences.at(-1)?.endMs ?? 0) / 1000);
      await store.storeSentences(t, rows, duration);
      await this.analyse(t, rows);
      await this.redactMedia(t);
      await store.moveStatus(sid, ['in-progress'], 'completed', { error: null });
      this.done.inc({ status: 'completed' });
      await this.notify(t, 'completed');
    } catch (err) {
      const reason =
        err instanceof TranscriptFailure
          ? err.message
          : `processing failed: ${err instanceof Error ? err.message : String(err)}`;
      this.o.logger.warn({ transcript: sid, reason }, 'transcript failed');
      await store.moveStatus(sid, ['in-progress'], 'failed', { error: reason.slice(0, 500) });
      this.done.inc({ status: 'failed' });
      await this.notify(t, 'failed');
    } finally {
      this.seconds.observe((performance.now() - started) / 1000);
    }
  }

  /** Runs the Service's operators over the sentences and stores their results. */
  async analyse(t: TranscriptRow, rows: readonly SentenceRow[]): Promise<void> {
    const { store, trainer } = this.o;
    await store.clearAnalysis(t.sid);
    const texts = rows.map((r) => ({
      index: r.sentence_index,
      channel: r.media_channel,
      text: r.text,
    }));
    const service = await store.service(t.account_sid, t.service_sid);
    const sids = await store.attached(t.service_sid);
    const { redact, runOperator } = await operators();
    const redactAll = service?.auto_redaction === 1 || service?.media_redaction === 1;
    let redacted = false;
    for (const operatorSid of sids) {
      const op = await runnable(store, trainer, t.account_sid, operatorSid);
      if (!op) continue;
      const outcome = runOperator(op, texts);
      await store.storeResult(
        {
          transcript_sid: t.sid,
          operator_sid: op.sid,
          account_sid: t.account_sid,
          result: JSON.stringify(outcome.result),
          date_created: Date.now(),
        },
        outcome.labels.map((l) => ({
          account_sid: t.account_sid,
          transcript_sid: t.sid,
          operator_sid: op.sid,
          utterance_index: l.utteranceIndex,
          label: l.label,
          value: l.value,
          value_text: l.valueText,
        })),
      );
      if (outcome.redacted) {
        await store.redactSentences(t.sid, outcome.redacted);
        redacted = true;
      }
    }
    if (redactAll && !redacted) {
      const map = new Map<number, string>();
      for (const s of texts) {
        const r = redact(s.text);
        if (r !== s.text) map.set(s.index, r);
      }
      await store.redactSentences(t.sid, map);
    }
  }

  /** With the Service's media_redaction: a copy of the audio with the redacted words silenced. */
  private async redactMedia(t: TranscriptRow): Promise<void> {
    const service = await this.o.store.service(t.account_sid, t.service_sid);
    if (service?.media_redaction !== 1 || (!t.source_sid && !t.media_url)) return;
    const rows = await this.o.store.allSentences(t.sid);
    const ranges = silencedRanges(
      rows.map((r) => ({
        channel: r.media_channel,
        text: r.text,
        redactedText: r.redacted_text,
        words: r.words ? (JSON.parse(r.words) as Word[]) : null,
      })),
    );
    const dir = await mkdtemp(join(tmpdir(), 'sb-redact-'));
    try {
      let src: string;
      if (t.source_sid) {
        const rec = await this.o.recordings?.find(t.account_sid, t.source_sid);
        if (!rec) throw new TranscriptFailure(`recording ${t.source_sid} was not found`);
        src = rec.path;
      } else {
        src = join(dir, 'media');
        await this.download(t.media_url!, src);
      }
      await writeSilenced(src, redactedMediaPath(this.o.mediaDir, t.sid), ranges);
      this.o.logger.info(
        { transcript: t.sid, ranges: ranges.length },
        'media redacted: PII stretches silenced',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async sentencesOf(t: TranscriptRow): Promise<Sentence[]> {
    const { source } = parseChannel(t.channel);
    const { sentencesOfText, sentencesOfWords } = await sentenceSplitter();
    if (source.kind === 'text') return sentencesOfText(source.turns);
    const speech = this.o.speech;
    if (!speech)
      throw new TranscriptFailure(
        'no speech recognition engine is configured (SWITCHBOARD_ASR_ENGINE=none)',
      );
    const missing = await speech.unavailable();
    if (missing) throw new TranscriptFailure(missing);
    const dir = await mkdtemp(join(tmpdir(), 'sb-media-'));
    try {
      let path: string;
      let channels: number;
      if (source.kind === 'recording') {
        const rec = await this.o.recordings?.find(t.account_sid, source.recordingSid);
        if (!rec) throw new TranscriptFailure(`recording ${source.recordingSid} was not found`);
        if (rec.status !== 'completed')
          throw new TranscriptFailure(
            `recording ${source.recordingSid} is ${rec.status}, not completed`,
          );
        path = join(dir, 'recording.wav');
        await copyFile(rec.path, path);
        channels = rec.channels;
      } else {
        path = join(dir, 'media');
        await this.download(source.url, path);
        channels = await channelCount(path);
      }
      // The channels are recognised side by side (one decoder process each).
      const numbers = Array.from({ length: Math.max(1, Math.min(channels, 2)) }, (_, i) => i + 1);
      const context = { phrases: await servicePhrases(this.o.store, t.account_sid, t.service_sid) };
      const perChannel = await Promise.all(
        numbers.map(async (c) => ({ channel: c, words: await speech.recognize(path, c, context) })),
      );
      return sentencesOfWords(perChannel);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async download(url: string, path: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(MEDIA_TIMEOUT_MS) });
    } catch (err) {
      throw new TranscriptFailure(
        `media_url could not be fetched: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!res.ok) throw new TranscriptFailure(`media_url answered HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > this.o.maxMediaBytes)
      throw new TranscriptFailure(`media is larger than ${this.o.maxMediaBytes} bytes`);
    await writeFile(path, body);
    if ((await stat(path)).size === 0) throw new TranscriptFailure('media_url returned no data');
  }

  private async notify(t: TranscriptRow, outcome: 'completed' | 'failed'): Promise<void> {
    const service = await this.o.store.service(t.account_sid, t.service_sid);
    if (!service?.webhook_url) return;
    const authToken = await this.o.accounts.authToken(t.account_sid);
    if (!authToken) return;
    const method = service.webhook_http_method === 'GET' ? 'GET' : 'POST';
    const r = await callWebhook({
      url: service.webhook_url,
      method,
      authToken,
      attempts: 3,
      retryOnStatus: true,
      params: {
        account_sid: t.account_sid,
        service_sid: t.service_sid,
        transcript_sid: t.sid,
        customer_key: t.customer_key ?? '',
        event_type:
          outcome === 'completed'
            ? 'voice_intelligence_transcript_available'
            : 'voice_intelligence_transcript_failed',
        status: outcome,
      },
    });
    if (!r.ok)
      this.o.logger.warn(
        { transcript: t.sid, url: service.webhook_url, error: r.message },
        'transcript webhook not delivered',
      );
  }
}

async function channelCount(path: string): Promise<number> {
  const r = await run('soxi', ['-c', path], 10_000);
  const n = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isInteger(n) || n < 1)
    throw new TranscriptFailure(
      'the media is not audio this platform can read (WAV, FLAC, MP3 via sox)',
    );
  return n;
}
