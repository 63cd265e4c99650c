// Durations in fixed buckets, cumulative since start: cheap to record on a hot path (no
// allocation), read at scrape time as a Prometheus histogram and as quantiles in /api/status.

export interface HistogramSnapshot {
  /** Upper bounds of the buckets, in ms (the last bucket, +Inf, is implied). */
  boundsMs: readonly number[];
  /** Cumulative: counts[i] durations were at most boundsMs[i]; counts[boundsMs.length] is every one (+Inf). */
  counts: number[];
  count: number;
  sumMs: number;
  maxMs: number;
}

export class DurationHistogram {
  private readonly perBucket: number[];
  private count = 0;
  private sumMs = 0;
  private maxMs = 0;

  constructor(readonly boundsMs: readonly number[]) {
    this.perBucket = new Array<number>(boundsMs.length + 1).fill(0);
  }

  record(ms: number): void {
    const bounds = this.boundsMs;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    this.perBucket[i]!++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  snapshot(): HistogramSnapshot {
    let running = 0;
    const counts = this.perBucket.map((n) => (running += n));
    return { boundsMs: this.boundsMs, counts, count: this.count, sumMs: this.sumMs, maxMs: this.maxMs };
  }
}

/**
 * The q-quantile (0 < q <= 1) of the durations recorded between two snapshots (`before` null:
 * since the start), interpolated linearly within its bucket; the open last bucket ends at the
 * maximum, and no quantile is above the maximum recorded. null when nothing was recorded in between.
 */
export function histogramQuantile(before: HistogramSnapshot | null, after: HistogramSnapshot, q: number): number | null {
  const counts = after.counts.map((c, i) => c - (before?.counts[i] ?? 0));
  const total = counts[counts.length - 1]!;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! < rank) continue;
    const below = i === 0 ? 0 : counts[i - 1]!;
    const lo = i === 0 ? 0 : after.boundsMs[i - 1]!;
    const hi = i < after.boundsMs.length ? after.boundsMs[i]! : Math.max(after.maxMs, lo);
    const value = lo + ((hi - lo) * (rank - below)) / (counts[i]! - below);
    return after.maxMs > 0 ? Math.min(value, after.maxMs) : value;
  }
  return after.maxMs;
}

/** Since start, for /api/status: count, mean, p99 and maximum in ms (one decimal), nulls when empty. */
export function histogramSummary(h: HistogramSnapshot): { count: number; meanMs: number | null; p99Ms: number | null; maxMs: number | null } {
  const round = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 10) / 10);
  return {
    count: h.count,
    meanMs: round(h.count > 0 ? h.sumMs / h.count : null),
    p99Ms: round(histogramQuantile(null, h, 0.99)),
    maxMs: round(h.count > 0 ? h.maxMs : null),
  };
}
