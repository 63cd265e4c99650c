// What the limits refused or held back since start (docs/limits.md), read by /metrics.
export class LimitCounters {
  /** Spot posts whose reading paused because their spot was over limits.spot_events_per_s. */
  spotRatePauses = 0;
  /** API requests answered 429 over limits.api_requests_per_s. */
  apiRateLimited = 0;
  /** Connections answered 408 (and closed) for request headers not complete within http.header_timeout_ms. */
  headerTimeouts = 0;
  /** API requests answered 408 (and closed) for a body silent for http.idle_timeout_ms. */
  bodyTimeouts = 0;
  /** Connections closed at once: http.max_connections open already. */
  refusedMaxConnections = 0;
  /** Connections closed at once: http.max_connections_per_address open already from their address. */
  refusedPerAddress = 0;
}
