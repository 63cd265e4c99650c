// Commands are checked against the shared config schema before they are queued.
import test from 'ava';
import { validateCommand, validateConfigValue } from '../../gateway/src/protocol/index.js';

test('a config update with known keys and valid values is accepted', (t) => {
  t.deepEqual(validateCommand('config', 'update', { brain_address: '192.168.0.120', rfid_power_dbm: 30, send_hits: true, rfid_region: 'us', ip: '10.0.0.7', max_antenna_swr: 2.5, control_schema: { led: 'hit' } }), { ok: true });
});

test('an unknown config key is refused by name', (t) => {
  t.deepEqual(validateCommand('config', 'update', { brain_adress: 'x' }), { ok: false, errors: [{ key: 'brain_adress', reason: 'unknown config key' }] });
});

test('wrong types and out-of-range values name what was expected', (t) => {
  const check = validateCommand('config', 'update', { rfid_power_dbm: 40, send_hits: 'true', rfid_region: 'mars', ip: '300.1.1.1', hostname: 'h'.repeat(64), rfid_channel: 1.5, max_antenna_swr: 0.5, control_schema: [] });
  t.false(check.ok);
  if (check.ok) return;
  t.deepEqual(check.errors, [
    { key: 'rfid_power_dbm', reason: 'expected an integer from 0 to 33, got number 40' },
    { key: 'send_hits', reason: 'expected true or false, got the string "true"' },
    { key: 'rfid_region', reason: 'expected one of "eu", "us", "cn", "jp", "kr", "au", "in", "br", got the string "mars"' },
    { key: 'ip', reason: 'expected an IPv4 address like "192.168.0.10", got the string "300.1.1.1"' },
    { key: 'hostname', reason: "is 64 bytes long; a spot's hostname is visible ASCII (U+0021..U+007E), 1 to 63 bytes" },
    { key: 'rfid_channel', reason: 'expected an integer from 0 to 50, got number 1.5' },
    { key: 'max_antenna_swr', reason: 'expected a number from 1 to 20, got number 0.5' },
    { key: 'control_schema', reason: 'expected a JSON object, got an array' },
  ]);
});

test('a factory reset is valid alone and only with true', (t) => {
  t.deepEqual(validateCommand('config', 'update', { reset: true }), { ok: true });
  t.false(validateCommand('config', 'update', { reset: true, telnet: true }).ok);
  t.false(validateCommand('config', 'update', { reset: false }).ok);
  t.false(validateCommand('config', 'update', {}).ok);
});

test('firmware update needs url and version strings, or reset_counters alone', (t) => {
  t.deepEqual(validateCommand('firmware', 'update', { url: '/firmware/beta/beta22.bin', version: 'beta22' }), { ok: true });
  t.deepEqual(validateCommand('firmware', 'update', { reset_counters: true }), { ok: true });
  t.deepEqual(validateCommand('firmware', 'update', { url: '/f.bin' }), { ok: false, errors: [{ key: 'version', reason: 'expected a string of visible ASCII (U+0021..U+007E), 1 to 31 bytes, got nothing' }] });
  t.false(validateCommand('firmware', 'update', { reset_counters: true, url: '/f.bin' }).ok);
  t.false(validateCommand('firmware', 'update', { url: '/f.bin', version: 'v', force: true }).ok);
});

test('brain senses bs1..bs5 take small integers', (t) => {
  t.deepEqual(validateCommand('brain_sense', 'update', { bs1: 1, bs5: -3 }), { ok: true });
  t.deepEqual(validateCommand('brain_sense', 'update', { bs6: 1 }), { ok: false, errors: [{ key: 'bs6', reason: 'unknown brain sense (bs1..bs5)' }] });
  t.false(validateCommand('brain_sense', 'update', { bs2: 70000 }).ok);
  t.false(validateCommand('brain_sense', 'update', { bs2: '1' }).ok);
});

test('any other resource/action is an unknown command; data must be an object', (t) => {
  const check = validateCommand('presence', 'create', {});
  t.false(check.ok);
  if (!check.ok) t.regex(check.errors[0]!.reason, /^unknown command "presence create"/);
  t.false(validateCommand('config', 'update', null).ok);
});

test('validateConfigValue checks one key', (t) => {
  t.deepEqual(validateConfigValue('telnet', false), { ok: true });
  t.deepEqual(validateConfigValue('nope', 1), { ok: false, reason: 'unknown config key' });
  t.deepEqual(validateConfigValue('alive_ds', 0), { ok: false, reason: 'expected an integer from 1 to 600, got number 0' });
});
