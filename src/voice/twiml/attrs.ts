// Reading a TwiML element's attributes so that none is silently ignored: each attribute the
// parser reads is marked, those Switchboard does not implement are refused by name (13221)
// unless they hold the value that means Twilio's default behaviour, and whatever is left
// unread at the end is not TwiML (12200). A document the platform cannot run as written never
// runs half-understood.
import { TwimlError } from './errors.js';
import type { HttpMethod } from './verbs.js';

export class Attrs {
  private readonly seen = new Set<string>();

  constructor(
    readonly tag: string,
    private readonly raw: Readonly<Record<string, string>>,
  ) {}

  /** The attribute's value (undefined when absent), marked as understood. */
  get(name: string): string | undefined {
    this.seen.add(name);
    return this.raw[name];
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  /**
   * Attributes Switchboard does not implement: a document that sets one is refused (13221),
   * unless its value is one of `defaults` (what Twilio does without it, which is what runs).
   */
  refuse(names: string | readonly string[], why: string, ...defaults: string[]): void {
    for (const name of typeof names === 'string' ? [names] : names) {
      const v = this.get(name);
      if (v !== undefined && !defaults.includes(v))
        throw new TwimlError(13221, `Switchboard refuses <${this.tag} ${name}="${v}">: ${why}`);
    }
  }

  /** Every attribute must have been read or refused; anything else is not TwiML here. */
  done(): void {
    for (const name of Object.keys(this.raw))
      if (!this.seen.has(name))
        throw new TwimlError(12200, `<${this.tag}> has no attribute "${name}"`);
  }

  int(name: string, fallback: number, min = 0, max = 86_400): number {
    const raw = this.get(name);
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim()))
      throw new TwimlError(12200, `<${this.tag} ${name}="${raw}"> must be a whole number`);
    const n = Number(raw);
    if (n < min || n > max)
      throw new TwimlError(12200, `<${this.tag} ${name}="${raw}"> must be from ${min} to ${max}`);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new TwimlError(12200, `<${this.tag} ${name}="${raw}"> must be true or false`);
  }

  method(name = 'method'): HttpMethod {
    const raw = (this.get(name) ?? 'POST').toUpperCase();
    if (raw !== 'GET' && raw !== 'POST')
      throw new TwimlError(12200, `<${this.tag} ${name}="${raw}"> must be GET or POST`);
    return raw;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.get(name) ?? fallback;
    const found = values.find((v) => v === raw);
    if (found === undefined)
      throw new TwimlError(
        12200,
        `<${this.tag} ${name}="${raw}"> must be one of ${values.join(', ')}`,
      );
    return found;
  }

  /** A space- (or comma-) separated list, each value among `values`. */
  list<T extends string>(name: string, values: readonly T[], fallback: readonly T[]): T[] {
    const raw = this.get(name);
    if (raw === undefined) return [...fallback];
    return raw
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((v) => {
        const found = values.find((x) => x === v);
        if (found === undefined)
          throw new TwimlError(
            12200,
            `<${this.tag} ${name}="${raw}">: "${v}" is not one of ${values.join(', ')}`,
          );
        return found;
      });
  }
}

/** Answering machine detection: refused wherever a noun offers it. */
export const MACHINE_DETECTION = [
  'machineDetection',
  'machineDetectionTimeout',
  'machineDetectionSpeechThreshold',
  'machineDetectionSpeechEndThreshold',
  'machineDetectionSilenceTimeout',
  'amdStatusCallback',
  'amdStatusCallbackMethod',
];
