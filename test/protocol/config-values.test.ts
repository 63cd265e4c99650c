// A command may only carry values a spot can hold: checked per key against shared-schema/spot-config.json.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS, type ConfigKeySpec } from '../../gateway/src/gen/spot-config.js';
import { FIRMWARE_UPDATE_TEXT } from '../../gateway/src/protocol/commands.js';
import { validateCommand } from '../../gateway/src/protocol/index.js';

const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared-schema');

const keysOf = (type: ConfigKeySpec['type']): ConfigKeySpec[] => CONFIG_KEYS.filter((k) => k.type === type);

/** The one error of a config update setting `key` alone, or null when it is accepted. */
function configError(key: string, value: unknown): string | null {
  const check = validateCommand('config', 'update', { [key]: value });
  if (check.ok) return null;
  if (check.errors.length !== 1 || check.errors[0]!.key !== key) throw new Error(`unexpected errors ${JSON.stringify(check.errors)}`);
  return check.errors[0]!.reason;
}

test('no string key takes a NUL, a line feed or any other control character, and the reason names the key and the character', (t) => {
  const strings = keysOf('string');
  t.true(strings.length >= 4);
  const controls: Array<[string, string]> = [
    ['\u0000', 'U+0000 (NUL)'],
    ['\n', 'U+000A (line feed)'],
    ['\r', 'U+000D (carriage return)'],
    ['\t', 'U+0009 (tab)'],
    ['\u0001', 'U+0001'],
    ['\u001f', 'U+001F'],
    ['\u007f', 'U+007F (DEL)'],
    ['\u0085', 'U+0085'],
  ];
  for (const spec of strings) {
    for (const [ch, name] of controls) {
      const reason = configError(spec.name, `ab${ch}c`);
      t.is(reason?.startsWith(`holds ${name} at character 2; a spot's ${spec.name} is `), true, `${spec.name} with ${name}: ${reason}`);
    }
  }
  t.is(configError('hostname', 'spot\u0000'), "holds U+0000 (NUL) at character 4; a spot's hostname is visible ASCII (U+0021..U+007E), 1 to 63 bytes");
});

test('network names are visible ASCII: no space, no non-ASCII letter, no unpaired surrogate', (t) => {
  for (const spec of keysOf('string').filter((k) => k.chars === 'visible-ascii')) {
    t.regex(configError(spec.name, 'my spot') ?? '', /^holds U\+0020 \(space\) at character 2;/, spec.name);
    t.regex(configError(spec.name, 'spöt') ?? '', /^holds U\+00F6 at character 2;/, spec.name);
    t.regex(configError(spec.name, 'a\ud800') ?? '', /^holds U\+D800 \(an unpaired surrogate\) at character 1;/, spec.name);
  }
  t.deepEqual(keysOf('string').filter((k) => k.chars !== 'visible-ascii').map((k) => k.name), [], 'every string key today is a network name');
});

test('string keys take exactly maxLength bytes and refuse one byte more, counted in UTF-8 bytes', (t) => {
  for (const spec of keysOf('string')) {
    const max = spec.maxLength!;
    t.is(configError(spec.name, 'a'.repeat(max)), null, `${spec.name} at ${max} bytes`);
    t.regex(configError(spec.name, 'a'.repeat(max + 1)) ?? '', new RegExp(`^is ${max + 1} bytes long; a spot's ${spec.name} is visible ASCII`), spec.name);
  }
  t.is(configError('hostname', 'a'), null);
  t.is(configError('hostname', ''), "is empty; a spot's hostname is visible ASCII (U+0021..U+007E), 1 to 63 bytes");
  t.is(configError('brain_address', ''), "is empty; a spot's brain_address is visible ASCII (U+0021..U+007E), 1 to 127 bytes");
  t.is(configError('update_address', ''), null, 'empty update_address = brain_address');
  t.is(configError('brain_address', '192.168.0.120:8080'), null);
});

test('every key refuses a value of the wrong type, naming what it expected', (t) => {
  const wrong: Record<ConfigKeySpec['type'], unknown> = { bool: 'true', int: '5', number: '2.5', enum: 1, string: 5, ipv4: 167772161, object: '{}' };
  for (const spec of CONFIG_KEYS) {
    const reason = configError(spec.name, wrong[spec.type]);
    t.regex(reason ?? '', /^expected .*, got /, `${spec.name}: ${reason}`);
  }
  t.is(configError('hostname', 5), 'expected a string of visible ASCII (U+0021..U+007E), 1 to 63 bytes, got number 5');
  t.is(configError('send_hits', null), 'expected true or false, got null');
});

test('int and number keys take their min and max and refuse what lies outside', (t) => {
  for (const spec of [...keysOf('int'), ...keysOf('number')]) {
    const step = spec.type === 'int' ? 1 : 0.001;
    t.is(configError(spec.name, spec.min), null, `${spec.name} = min`);
    t.is(configError(spec.name, spec.max), null, `${spec.name} = max`);
    t.truthy(configError(spec.name, spec.min! - step), `${spec.name} below min`);
    t.truthy(configError(spec.name, spec.max! + step), `${spec.name} above max`);
  }
  for (const spec of keysOf('int')) t.truthy(configError(spec.name, spec.min! + 0.5), `${spec.name} not an integer`);
});

