// SIGHUP: which keys of a configuration read again apply at once, and which wait for a restart
// (docs/operations.md, "What SIGHUP reloads").
import { leafKeys } from './env.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { redactUrl } from './redact.js';

/**
 * Keys the running gateway takes over at a reload: values read where they are used, with no open
 * resource built from them (a socket, a file, a timer's period), plus the MQTT upstream's keys,
 * taken over by replacing the forwarder.
 */
export const LIVE_KEYS: readonly string[] = [
  'http.max_connections',
  'http.max_connections_per_address',
  'http.header_timeout_ms',
  'buffer.disk_warn_percent',
  'mqtt.url',
  'mqtt.topic_prefix',
  'mqtt.max_in_flight',
  'mqtt.degraded_after_s',
  'mqtt.poison_after_drops',
  'mqtt.stalled_after_s',
  'spot_server.url',
  'spot_server.token',
  'spot_server.tls_ca_file',
  'spot_server.max_posts_in_flight',
  'spot_server.max_events_per_post',
  'spot_server.poll_after_s',
  'spot_server.timeout_s',
  'commands.max_queued_per_spot',
  'commands.max_queued_bytes_per_spot',
  'log.level',
  'limits.spot_events_per_s',
  'limits.spot_events_burst',
  'limits.api_requests_per_s',
  'limits.api_requests_burst',
];

/** Keys the MQTT forwarder is built from: a change stops it and starts a new one. */
export const UPSTREAM_KEYS: readonly string[] = ['mqtt.url', 'mqtt.topic_prefix', 'mqtt.max_in_flight', 'mqtt.degraded_after_s', 'mqtt.poison_after_drops'];

/**
 * Keys the spot-server forwarder is built from: a change stops it (posts in flight end, their cursors
 * are committed) and starts a new one on the same cursors. The token alone is handed to the running one.
 */
export const SPOT_SERVER_KEYS: readonly string[] = [
  'spot_server.url',
  'spot_server.tls_ca_file',
  'spot_server.max_posts_in_flight',
  'spot_server.max_events_per_post',
  'spot_server.poll_after_s',
  'spot_server.timeout_s',
];

/** A spot-server key of `next` differs from `running` (both with the upstream on). */
export function spotServerChanged(running: GatewayConfig, next: GatewayConfig): boolean {
  if (!running.spot_server.url || !next.spot_server.url) return false;
  return SPOT_SERVER_KEYS.some((key) => valueAt(running, key.split('.')) !== valueAt(next, key.split('.')));
}

export interface ReloadPlan {
  /** The configuration to run with: the running one with the changed live keys taken from the one read again. */
  running: GatewayConfig;
  /** Changed keys that apply now, e.g. ['log.level']. */
  applied: string[];
  /** Changed keys that take effect at the next restart, each with why when it is not simply a key that needs one. */
  needRestart: string[];
  /** Why a key that is live in general waits for a restart in this reload. */
  reasons: Record<string, string>;
  /** An upstream key changed: the forwarder is replaced. */
  restartUpstream: boolean;
}

const KEY_PATHS = leafKeys(configSchema).map((k) => k.path);

export function valueAt(config: GatewayConfig, path: readonly string[]): unknown {
  let node: unknown = config;
  for (const part of path) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string, unknown>)[part];
  return node;
}

function setAt(config: GatewayConfig, path: readonly string[], value: unknown): void {
  let node = config as unknown as Record<string, unknown>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** Why a live key cannot change in this reload (null: it can). */
function blocker(key: string, running: GatewayConfig, next: GatewayConfig): string | null {
  // The store keeps a cursor per configured upstream from its start: adding or removing the upstream needs one.
  if (key === 'mqtt.url' && (running.mqtt.url === undefined || next.mqtt.url === undefined)) {
    return running.mqtt.url === undefined ? 'an upstream added' : 'the upstream removed';
  }
  if (key === 'spot_server.url' && (!running.spot_server.url || !next.spot_server.url)) {
    return running.spot_server.url ? 'the upstream removed' : 'an upstream added';
  }
  // commands.max_bytes is not live: a queue must still hold one command of the running size.
  if (key === 'commands.max_queued_bytes_per_spot' && next.commands.max_queued_bytes_per_spot < running.commands.max_bytes) {
    return `below the running commands.max_bytes (${running.commands.max_bytes})`;
  }
  return null;
}

/** Compares the running configuration with the one read again. */
export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const running = structuredClone(current);
  const plan: ReloadPlan = { running, applied: [], needRestart: [], reasons: {}, restartUpstream: false };
  for (const path of KEY_PATHS) {
    const key = path.join('.');
    const value = valueAt(next, path);
    if (valueAt(current, path) === value) continue;
    const why = LIVE_KEYS.includes(key) ? blocker(key, current, next) : 'not live';
    if (why === null) {
      plan.applied.push(key);
      setAt(running, path, value);
      // Without an upstream the forwarder's keys only wait for the next one.
      if (UPSTREAM_KEYS.includes(key) && running.mqtt.url !== undefined) plan.restartUpstream = true;
    } else {
      plan.needRestart.push(key);
      if (why !== 'not live') plan.reasons[key] = why;
    }
  }
  return plan;
}

/** A key's value for a log line; a password in mqtt.url and spot_server.token are hidden. */
export function shownValue(config: GatewayConfig, key: string): string {
  const value = valueAt(config, key.split('.'));
  if ((key === 'mqtt.url' || key === 'spot_server.url') && typeof value === 'string') return JSON.stringify(redactUrl(value));
  if (key === 'spot_server.token' && value !== '') return '"***"';
  return value === undefined ? 'unset' : JSON.stringify(value);
}
