// Operators by SID: an account's custom operators and the prebuilt ones every account has,
// made runnable (a custom utterance-state operator with its trained classifier).
import type { LabelledText } from '../model/classifier.js';
import { NONE } from '../model/classifier.js';
import type { Trainer } from '../model/trainer.js';
import type { IntelligenceStore } from '../store.js';
import type { OperatorRow } from '../tables.js';
import { operatorType, prebuiltOperator } from './catalogue.js';
import type { PhraseConfig, RunnableOperator, UtteranceStateConfig } from './run.js';

export function examplesOf(config: UtteranceStateConfig): LabelledText[] {
  return [
    ...config.states.flatMap((s) => s.examples.map((text) => ({ text, label: s.name }))),
    ...(config.none_examples ?? []).map((text) => ({ text, label: NONE })),
  ];
}

export function modelKey(row: Pick<OperatorRow, 'sid' | 'version'>): string {
  return `${row.sid}:${row.version}`;
}

export async function runnable(
  store: IntelligenceStore,
  trainer: Trainer,
  accountSid: string,
  sid: string,
): Promise<RunnableOperator | undefined> {
  const p = prebuiltOperator(sid);
  if (p) {
    const type = operatorType(p.operatorType);
    return type && { sid: p.sid, name: p.friendlyName, type, config: p.config };
  }
  const row = await store.operator(accountSid, sid);
  if (!row) return undefined;
  const type = operatorType(row.operator_type);
  if (!type) return undefined;
  const config = JSON.parse(row.config) as unknown;
  if (type.name !== 'utterance-state') return { sid, name: row.friendly_name, type, config };
  const classifier = await trainer.classifier(modelKey(row), () =>
    examplesOf(config as UtteranceStateConfig),
  );
  return { sid, name: row.friendly_name, type, config, classifier };
}

/**
 * What the speakers of a Service's calls are expected to say, from its operators: the
 * examples of utterance-state operators and the phrases of phrase-matching ones (prebuilt
 * included). The recogniser builds its domain language model from these.
 */
export async function servicePhrases(
  store: IntelligenceStore,
  accountSid: string,
  serviceSid: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const sid of await store.attached(serviceSid)) {
    const p = prebuiltOperator(sid);
    let config: unknown = p?.config;
    if (!p) {
      const row = await store.operator(accountSid, sid);
      if (!row) continue;
      try {
        config = JSON.parse(row.config) as unknown;
      } catch {
        continue;
      }
    }
    const c = config as Partial<UtteranceStateConfig & PhraseConfig> | null;
    if (!c || typeof c !== 'object') continue;
    if (Array.isArray(c.states))
      out.push(...examplesOf(c as UtteranceStateConfig).map((e) => e.text));
    if (Array.isArray(c.phrases)) out.push(...c.phrases.filter((x) => typeof x === 'string'));
  }
  return out;
}
