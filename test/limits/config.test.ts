// The limits' configuration keys: defaults, environment variables, each bad value refused naming the key, all live on SIGHUP.
import test from 'ava';
import { ConfigError, defaultConfig, loadConfig, planReload, type DeepPartial, type GatewayConfig } from '../../gateway/src/config/index.js';
import { tempDir } from '../helpers/gateway.js';

test('defaults: header timeout 10 s, 256 connections per address, 1000 events/s per spot (bursts of 5000), 100 API requests/s per client (bursts of 200)', (t) => {
  const config = defaultConfig();
  t.is(config.http.header_timeout_ms, 10000);
  t.is(config.http.max_connections_per_address, 256);
  t.deepEqual(config.limits, { spot_events_per_s: 1000, spot_events_burst: 5000, api_requests_per_s: 100, api_requests_burst: 200 });
});

test('each key from its environment variable', (t) => {
  const { config } = loadConfig({
    cwd: tempDir(t),
    env: {
      SPOT_GATEWAY_HTTP_HEADER_TIMEOUT_MS: '2500',
      SPOT_GATEWAY_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0',
      SPOT_GATEWAY_LIMITS_SPOT_EVENTS_PER_S: '12.5',
      SPOT_GATEWAY_LIMITS_SPOT_EVENTS_BURST: '40',
      SPOT_GATEWAY_LIMITS_API_REQUESTS_PER_S: '0',
      SPOT_GATEWAY_LIMITS_API_REQUESTS_BURST: '7',
    },
  });
  t.is(config.http.header_timeout_ms, 2500);
  t.is(config.http.max_connections_per_address, 0);
  t.deepEqual(config.limits, { spot_events_per_s: 12.5, spot_events_burst: 40, api_requests_per_s: 0, api_requests_burst: 7 });
});

const refusals: Array<[DeepPartial<GatewayConfig>, string]> = [
  [{ http: { header_timeout_ms: 99 } }, 'http.header_timeout_ms: must be >= 100'],
  [{ http: { header_timeout_ms: 600001 } }, 'http.header_timeout_ms: must be <= 600000'],
  [{ http: { header_timeout_ms: 1.5 } }, 'http.header_timeout_ms: must be integer'],
  [{ http: { max_connections_per_address: -1 } }, 'http.max_connections_per_address: must be >= 0'],
  [{ limits: { spot_events_per_s: -1 } }, 'limits.spot_events_per_s: must be >= 0'],
  [{ limits: { spot_events_burst: 0 } }, 'limits.spot_events_burst: must be >= 1'],
  [{ limits: { api_requests_per_s: -0.5 } }, 'limits.api_requests_per_s: must be >= 0'],
  [{ limits: { api_requests_burst: 0 } }, 'limits.api_requests_burst: must be >= 1'],
  [{ limits: { api_requests_burst: 2.5 } }, 'limits.api_requests_burst: must be integer'],
  [{ limits: { spot_rate: 5 } } as DeepPartial<GatewayConfig>, 'limits.spot_rate: unknown key'],
];

for (const [given, message] of refusals) {
  test(`refused: ${message}`, (t) => {
    const err = t.throws(() => defaultConfig(given), { instanceOf: ConfigError });
    t.is(err.message, message);
  });
}

test('a bad variable names the variable and the key', (t) => {
  const err = t.throws(() => loadConfig({ cwd: tempDir(t), env: { SPOT_GATEWAY_LIMITS_SPOT_EVENTS_PER_S: 'fast' } }), { instanceOf: ConfigError });
  t.regex(err.message, /SPOT_GATEWAY_LIMITS_SPOT_EVENTS_PER_S \(limits\.spot_events_per_s\)/);
});

test('every limit applies at a reload', (t) => {
  const running = defaultConfig({ gateway: { id: 'gw' } });
  const next = defaultConfig({
    gateway: { id: 'gw' },
    http: { header_timeout_ms: 3000, max_connections_per_address: 8 },
    limits: { spot_events_per_s: 5, spot_events_burst: 6, api_requests_per_s: 7, api_requests_burst: 8 },
  });
  const plan = planReload(running, next);
  t.deepEqual(plan.applied, [
    'http.header_timeout_ms',
    'http.max_connections_per_address',
    'limits.spot_events_per_s',
    'limits.spot_events_burst',
    'limits.api_requests_per_s',
    'limits.api_requests_burst',
  ]);
  t.deepEqual(plan.needRestart, []);
  t.deepEqual(plan.running.limits, next.limits);
});
