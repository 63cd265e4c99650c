// The limits on clients one gateway holds (docs/limits.md): a token bucket per spot (events) and per API
// client (requests), the counters of what was refused, and the rates a reload changes.
import type { GatewayConfig } from '../config/index.js';
import type { GatewayLogger } from '../log.js';
import { LimitCounters } from './counters.js';
import { RequestRefusals } from './refusals.js';
import { TokenBuckets, type BucketRate } from './token-buckets.js';

const spotRateOf = (c: GatewayConfig): BucketRate => ({ perS: c.limits.spot_events_per_s, burst: c.limits.spot_events_burst });
const apiRateOf = (c: GatewayConfig): BucketRate => ({ perS: c.limits.api_requests_per_s, burst: c.limits.api_requests_burst });

export class GatewayLimits {
  readonly counters = new LimitCounters();
  /** Requests node's parser or the ingest route refused (400, 414, 431, 415): counted and logged. */
  readonly refusals: RequestRefusals;
  readonly spotRate: TokenBuckets;
  readonly apiRate: TokenBuckets;
  /** What the spot transports ask before reading more of a spot (back-pressure, never a drop). */
  readonly spotGate: { waitMs: (serial: string) => number; counters: LimitCounters };

  constructor(config: GatewayConfig, logger: GatewayLogger, now: () => number) {
    this.refusals = new RequestRefusals(logger.child({ part: 'http' }), now);
    this.spotRate = new TokenBuckets(spotRateOf(config));
    this.apiRate = new TokenBuckets(apiRateOf(config));
    this.spotGate = { waitMs: (serial) => this.spotRate.waitMs(serial), counters: this.counters };
  }

  /** A reload: the rates apply at once. */
  apply(next: GatewayConfig): void {
    this.spotRate.setRate(spotRateOf(next));
    this.apiRate.setRate(apiRateOf(next));
  }
}
