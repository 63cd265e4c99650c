// How long events take from the spot to the upstream: receipt at the gateway (time_received) to
// the upstream's acknowledgement. Live forwarding sits in the first buckets; events held through
// an outage land in the ones for minutes and hours, so the buckets reach a day.
import { DurationHistogram } from '../duration-histogram.js';

/**
 * Upper bounds of the buckets, in ms (time_received has millisecond resolution): fine where live
 * forwarding lies, so a p99 read off them is near the true one, coarse beyond.
 */
export const DELIVERY_BOUNDS_MS: readonly number[] = [
  1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 1_800_000,
  3_600_000, 21_600_000, 86_400_000,
];

export class DeliveryTimes extends DurationHistogram {
  constructor() {
    super(DELIVERY_BOUNDS_MS);
  }

  /** An event received at `receivedAt` (ms since the epoch) was acknowledged at `now`; a clock set back counts as 0. */
  delivered(receivedAt: number, now: number): void {
    this.record(Math.max(0, now - receivedAt));
  }
}
