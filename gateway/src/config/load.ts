// Loads the configuration: YAML file, then SPOT_GATEWAY_* overrides, then schema check with defaults.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { topicLevelFault, topicPrefixFault } from '../protocol/index.js';
import { type ConfigInput, configSchema, type GatewayConfig } from './schema.js';
import { coerce, leafKeys, setPath } from './env.js';

export const DEFAULT_CONFIG_FILE = 'gateway.yaml';

/** A configuration that cannot be used; `message` is one line naming the key and the reason. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** --config PATH; else ./gateway.yaml in cwd when present; else defaults only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  hostname?: () => string;
}

export interface LoadedConfig {
  config: GatewayConfig;
  /** The file read, or null when only defaults and environment were used. */
  file: string | null;
}

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, strictRequired: false });
const validate = ajv.compile<ConfigInput>(configSchema);
const leaves = leafKeys(configSchema);

function keyOf(error: ErrorObject): string {
  const base = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'additionalProperties') {
    base.push(String((error.params as { additionalProperty: string }).additionalProperty));
  }
  return base.length > 0 ? base.join('.') : '(top level)';
}

const PATTERN_REASONS: Record<string, string> = {
  'mqtt.url': 'must be a broker URL such as mqtt://host:1883 (mqtt, mqtts, tcp, ssl, ws, wss)',
  'mqtt.topic_prefix': 'must be topic levels without "+", "#" or empty levels, e.g. site1/',
};

function reasonOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return 'unknown key';
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    case 'pattern':
      return PATTERN_REASONS[keyOf(error)] ?? `must match ${String((error.params as { pattern: string }).pattern)}`;
    default:
      return error.message ?? 'invalid';
  }
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const doc = parseDocument(text, { prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0]?.line;
    throw new ConfigError(`config ${file}: invalid YAML${line ? ` at line ${line}` : ''}: ${firstError.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`config ${file}: (top level): must be a mapping of sections`);
  }
  return value as Record<string, unknown>;
}

/** Keys bounded by another key: a command must fit in a reply and in its spot's queue. */
function crossCheck(config: ConfigInput): { key: string; reason: string } | null {
  const { max_bytes, max_reply_bytes, max_queued_bytes_per_spot } = config.commands;
  const fits = `so that a command of commands.max_bytes (${max_bytes}) fits`;
  if (max_reply_bytes < max_bytes) return { key: 'commands.max_reply_bytes', reason: `must be at least commands.max_bytes, ${fits} in a reply` };
  if (max_queued_bytes_per_spot < max_bytes) return { key: 'commands.max_queued_bytes_per_spot', reason: `must be at least commands.max_bytes, ${fits} in a queue` };
  if (config.auth.session_max_s < config.auth.session_idle_s) return { key: 'auth.session_max_s', reason: `must be at least auth.session_idle_s (${config.auth.session_idle_s})` };
  return null;
}

/** Throws ConfigError for a bad file, a bad variable or a value the schema refuses. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let file: string | null = null;
  if (options.file !== undefined) file = path.resolve(cwd, options.file);
  else if (existsSync(path.join(cwd, DEFAULT_CONFIG_FILE))) file = path.join(cwd, DEFAULT_CONFIG_FILE);

  const raw = file ? readFile(file) : {};
  const fromEnv = new Map<string, string>();
  for (const key of leaves) {
    const text = env[key.envName];
    if (text === undefined) continue;
    const coerced = coerce(key, text);
    if (!coerced.ok) throw new ConfigError(`${key.envName} (${key.path.join('.')}): ${coerced.reason}`);
    // An empty optional string (e.g. SPOT_GATEWAY_MQTT_URL=) means unset.
    const value = key.type === 'string' && text === '' && key.path.join('.') === 'mqtt.url' ? undefined : coerced.value;
    setPath(raw, key.path, value);
    fromEnv.set(key.path.join('.'), key.envName);
  }

  const where = (key: string): string => (fromEnv.has(key) ? `${fromEnv.get(key)} (${key})` : file ? `config ${file}: ${key}` : key);
  if (!validate(raw)) {
    const error = validate.errors![0]!;
    throw new ConfigError(`${where(keyOf(error))}: ${reasonOf(error)}`);
  }
  const input = raw;
  const crossed = crossCheck(input);
  if (crossed) {
    const where = fromEnv.has(crossed.key) ? `${fromEnv.get(crossed.key)} (${crossed.key})` : file ? `config ${file}: ${crossed.key}` : crossed.key;
    throw new ConfigError(`${where}: ${crossed.reason}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- YAML can hold null here: the validated type is narrower than the file
  if (input.mqtt.url === '' || input.mqtt.url === null) delete input.mqtt.url;
  const config = withGatewayId(input, options.hostname ?? os.hostname);
  const fault = topicFault(config);
  if (fault) throw new ConfigError(`${where(fault.key)}: ${fault.reason}`);
  return { config, file };
}

/** The prefix and the gateway id go into every topic: they follow the rule ingest applies to resource and action. */
function topicFault(config: GatewayConfig): { key: string; reason: string } | null {
  const prefix = topicPrefixFault(config.mqtt.topic_prefix);
  if (prefix) return { key: 'mqtt.topic_prefix', reason: `cannot start an MQTT topic: ${prefix}` };
  const id = topicLevelFault(config.gateway.id);
  if (id) return { key: 'gateway.id', reason: `${JSON.stringify(config.gateway.id.slice(0, 100))} cannot be an MQTT topic level: it ${id}` };
  return null;
}

/** The defaults alone (plus overrides given as a partial config), for tests and tools. */
export function defaultConfig(overrides: DeepPartial<GatewayConfig> = {}): GatewayConfig {
  const raw = structuredClone(overrides) as Record<string, unknown>;
  if (!validate(raw)) {
    const error = validate.errors![0]!;
    throw new ConfigError(`${keyOf(error)}: ${reasonOf(error)}`);
  }
  const input = raw;
  const crossed = crossCheck(input);
  if (crossed) throw new ConfigError(`${crossed.key}: ${crossed.reason}`);
  return withGatewayId(input, os.hostname);
}

/** An unset gateway id is the host name: from here on it is always there. */
function withGatewayId(input: ConfigInput, hostname: () => string): GatewayConfig {
  return { ...input, gateway: { ...input.gateway, id: input.gateway.id || hostname() } };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
