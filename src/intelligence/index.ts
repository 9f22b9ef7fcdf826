// Conversational Intelligence (issue 15, docs/intelligence.md): transcripts from text, call
// recordings or media URLs; per-account operators that label each sentence with a state and
// extract its value; prebuilt operators; search. Twilio's Intelligence v2 API.
import { resolve } from 'node:path';
import type { Capability } from '../plugin/index.js';
import { accountDirectory, callRecordings } from '../plugin/index.js';
import type { SpeechEngine } from './asr/engine.js';
import { PocketSphinx } from './asr/pocketsphinx.js';
import { autoTranscriber } from './auto.js';
import { WhisperCpp } from './asr/whisper.js';
import { Trainer } from './model/trainer.js';
import { TranscriptPipeline } from './pipeline.js';
import { intelligenceRoutes } from './routes.js';
import { IntelligenceStore } from './store.js';
import { migrations } from './tables.js';

export { migrations as intelligenceMigrations } from './tables.js';

function speechEngine(
  name: string,
  whisperBin: string,
  whisperModel: string,
): SpeechEngine | undefined {
  if (name === 'none') return undefined;
  if (name === 'whisper-cpp') return new WhisperCpp(whisperBin, whisperModel);
  return new PocketSphinx();
}

export const intelligence: Capability = {
  name: 'intelligence',
  migrations,
  needs: [accountDirectory],
  async start(ctx) {
    const store = new IntelligenceStore(ctx.store);
    const trainer = new Trainer();
    const logger = ctx.logger;
    const c = ctx.config;
    const mediaDir = resolve(c.dataDir, 'intelligence-media');
    const pipeline = new TranscriptPipeline({
      store,
      trainer,
      logger,
      metrics: ctx.metrics,
      speech: speechEngine(c.asrEngine, c.asrWhisperBin, c.asrWhisperModel),
      recordings: ctx.want(callRecordings),
      accounts: ctx.need(accountDirectory),
      staleMs: 5 * 60_000,
      maxMediaBytes: 200 * 1024 * 1024,
      mediaDir,
    });
    pipeline.start(30_000);
    const recordings = ctx.want(callRecordings);
    const unsubscribe = recordings?.onCompleted(
      autoTranscriber(store, pipeline, recordings, logger),
    );
    const routes = intelligenceRoutes({
      store,
      pipeline,
      trainer,
      recordings,
      apiUrl: () => ctx.urls.public,
      mediaDir,
      onTrainFailed: (sid, err) => logger.error({ err, operator: sid }, 'operator training failed'),
    });
    return {
      routes,
      async stop() {
        unsubscribe?.();
        await pipeline.stop();
        await trainer.close();
      },
    };
  },
};
