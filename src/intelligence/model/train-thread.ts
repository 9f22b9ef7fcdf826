// The thread that trains state classifiers (trainer.ts), so that a few seconds of training
// never hold up the event loop serving the API.
import { parentPort } from 'node:worker_threads';
import { train, type LabelledText, type TrainedModel } from './classifier.js';

export interface TrainRequest {
  readonly id: number;
  readonly examples: readonly LabelledText[];
}

export type TrainReply =
  | { readonly id: number; readonly ok: true; readonly model: TrainedModel }
  | { readonly id: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port) {
  port.on('message', (m: TrainRequest) => {
    try {
      const model = train(m.examples);
      port.postMessage({ id: m.id, ok: true, model } satisfies TrainReply, [
        model.weights.buffer as ArrayBuffer,
        model.idf.buffer as ArrayBuffer,
      ]);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: String(err) } satisfies TrainReply);
    }
  });
}
