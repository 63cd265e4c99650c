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
/**
 * firmware update's url and version: the spot keeps them in C buffers of 128 and 32 bytes (spot.options
 * FirmwareUpdate.url/version max_size, SPOT_URL_MAX/SPOT_VERSION_MAX) and puts them in its request line and
 * User-Agent header, so visible ASCII only.
 */
export const FIRMWARE_UPDATE_TEXT: Readonly<Record<'url' | 'version', TextRule>> = {
  url: { chars: 'visible-ascii', minLength: 1, maxLength: 127 },
  version: { chars: 'visible-ascii', minLength: 1, maxLength: 31 },
};
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
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above: a number, boolean or the like
  return `${typeof value} ${String(value)}`;
}

/** U+0000..U+001F and U+007F..U+009F: no spot can hold them (C strings end at NUL; a line feed breaks its log and header lines). */
function isControl(cp: number): boolean {
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
}

const CHAR_NAMES: Record<number, string> = { 0x00: 'NUL', 0x09: 'tab', 0x0a: 'line feed', 0x0d: 'carriage return', 0x20: 'space', 0x7f: 'DEL' };

function codePointName(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return `${hex} (an unpaired surrogate)`;
  return CHAR_NAMES[cp] ? `${hex} (${CHAR_NAMES[cp]})` : hex;
}

/** What a text value may hold: `chars` of the schema, and its length in UTF-8 bytes. */
export interface TextRule {
  chars?: 'visible-ascii';
  minLength?: number;
  maxLength: number;
}

function describeRule(rule: TextRule): string {
  const chars = rule.chars === 'visible-ascii' ? 'visible ASCII (U+0021..U+007E)' : 'text without control characters';
  const min = rule.minLength ?? 0;
  return `${chars}, ${min > 0 ? `${min} to ${rule.maxLength}` : `at most ${rule.maxLength}`} bytes`;
}

/** Checks a string against a text rule; the reason names the offending character or the length. */
export function checkText(name: string, rule: TextRule, value: unknown): ValueCheck {
  const expected = describeRule(rule);
  if (typeof value !== 'string') return { ok: false, reason: `expected a string of ${expected}, got ${describe(value)}` };
  const cause = (what: string): ValueCheck => ({ ok: false, reason: `${what}; a spot's ${name} is ${expected}` });
  let index = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const bad = rule.chars === 'visible-ascii' ? cp < 0x21 || cp > 0x7e : isControl(cp) || (cp >= 0xd800 && cp <= 0xdfff);
    if (bad) return cause(`holds ${codePointName(cp)} at character ${index}`);
    index++;
  }
  const bytes = utf8.encode(value).length;
  if (bytes > rule.maxLength) return cause(`is ${bytes} bytes long`);
  if (bytes < (rule.minLength ?? 0)) return cause(bytes === 0 ? 'is empty' : `is ${bytes} bytes long`);
  return { ok: true };
}

function checkObject(spec: ConfigKeySpec, value: unknown): ValueCheck {
  if (!isPlainObject(value)) return { ok: false, reason: `expected a JSON object, got ${describe(value)}` };
  const expected = `a JSON object of at most ${spec.maxLength} bytes as compact JSON, nested at most ${spec.maxDepth} levels`;
  if (valueNestsDeeper(value, spec.maxDepth!)) return { ok: false, reason: `nests deeper than ${spec.maxDepth} levels; a spot's ${spec.name} is ${expected}` };
  const bytes = utf8.encode(JSON.stringify(value)).length;
  if (bytes > spec.maxLength!) return { ok: false, reason: `is ${bytes} bytes as compact JSON; a spot's ${spec.name} is ${expected}` };
  return { ok: true };
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
      return checkText(spec.name, { chars: spec.chars, minLength: spec.minLength, maxLength: spec.maxLength! }, value);
    case 'ipv4':
      return typeof value === 'string' && IPV4.test(value) ? { ok: true } : fail('an IPv4 address like "192.168.0.10"');
    case 'object':
      return checkObject(spec, value);
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
  for (const [key, rule] of Object.entries(FIRMWARE_UPDATE_TEXT)) {
    const value = data[key];
    if (value === undefined) errors.push({ key, reason: `expected a string of ${describeRule(rule)}, got nothing` });
    else {
      const check = checkText(`firmware ${key}`, rule, value);
      if (!check.ok) errors.push({ key, reason: check.reason });
    }
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
