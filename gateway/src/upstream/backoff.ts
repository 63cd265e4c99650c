// Reconnect delays: exponential growth with jitter so many gateways do not reconnect in step.

export interface BackoffOptions {
  minMs?: number;
  maxMs?: number;
  /** Returns a number in [0, 1). */
  random?: () => number;
}

export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
    if (!(this.minMs > 0) || !(this.maxMs >= this.minMs)) {
      throw new Error(`backoff: need 0 < minMs <= maxMs, got ${this.minMs} .. ${this.maxMs}`);
    }
  }

  /** Delay before the next attempt: uniform in [ceiling/2, ceiling], ceiling = min(max, min * 2^n). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const half = ceiling / 2;
    return Math.max(this.minMs / 2, Math.round(half + this.random() * half));
  }

  /** After a successful connection the next failure starts from the minimum again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