test('enum keys take each of their values and nothing else', (t) => {
  for (const spec of keysOf('enum')) {
    for (const value of spec.values!) t.is(configError(spec.name, value), null, `${spec.name} = ${value}`);
    t.truthy(configError(spec.name, `${spec.values![0]}\u0000`), spec.name);
    t.truthy(configError(spec.name, spec.values![0]!.toUpperCase() === spec.values![0] ? spec.values![0].toLowerCase() : spec.values![0]!.toUpperCase()), spec.name);
  }
});

test('ipv4 keys take dotted quads only', (t) => {
  for (const spec of keysOf('ipv4')) {
    for (const good of ['0.0.0.0', '255.255.255.255', '10.0.0.7']) t.is(configError(spec.name, good), null, `${spec.name} = ${good}`);
    for (const bad of ['256.0.0.1', '10.0.0.7\n', '10.0.0.7\u0000', '10.0.0', '010.0.0.1', ' 10.0.0.7']) t.truthy(configError(spec.name, bad), `${spec.name} = ${JSON.stringify(bad)}`);
  }
});

test('control_schema fits the firmware: at most 255 bytes of compact JSON, nested at most 32 levels', (t) => {
  const sized = (bytes: number): Record<string, unknown> => ({ a: 'x'.repeat(bytes - '{"a":""}'.length) });
  t.is(configError('control_schema', sized(255)), null);
  t.is(
    configError('control_schema', sized(256)),
    "is 256 bytes as compact JSON; a spot's control_schema is a JSON object of at most 255 bytes as compact JSON, nested at most 32 levels",
  );
  const nested = (levels: number): Record<string, unknown> => {
    let v: Record<string, unknown> = {};
    for (let i = 1; i < levels; i++) v = { a: v };
    return v;
  };
  t.is(configError('control_schema', nested(32)), null);
  t.regex(configError('control_schema', nested(33)) ?? '', /^nests deeper than 32 levels; /);
  t.is(configError('control_schema', { led1: 'hit', led2: { on: 'presence' } }), null);
});

test('firmware update: url and version are visible ASCII within the spot\'s buffers', (t) => {
  const errors = (data: Record<string, unknown>): unknown => {
    const check = validateCommand('firmware', 'update', data);
    return check.ok ? [] : check.errors;
  };
  t.deepEqual(errors({ url: '/firmware/beta/beta22.bin', version: 'beta22' }), []);
  t.deepEqual(errors({ url: `/${'u'.repeat(126)}`, version: 'v'.repeat(31) }), [], 'the longest values that fit');
  t.deepEqual(errors({ url: '/f.bin', version: 'beta\n22' }), [
    { key: 'version', reason: "holds U+000A (line feed) at character 4; a spot's firmware version is visible ASCII (U+0021..U+007E), 1 to 31 bytes" },
  ]);
  t.deepEqual(errors({ url: '/f\u0000.bin', version: 'v'.repeat(32) }), [
    { key: 'url', reason: "holds U+0000 (NUL) at character 2; a spot's firmware url is visible ASCII (U+0021..U+007E), 1 to 127 bytes" },
    { key: 'version', reason: "is 32 bytes long; a spot's firmware version is visible ASCII (U+0021..U+007E), 1 to 31 bytes" },
  ]);
  t.deepEqual(errors({ url: '', version: 7 }), [
    { key: 'url', reason: "is empty; a spot's firmware url is visible ASCII (U+0021..U+007E), 1 to 127 bytes" },
    { key: 'version', reason: 'expected a string of visible ASCII (U+0021..U+007E), 1 to 31 bytes, got number 7' },
  ]);
});

test('the text limits match the firmware\'s buffers in spot.options (maxLength + 1 for the NUL)', (t) => {
  const options = readFileSync(path.join(SCHEMA_DIR, 'spot.options'), 'utf8');
  const maxSize = (field: string): number | undefined => {
    const m = new RegExp(`^spot\\.v1\\.${field.replace('.', '\\.')}\\s+max_size:(\\d+)`, 'm').exec(options);
    return m ? Number(m[1]) : undefined;
  };
  for (const spec of keysOf('string')) t.is(maxSize(`Config.${spec.name}`), spec.maxLength! + 1, spec.name);
  for (const spec of keysOf('object')) t.is(maxSize(`Config.${spec.name}_json`), spec.maxLength! + 1, spec.name);
  t.is(maxSize('FirmwareUpdate.url'), FIRMWARE_UPDATE_TEXT.url.maxLength + 1);
  t.is(maxSize('FirmwareUpdate.version'), FIRMWARE_UPDATE_TEXT.version.maxLength + 1);
});
