// Validation of downstream commands (server -> spot) before they are queued.
import { CONFIG_KEY_BY_NAME, type ConfigKeySpec } from '../gen/spot-config.js';
import { MAX_JSON_DEPTH, valueNestsDeeper } from './json-depth.js';

export interface CommandError {
  /** The data key at fault ('' when the command as a whole is wrong). */
  key: string;
  reason: string;
}

export type CommandCheck = { ok: true } | { ok: false; errors: CommandError[] };
export type ValueCheck = { ok: true } | { ok: false; reason: string };

/** Brain senses bs1..bs5: small signed integers (int16 on the spot). */
export const BRAIN_SENSE_MIN = -32768;
export const BRAIN_SENSE_MAX = 32767;
const BRAIN_SENSE_KEYS = ['bs1', 'bs2', 'bs3', 'bs4', 'bs5'];
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const utf8 = new TextEncoder();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function checkSpec(spec: ConfigKeySpec, value: unknown): ValueCheck {
  const fail = (expected: string): ValueCheck => ({ ok: false, reason: `expected ${expected}, got ${describe(value)}` });
  switch (spec.type) {
    case 'bool':
      return typeof value === 'boolean' ? { ok: true } : fail('true or false');
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.min! && value <= spec.max!
        ? { ok: true }
        : fail(`an integer from ${spec.min} to ${spec.max}`);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= spec.min! && value <= spec.max!
        ? { ok: true }
        : fail(`a number from ${spec.min} to ${spec.max}`);
    case 'enum':
      return typeof value === 'string' && spec.values!.includes(value)
        ? { ok: true }
        : fail(`one of ${spec.values!.map((v) => JSON.stringify(v)).join(', ')}`);
    case 'string':
      return typeof value === 'string' && utf8.encode(value).length <= spec.maxLength!
        ? { ok: true }
        : fail(`a string of at most ${spec.maxLength} bytes`);
    case 'ipv4':
      return typeof value === 'string' && IPV4.test(value) ? { ok: true } : fail('an IPv4 address like "192.168.0.10"');
    case 'object':
      return isPlainObject(value) ? { ok: true } : fail('a JSON object');
  }
}

/** One config key and value against the shared config schema (spot-config.json). */
export function validateConfigValue(key: string, value: unknown): ValueCheck {
  const spec = CONFIG_KEY_BY_NAME.get(key);
  if (!spec) return { ok: false, reason: 'unknown config key' };
  return checkSpec(spec, value);
}

function result(errors: CommandError[]): CommandCheck {
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

function validateConfigUpdate(data: Record<string, unknown>): CommandCheck {
  const keys = Object.keys(data);
  if (keys.length === 0) return result([{ key: '', reason: 'no config keys given' }]);
  if (Object.hasOwn(data, 'reset')) {
    if (data['reset'] !== true) return result([{ key: 'reset', reason: 'expected true (factory reset)' }]);
    if (keys.length > 1) return result([{ key: 'reset', reason: 'a factory reset is sent alone, without other keys' }]);
    return result([]);
  }
  const errors: CommandError[] = [];
  for (const key of keys) {
    const check = validateConfigValue(key, data[key]);
    if (!check.ok) errors.push({ key, reason: check.reason });
  }
  return result(errors);
}

function validateFirmwareUpdate(data: Record<string, unknown>): CommandCheck {
  const errors: CommandError[] = [];
  if (Object.hasOwn(data, 'reset_counters')) {
    if (data['reset_counters'] !== true) errors.push({ key: 'reset_counters', reason: 'expected true' });
    for (const key of Object.keys(data)) {
      if (key !== 'reset_counters') errors.push({ key, reason: 'reset_counters is sent alone' });
    }
    return result(errors);
  }
  for (const key of ['url', 'version']) {
    const value = data[key];
    if (typeof value !== 'string' || value === '') errors.push({ key, reason: `expected a non-empty string, got ${value === undefined ? 'nothing' : describe(value)}` });
  }
  for (const key of Object.keys(data)) {
    if (key !== 'url' && key !== 'version') errors.push({ key, reason: 'unknown key for firmware update (url + version, or reset_counters)' });
  }
  return result(errors);
}

function validateBrainSense(data: Record<string, unknown>): CommandCheck {
  const keys = Object.keys(data);
  if (keys.length === 0) return result([{ key: '', reason: 'no brain sense given (bs1..bs5)' }]);
  const errors: CommandError[] = [];
  for (const key of keys) {
    const value = data[key];
    if (!BRAIN_SENSE_KEYS.includes(key)) errors.push({ key, reason: 'unknown brain sense (bs1..bs5)' });
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < BRAIN_SENSE_MIN || value > BRAIN_SENSE_MAX) {
      errors.push({ key, reason: `expected an integer from ${BRAIN_SENSE_MIN} to ${BRAIN_SENSE_MAX}, got ${describe(value)}` });
    }
  }
  return result(errors);
}

/** Whether [resource, action, data] is a command a spot understands, with every problem named. */
export function validateCommand(resource: string, action: string, data: unknown): CommandCheck {
  if (!isPlainObject(data)) return result([{ key: '', reason: `command data must be a JSON object, got ${describe(data)}` }]);
  if (valueNestsDeeper(data, MAX_JSON_DEPTH)) return result([{ key: '', reason: `command data nests deeper than ${MAX_JSON_DEPTH} levels` }]);
  if (resource === 'config' && action === 'update') return validateConfigUpdate(data);
  if (resource === 'firmware' && action === 'update') return validateFirmwareUpdate(data);
  if (resource === 'brain_sense' && action === 'update') return validateBrainSense(data);
  return result([{ key: '', reason: `unknown command "${resource} ${action}" (known: config update, firmware update, brain_sense update)` }]);
}
