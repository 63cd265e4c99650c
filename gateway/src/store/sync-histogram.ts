// How long the WAL fsyncs behind acknowledgements take, in fixed buckets: the disk's share of
// the latency from a spot's chunk to the broker. Read by /metrics (a Prometheus histogram),
// /api/status and the benchmark. A healthy SSD sits in the first buckets; a worn SD card or a
// busy shared disk shows in the last ones long before anything fails.
import { DurationHistogram } from '../duration-histogram.js';

/** Upper bounds of the buckets, in ms. */
export const SYNC_BOUNDS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export class SyncHistogram extends DurationHistogram {
  constructor() {
    super(SYNC_BOUNDS_MS);
  }
}
