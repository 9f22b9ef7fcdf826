/** A token bucket: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private pausedUntil = 0;

  constructor(
    private rate: number,
    private burst = Math.max(1, Math.ceil(rate / 10)),
  ) {
    this.tokens = this.burst;
  }

  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
    this.burst = Math.max(1, Math.ceil(rate / 10));
    this.tokens = Math.min(this.tokens, this.burst);
  }

  private refill(): void {
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.last = now;
      return;
    }
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Whole tokens available now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Takes n tokens (may go negative: a long message borrows from the next ones). */
  take(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  /** Milliseconds until at least one token is available. */
  waitMs(): number {
    this.refill();
    const pause = Math.max(0, this.pausedUntil - Date.now());
    if (this.tokens >= 1) return pause;
    return pause + Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** Waits until a token is available, then takes n. */
  async acquire(n: number): Promise<void> {
    for (;;) {
      const wait = this.waitMs();
      if (wait <= 0) {
        this.take(n);
        return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Stops handing out tokens for ms (the provider said it is throttling us). */
  pause(ms: number): void {
    this.tokens = Math.min(this.tokens, 0);
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }
}
