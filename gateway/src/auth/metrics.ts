// Authentication metrics: 401s per spot, failed API authentications, rate-limited answers.
import { Gauge, type Registry } from 'prom-client';
import type { SpotAuthFailures } from './spot-guard.js';

export interface AuthMetricsSources {
  spotFailures: SpotAuthFailures;
  apiFailures: () => number;
  rateLimited: () => number;
}

export function registerAuthMetrics(registry: Registry, s: AuthMetricsSources): void {
  new Gauge({
    name: 'spot_gateway_spot_auth_failures_total',
    help: 'spot posts answered 401 (auth.spots token), per spot; spots past the first 1000 under spot="other"',
    labelNames: ['spot'],
    registers: [registry],
    collect() {
      for (const [spot, n] of s.spotFailures.bySpot) this.set({ spot }, n);
      if (s.spotFailures.other > 0) this.set({ spot: 'other' }, s.spotFailures.other);
    },
  });
  new Gauge({
    name: 'spot_gateway_api_auth_failures_total',
    help: 'API requests and logins answered 401 for a wrong API key or password',
    registers: [registry],
    collect() {
      this.set(s.apiFailures());
    },
  });
  new Gauge({
    name: 'spot_gateway_auth_rate_limited_total',
    help: 'requests answered 429: too many failed authentications from their address (auth.max_failures_per_min)',
    registers: [registry],
    collect() {
      this.set(s.rateLimited());
    },
  });
}
