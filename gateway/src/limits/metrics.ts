// The limits' counters in /metrics (docs/limits.md).
import { Gauge, type Registry } from 'prom-client';
import type { LimitCounters } from './counters.js';
import type { RequestRefusals } from './refusals.js';

export function registerLimitMetrics(registry: Registry, counters: LimitCounters, connectionsOpen: () => number, refusals: RequestRefusals): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('spot_gateway_connections_open', 'TCP connections open now, over every listener (http.max_connections bounds it)', connectionsOpen);
  new Gauge({
    name: 'spot_gateway_connections_refused_total',
    help: 'connections closed at once: http.max_connections open over all addresses, or http.max_connections_per_address from theirs',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.set({ limit: 'max_connections' }, counters.refusedMaxConnections);
      this.set({ limit: 'max_connections_per_address' }, counters.refusedPerAddress);
    },
  });
  new Gauge({
    name: 'spot_gateway_request_timeouts_total',
    help: 'requests answered 408 and closed: headers not complete within http.header_timeout_ms, or an API body silent for http.idle_timeout_ms',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      this.set({ phase: 'headers' }, counters.headerTimeouts);
      this.set({ phase: 'body' }, counters.bodyTimeouts);
    },
  });
  new Gauge({
    name: 'spot_gateway_requests_refused_total',
    help: "requests refused before anything of them was acted on: node's HTTP parser (400, 414, 431), a request target over 2048 bytes (414), a spot post with a Content-Encoding (415)",
    labelNames: ['status', 'reason'],
    registers: [registry],
    collect() {
      for (const { status, reason, count } of refusals.counts()) this.set({ status: String(status), reason }, count);
    },
  });
  gauge('spot_gateway_spot_rate_pauses_total', 'spot posts whose reading paused: their spot over limits.spot_events_per_s (nothing is lost)', () => counters.spotRatePauses);
  gauge('spot_gateway_api_rate_limited_total', 'API requests answered 429: their client over limits.api_requests_per_s', () => counters.apiRateLimited);
}
