// Live figures of one provider over a sliding window (default 5 minutes, 10-second buckets):
// submitted, delivered, undelivered, errors, submit-to-receipt latency.

interface Bucket {
  start: number;
  submitted: number;
  delivered: number;
  undelivered: number;
  errors: number;
  latencies: number[];
}

export interface ProviderFigures {
  readonly sentPerSecond: number;
  readonly delivered: number;
  readonly finished: number;
  readonly deliveryRate: number | null;
  readonly latencyP50Ms: number | null;
  readonly errors: number;
}

export class SlidingStats {
  private buckets: Bucket[] = [];

  constructor(
    private readonly windowMs = 300_000,
    private readonly bucketMs = 10_000,
  ) {}

  private current(): Bucket {
    const now = Date.now();
    const start = now - (now % this.bucketMs);
    let b = this.buckets.at(-1);
    if (!b || b.start !== start) {
      b = { start, submitted: 0, delivered: 0, undelivered: 0, errors: 0, latencies: [] };
      this.buckets.push(b);
      const horizon = now - this.windowMs;
      while (this.buckets.length && this.buckets[0]!.start + this.bucketMs < horizon) {
        this.buckets.shift();
      }
    }
    return b;
  }

  submitted(n = 1): void {
    this.current().submitted += n;
  }
  error(): void {
    this.current().errors++;
  }
  finished(delivered: boolean, latencyMs?: number): void {
    const b = this.current();
    if (delivered) b.delivered++;
    else b.undelivered++;
    if (latencyMs !== undefined && b.latencies.length < 5000) b.latencies.push(latencyMs);
  }

  private cached: { at: number; figures: ProviderFigures } | undefined;

  /** Figures over the window; recomputed at most every 250 ms (routing asks per message). */
  figures(): ProviderFigures {
    const at = Date.now();
    if (this.cached && at - this.cached.at < 250) return this.cached.figures;
    this.cached = { at, figures: this.compute() };
    return this.cached.figures;
  }

  private compute(): ProviderFigures {
    this.current();
    const now = Date.now();
    let delivered = 0;
    let finished = 0;
    let errors = 0;
    let recent = 0;
    const lat: number[] = [];
    for (const b of this.buckets) {
      delivered += b.delivered;
      finished += b.delivered + b.undelivered;
      errors += b.errors;
      if (b.start >= now - 2 * this.bucketMs) recent += b.submitted;
      for (const l of b.latencies) lat.push(l);
    }
    lat.sort((a, b) => a - b);
    const span = Math.max(1, (now - (now - (now % this.bucketMs) - this.bucketMs)) / 1000);
    return {
      sentPerSecond: Math.round((recent / span) * 10) / 10,
      delivered,
      finished,
      deliveryRate: finished ? delivered / finished : null,
      latencyP50Ms: lat.length ? lat[Math.floor(lat.length / 2)]! : null,
      errors,
    };
  }
}
