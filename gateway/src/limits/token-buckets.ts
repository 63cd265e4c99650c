// Token buckets per key (a spot's serial, an API client) in bounded memory (docs/limits.md).

/** Keys held at once; past it full buckets are forgotten first, then the oldest. */
export const MAX_KEYS = 16384;

export interface BucketRate {
  /** Tokens added per second; 0 = no limit. */
  perS: number;
  /** Tokens a bucket holds at most: what a key may take at once after a quiet spell. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One bucket per key, full when first seen. A bucket refilled to full holds nothing worth
 * keeping, so memory is the keys active within about burst / perS seconds, at most `maxKeys`.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private rate: BucketRate;

  constructor(
    rate: BucketRate,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.rate = { ...rate };
  }

  /** A new rate (a reload); buckets keep their balance, capped at the new burst. */
  setRate(rate: BucketRate): void {
    this.rate = { ...rate };
    if (rate.perS === 0) this.buckets.clear();
  }

  /** The rate in force. */
  get current(): BucketRate {
    return { ...this.rate };
  }

  get limited(): boolean {
    return this.rate.perS > 0;
  }

  /**
   * Takes `n` tokens whatever the balance (what was received is never refused: the balance goes
   * below zero); returns the milliseconds until it is back at zero, 0 when within the rate.
   */
  take(key: string, n: number): number {
    if (!this.limited) return 0;
    const bucket = this.refilled(key);
    bucket.tokens -= n;
    return this.msUntil(bucket, 0);
  }

  /** Takes `n` tokens only when the bucket holds them: 0, else the milliseconds until it will. */
  tryTake(key: string, n = 1): number {
    if (!this.limited) return 0;
    const bucket = this.refilled(key);
    if (bucket.tokens >= n) {
      bucket.tokens -= n;
      return 0;
    }
    return this.msUntil(bucket, n);
  }

  /** Milliseconds until the key's balance is back at zero (0: it may go on now). */
  waitMs(key: string): number {
    if (!this.limited) return 0;
    const bucket = this.buckets.get(key);
    return bucket ? this.msUntil(this.refill(bucket), 0) : 0;
  }

  /** Keys held now. */
  get size(): number {
    return this.buckets.size;
  }

  private msUntil(bucket: Bucket, level: number): number {
    return bucket.tokens >= level ? 0 : Math.ceil(((level - bucket.tokens) * 1000) / this.rate.perS);
  }

  private refill(bucket: Bucket): Bucket {
    const now = this.now();
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) * this.rate.perS) / 1000);
    bucket.at = now;
    return bucket;
  }

  private refilled(key: string): Bucket {
    const bucket = this.buckets.get(key);
    if (bucket) return this.refill(bucket);
    if (this.buckets.size >= this.maxKeys) this.shrink();
    const fresh = { tokens: this.rate.burst, at: this.now() };
    this.buckets.set(key, fresh);
    return fresh;
  }

  /**
   * Forgets full buckets; if still over three quarters of maxKeys, the oldest (a Map keeps
   * insertion order), whose debt is forgiven. The next pass comes a quarter of maxKeys later.
   */
  private shrink(): void {
    for (const [key, bucket] of this.buckets) if (this.refill(bucket).tokens >= this.rate.burst) this.buckets.delete(key);
    const keep = Math.floor((this.maxKeys * 3) / 4);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= keep) break;
      this.buckets.delete(key);
    }
  }
}
