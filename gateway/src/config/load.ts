// Loads the configuration: YAML file, then SPOT_GATEWAY_* overrides, then schema check with defaults.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { portRules } from '../flash/port-rules.js';
import { readTrustedKeys } from '../flash/trusted-keys.js';
import { topicLevelFault, topicPrefixFault } from '../protocol/index.js';
import { type ConfigInput, configSchema, type GatewayConfig } from './schema.js';
import { coerce, leafKeys, setPath } from './env.js';
import { parseDuration } from './duration.js';

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
  'mqtt.url': 'must be a broker URL such as mqtt://host:1883 or mqtts://host:8883 (mqtt, mqtts, tcp, ssl)',
  'spot_server.url': 'must be an http:// or https:// URL without query, e.g. https://central:8443',
  'mqtt.topic_prefix': 'must be topic levels without "+", "#" or empty levels, e.g. site1/',
  'firmware.target': 'must be a target name: 1..64 characters of a-z 0-9 . _ -, e.g. mps2-an385',
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

/** Optional keys whose empty value (variable set to "", or null in YAML) means unset. */
const UNSET_WHEN_EMPTY = ['mqtt.url', 'spot_server.url', 'http.tls_cert_file', 'http.tls_key_file', 'http.plain_port'];

/** Keys bounded by another key: a command must fit in a reply and in its spot's queue; TLS needs both files. */
function crossCheck(config: ConfigInput): { key: string; reason: string } | null {
  const tls = tlsFault(config.http);
  if (tls) return tls;
  const { max_bytes, max_reply_bytes, max_queued_bytes_per_spot } = config.commands;
  const fits = `so that a command of commands.max_bytes (${max_bytes}) fits`;
  if (max_reply_bytes < max_bytes) return { key: 'commands.max_reply_bytes', reason: `must be at least commands.max_bytes, ${fits} in a reply` };
  if (max_queued_bytes_per_spot < max_bytes) return { key: 'commands.max_queued_bytes_per_spot', reason: `must be at least commands.max_bytes, ${fits} in a queue` };
  if (config.auth.session_max_s < config.auth.session_idle_s) return { key: 'auth.session_max_s', reason: `must be at least auth.session_idle_s (${config.auth.session_idle_s})` };
  return tlsCheck(config.mqtt) ?? spotServerCaCheck(config.spot_server);
}

