// Configuration: public API.
export { configSchema, type GatewayConfig, type LogLevel } from './schema.js';
export { loadConfig, defaultConfig, ConfigError, DEFAULT_CONFIG_FILE, type DeepPartial, type LoadOptions, type LoadedConfig } from './load.js';
export { leafKeys, ENV_PREFIX } from './env.js';
export { planReload, shownValue, spotServerChanged, LIVE_KEYS, SPOT_SERVER_KEYS, UPSTREAM_KEYS, type ReloadPlan } from './reload.js';
export { tlsEnabled } from './tls.js';
export { parseDuration, DURATION_FORMS, type ParsedDuration } from './duration.js';
