// Trains state classifiers on a worker thread of their own and keeps the trained ones by
// operator and version. A model is derived from its operator's config alone (training is
// deterministic), so the config is what is stored: any node, after any restart, trains the
// same model again in seconds when it first needs it, and an update (a new version) is a
// new model while transcripts already running keep the one they started with.
import { Worker } from 'node:worker_threads';
import { StateClassifier, type LabelledText } from './classifier.js';
import type { TrainReply, TrainRequest } from './train-thread.js';

// Loads the thread's module: through tsx's loader when it is TypeScript (npm start, tests),
// as is once built.
const BOOT = `
const { workerData } = require('node:worker_threads');
const load = workerData.module.endsWith('.ts')
  ? import('tsx/esm/api').then(({ tsImport }) => tsImport(workerData.module, workerData.module))
  : import(workerData.module);
load.catch((err) => {
  console.error('classifier training thread failed to start:', err);
  process.exit(1);
});
`;

/** Models kept in memory; the least recently used beyond this are trained again if needed. */
const KEPT = 64;

export class Trainer {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (m: StateClassifier) => void; reject: (e: Error) => void }
  >();
  private readonly models = new Map<string, Promise<StateClassifier>>();

  /** The classifier of `key` (operator SID and version), trained from `examples` if needed. */
  classifier(key: string, examples: () => readonly LabelledText[]): Promise<StateClassifier> {
    const known = this.models.get(key);
    if (known) {
      this.models.delete(key);
      this.models.set(key, known);
      return known;
    }
    const trained = this.train(examples());
    this.models.set(key, trained);
    trained.catch(() => this.models.delete(key));
    while (this.models.size > KEPT) this.models.delete(this.models.keys().next().value!);
    return trained;
  }

  /** Trains on the thread. */
  train(examples: readonly LabelledText[]): Promise<StateClassifier> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ id, examples } satisfies TrainRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const module = new URL(
      import.meta.url.endsWith('.ts') ? './train-thread.ts' : './train-thread.js',
      import.meta.url,
    ).href;
    const worker = new Worker(BOOT, { eval: true, workerData: { module } });
    worker.unref();
    worker.on('message', (m: TrainReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(new StateClassifier(m.model));
      else p.reject(new Error(m.error));
    });
    const failAll = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`training thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}
