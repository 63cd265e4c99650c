// firmware.trusted_keys and firmware.ports on their own: key files that cannot be used refuse the
// configuration with the file's name; an image signed by any trusted key passes, a bad signature by one is
// named as such; the port allow-list's patterns.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../../gateway/src/config/index.js';
import { portRules } from '../../gateway/src/flash/port-rules.js';
import { checkImage, readTrustedKeys } from '../../gateway/src/flash/trusted-keys.js';
import { runCli, startTestGateway, tempDir, within } from '../helpers/gateway.js';
import { GOOD, UNKNOWN_KEY, writeTrustedKey } from './images.js';

test('trusted key files that cannot be used are refused with their name and the reason', (t) => {
  const dir = tempDir(t);
  const rsa = path.join(dir, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(path.join(dir, 'junk.pem'), 'not a key');
  t.deepEqual(readTrustedKeys('missing.pem', dir), { ok: false, reason: 'missing.pem: cannot read (ENOENT)' });
  t.deepEqual(readTrustedKeys(`${rsa}`, dir), { ok: false, reason: `${rsa}: the public key is an rsa key; image signing uses ed25519` });
  t.like(readTrustedKeys('junk.pem', dir), { ok: false });
  t.regex(JSON.stringify(readTrustedKeys('junk.pem', dir)), /"junk\.pem: not a PEM public or private key/);
  t.deepEqual(readTrustedKeys(' , ', dir), { ok: true, keys: [] });
});

test('a key file or port pattern that cannot be used refuses the configuration: at load (exit 2, config check) and at start', async (t) => {
  const dir = tempDir(t);
  const env = { SPOT_GATEWAY_FIRMWARE_TRUSTED_KEYS: 'missing.pem' };
  t.throws(() => loadConfig({ env, cwd: dir }), { instanceOf: ConfigError, message: 'SPOT_GATEWAY_FIRMWARE_TRUSTED_KEYS (firmware.trusted_keys): missing.pem: cannot read (ENOENT)' });
  writeFileSync(path.join(dir, 'gateway.yaml'), 'firmware:\n  ports: /dev/ttyUSB*,ttyACM0\n');
  t.throws(() => loadConfig({ env: {}, cwd: dir }), { instanceOf: ConfigError, message: `config ${path.join(dir, 'gateway.yaml')}: firmware.ports: "ttyACM0" is not an absolute path` });
  writeFileSync(path.join(dir, 'gateway.yaml'), `firmware:\n  trusted_keys: ${writeTrustedKey(dir)}\n`);
  t.is(loadConfig({ env: {}, cwd: dir }).config.firmware.trusted_keys, path.join(dir, 'site.pub.pem'));

  const run = runCli(['run'], { cwd: tempDir(t), env: { ...env, SPOT_GATEWAY_HTTP_PORT: '0' } });
  t.is(await within(run.exited, 20000, 'run with a missing key file'), 2);
  t.is(run.stderr(), 'spot-gateway: SPOT_GATEWAY_FIRMWARE_TRUSTED_KEYS (firmware.trusted_keys): missing.pem: cannot read (ENOENT)\n');

  // A configuration that did not come through loadConfig is checked again at start.
  await t.throwsAsync(startTestGateway(t, { config: { firmware: { trusted_keys: '/nonexistent.pem' } } }), { instanceOf: ConfigError, message: 'firmware.trusted_keys: /nonexistent.pem: cannot read (ENOENT)' });
  await t.throwsAsync(startTestGateway(t, { config: { firmware: { ports: 'ttyUSB0' } } }), { instanceOf: ConfigError, message: 'firmware.ports: "ttyUSB0" is not an absolute path' });
});

test('an image signed by any one of the trusted keys passes, with that key', (t) => {
  const dir = tempDir(t);
  const other = path.join(dir, 'other.pub.pem');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  const read = readTrustedKeys(`${other}, ${writeTrustedKey(dir)}`, dir);
  if (!read.ok) return t.fail(read.reason);
  const keys = read.keys;
  t.is(keys.length, 2);
  const checked = checkImage(GOOD, { keys, target: 'mps2-an385', requireTarget: true });
  t.true(checked.ok);
  t.is(checked.ok ? checked.key : null, keys[1]!);
  const unknown = checkImage(UNKNOWN_KEY, { keys, target: 'mps2-an385', requireTarget: true });
  t.like(unknown, { ok: false, reason: 'unknown-key' });
  t.regex(unknown.ok ? '' : unknown.detail, new RegExp(`the trusted keys are ${other.replace(/[.]/g, '\\.')} \\([0-9a-f]{64}\\), .*site\\.pub\\.pem`));
  // A signature by a trusted key that does not verify is that, not an unknown key.
  const forged = Buffer.from(GOOD);
  forged[forged.length - 1]! ^= 0x01;
  t.like(checkImage(forged, { keys, target: 'mps2-an385', requireTarget: true }), { ok: false, reason: 'bad-signature' });
});

test('firmware.ports: absolute patterns with *, which never crosses a /', (t) => {
  const rulesOf = (list: string) => {
    const made = portRules(list);
    if (!made.ok) throw new Error(made.reason);
    return made.rules;
  };
  const rules = rulesOf('/dev/serial/by-id/*, /dev/ttyUSB*');
  t.deepEqual(rules.patterns, ['/dev/serial/by-id/*', '/dev/ttyUSB*']);
  t.deepEqual(rules.check('/dev/ttyUSB0'), { ok: true });
  t.deepEqual(rules.check('/dev/serial/by-id/usb-FTDI-if00'), { ok: true });
  t.false(rules.check('/dev/serial/by-id/x/y').ok);
  t.false(rules.check('/dev/ttyS0').ok);
  t.like(rules.check('dev/ttyUSB0'), { ok: false, reason: 'port "dev/ttyUSB0" is not a plain absolute path' });
  t.like(rules.check('/dev//ttyUSB0'), { ok: false });
  t.like(rulesOf('').check('/dev/ttyUSB0'), { ok: false, reason: 'port /dev/ttyUSB0 is not one the API may open (firmware.ports is empty: no port may be flashed from the API)' });
  t.deepEqual(portRules('/dev/ttyUSB*,ttyACM0'), { ok: false, reason: '"ttyACM0" is not an absolute path' });
  t.deepEqual(rulesOf('/dev/tty.(1)').check('/dev/tty.(1)'), { ok: true }, 'other characters are literal');
  t.false(rulesOf('/dev/tty.(1)').check('/dev/ttyx(1)').ok);
});