/** spot_server.tls_ca_file: only with an https:// URL, and readable. */
function spotServerCaCheck(server: ConfigInput['spot_server']): { key: string; reason: string } | null {
  const file = server.tls_ca_file;
  if (file === '') return null;
  const url = server.url ?? 'unset';
  if (!url.startsWith('https://')) return { key: 'spot_server.tls_ca_file', reason: `is set, but spot_server.url is not an https:// URL (${url})` };
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    return { key: 'spot_server.tls_ca_file', reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  return null;
}

/** The TLS files: only with an mqtts:// URL, certificate and key together, each readable. */
function tlsCheck(mqtt: ConfigInput['mqtt']): { key: string; reason: string } | null {
  const files: Array<[string, string]> = [
    ['mqtt.tls_ca_file', mqtt.tls_ca_file],
    ['mqtt.tls_cert_file', mqtt.tls_cert_file],
    ['mqtt.tls_key_file', mqtt.tls_key_file],
  ];
  const tls = /^(mqtts|ssl):/.test(mqtt.url ?? '');
  for (const [key, file] of files) {
    if (file === '') continue;
    if (!tls) return { key, reason: `is set, but mqtt.url is not an mqtts:// URL (${mqtt.url ?? 'unset'})` };
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      return { key, reason: `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  if ((mqtt.tls_cert_file === '') !== (mqtt.tls_key_file === '')) {
    return mqtt.tls_cert_file === ''
      ? { key: 'mqtt.tls_cert_file', reason: 'is empty, but mqtt.tls_key_file is set: a client certificate needs both' }
      : { key: 'mqtt.tls_key_file', reason: 'is empty, but mqtt.tls_cert_file is set: a client certificate needs both' };
  }
  return null;
}

/** YAML reads `retain: 3600` as a number: durations are kept as text, checked after the schema. */
function durationsAsText(raw: Record<string, unknown>): void {
  const buffer = raw.buffer;
  if (typeof buffer === 'object' && buffer !== null && typeof (buffer as Record<string, unknown>).retain === 'number') {
    (buffer as Record<string, unknown>).retain = String((buffer as Record<string, unknown>).retain);
  }
}

function durationFault(config: ConfigInput): { key: string; reason: string } | null {
  const retain = parseDuration(config.buffer.retain);
  return retain.ok ? null : { key: 'buffer.retain', reason: retain.reason };
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
    // An empty optional value (e.g. SPOT_GATEWAY_MQTT_URL=) means unset.
    if (text.trim() === '' && UNSET_WHEN_EMPTY.includes(key.path.join('.'))) {
      setPath(raw, key.path, undefined);
    } else {
      const coerced = coerce(key, text);
      if (!coerced.ok) throw new ConfigError(`${key.envName} (${key.path.join('.')}): ${coerced.reason}`);
      setPath(raw, key.path, coerced.value);
    }
    fromEnv.set(key.path.join('.'), key.envName);
  }

  durationsAsText(raw);
  const where = (key: string): string => (fromEnv.has(key) ? `${fromEnv.get(key)} (${key})` : file ? `config ${file}: ${key}` : key);
  dropEmpty(raw);
  if (!validate(raw)) {
    const error = validate.errors![0]!;
    throw new ConfigError(`${where(keyOf(error))}: ${reasonOf(error)}`);
  }
  const input = raw;
  const crossed = crossCheck(input) ?? durationFault(input);
  if (crossed) {
    const where = fromEnv.has(crossed.key) ? `${fromEnv.get(crossed.key)} (${crossed.key})` : file ? `config ${file}: ${crossed.key}` : crossed.key;
    throw new ConfigError(`${where}: ${crossed.reason}`);
  }
  const config = withGatewayId(input, options.hostname ?? os.hostname);
  const fault = topicFault(config) ?? firmwareFault(config, cwd);
  if (fault) throw new ConfigError(`${where(fault.key)}: ${fault.reason}`);
  return { config, file };
}

/** An optional key left empty or null in the file is unset (`url:` with nothing after it in YAML). */
function dropEmpty(raw: Record<string, unknown>): void {
  for (const key of UNSET_WHEN_EMPTY) {
    const [section, name] = key.split('.') as [string, string];
    const node = raw[section];
    if (typeof node !== 'object' || node === null) continue;
    const value = (node as Record<string, unknown>)[name];
    if (value === null || value === '') delete (node as Record<string, unknown>)[name];
  }
}

/** The HTTPS listener needs both files; a plain second listener only makes sense beside it (docs/tls.md). */
function tlsFault(http: ConfigInput['http']): { key: string; reason: string } | null {
  const cert = http.tls_cert_file !== undefined;
  const key = http.tls_key_file !== undefined;
  if (cert && !key) return { key: 'http.tls_key_file', reason: 'must be set with http.tls_cert_file (TLS needs the certificate and its key)' };
  if (key && !cert) return { key: 'http.tls_cert_file', reason: 'must be set with http.tls_key_file (TLS needs the certificate and its key)' };
  if (http.plain_port === undefined) return null;
  if (!cert) return { key: 'http.plain_port', reason: 'needs TLS on (http.tls_cert_file and http.tls_key_file): without TLS http.port speaks plain HTTP already' };
  if (http.plain_port !== 0 && http.plain_port === http.port) return { key: 'http.plain_port', reason: `must differ from http.port (${http.port}): one port speaks HTTPS, the other plain HTTP` };
  return null;
}

/** The prefix and the gateway id go into every topic: they follow the rule ingest applies to resource and action. */
function topicFault(config: GatewayConfig): { key: string; reason: string } | null {
  const prefix = topicPrefixFault(config.mqtt.topic_prefix);
  if (prefix) return { key: 'mqtt.topic_prefix', reason: `cannot start an MQTT topic: ${prefix}` };
  const id = topicLevelFault(config.gateway.id);
  if (id) return { key: 'gateway.id', reason: `${JSON.stringify(config.gateway.id.slice(0, 100))} cannot be an MQTT topic level: it ${id}` };
  return null;
}

/** The trusted key files must be Ed25519 public keys that can be read, the port patterns absolute paths. */
export function firmwareFault(config: GatewayConfig, cwd: string): { key: string; reason: string } | null {
  const keys = readTrustedKeys(config.firmware.trusted_keys, cwd);
  if (!keys.ok) return { key: 'firmware.trusted_keys', reason: keys.reason };
  const ports = portRules(config.firmware.ports);
  if (!ports.ok) return { key: 'firmware.ports', reason: ports.reason };
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
  const crossed = crossCheck(input) ?? durationFault(input);
  if (crossed) throw new ConfigError(`${crossed.key}: ${crossed.reason}`);
  return withGatewayId(input, os.hostname);
}

/** An unset gateway id is the host name: from here on it is always there. */
function withGatewayId(input: ConfigInput, hostname: () => string): GatewayConfig {
  return { ...input, gateway: { ...input.gateway, id: input.gateway.id || hostname() } };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
