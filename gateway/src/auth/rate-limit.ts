// Failed authentications per source address in one-minute windows, in bounded memory (docs/security.md).

export const WINDOW_MS = 60_000;
/** Addresses tracked at once; past it the one with the oldest window is forgotten (a Map keeps insertion order). */
export const MAX_ADDRESSES = 4096;

interface Window {
  start: number;
  failures: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  /** Requests answered 429 since start (metrics). */
  limited = 0;

  constructor(
    private readonly maxFailures: number,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = MAX_ADDRESSES,
  ) {}

  /** Seconds until the address may try again, or 0 when it may now. Counts the refusal. */
  retryAfterS(address: string): number {
    const w = this.windows.get(address);
    if (!w) return 0;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    if (w.failures < this.maxFailures) return 0;
    this.limited++;
    return Math.ceil(left / 1000);
  }

  failed(address: string): void {
    const now = this.now();
    const w = this.windows.get(address);
    if (w && now - w.start < WINDOW_MS) {
      w.failures++;
      return;
    }
    this.windows.delete(address);
    // Re-inserted at the end: the first entry is always the oldest window.
    this.windows.set(address, { start: now, failures: 1 });
    if (this.windows.size > this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
  }

  get tracked(): number {
    return this.windows.size;
  }
}
