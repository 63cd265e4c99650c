// How long the WAL fsyncs behind acknowledgements take, in fixed buckets: the disk's share of
// the latency from a spot's chunk to the broker. Read by /metrics (a Prometheus histogram),
// /api/status and the benchmark. A healthy SSD sits in the first buckets; a worn SD card or a
// busy shared disk shows in the last ones long before anything fails.

/** Upper bounds of the buckets, in ms (the last bucket, +Inf, is implied). */
export const SYNC_BOUNDS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export interface SyncTimes {
  boundsMs: readonly number[];
  /** Cumulative: counts[i] syncs took at most boundsMs[i]; counts[boundsMs.length] is every sync (+Inf). */
  counts: number[];
  count: number;
  sumMs: number;
  maxMs: number;
}

export class SyncHistogram {
  private readonly perBucket: number[] = new Array<number>(SYNC_BOUNDS_MS.length + 1).fill(0);
  private count = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(ms: number): void {
    let i = 0;
    while (i < SYNC_BOUNDS_MS.length && ms > SYNC_BOUNDS_MS[i]!) i++;
    this.perBucket[i]!++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  snapshot(): SyncTimes {
    let running = 0;
    const counts = this.perBucket.map((n) => (running += n));
    return { boundsMs: SYNC_BOUNDS_MS, counts, count: this.count, sumMs: this.sumMs, maxMs: this.maxMs };
  }
}

/**
 * The q-quantile (0 < q <= 1) of the syncs recorded between two snapshots (`before` null: since
 * the start), interpolated linearly within its bucket; the open last bucket ends at the maximum,
 * and no quantile is above the maximum recorded. null when no sync happened in between.
 */
export function syncQuantile(before: SyncTimes | null, after: SyncTimes, q: number): number | null {
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
