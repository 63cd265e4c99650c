// firmware.trusted_keys and firmware.ports on their own: key files that cannot be used stop the
// start with the file's name; an image signed by any trusted key passes, a bad signature by one is
// named as such; the port allow-list's patterns.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ConfigError } from '../../gateway/src/config/index.js';
import { portRules } from '../../gateway/src/flash/port-rules.js';
import { checkImage, loadTrustedKeys } from '../../gateway/src/flash/trusted-keys.js';
import { tempDir } from '../helpers/gateway.js';
import { GOOD, UNKNOWN_KEY, writeTrustedKey } from './images.js';

test('trusted key files that cannot be used are refused with their name and the reason', (t) => {
  const dir = tempDir(t);
  const rsa = path.join(dir, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(path.join(dir, 'junk.pem'), 'not a key');
  t.throws(() => loadTrustedKeys('missing.pem', dir), { instanceOf: ConfigError, message: 'firmware.trusted_keys: missing.pem: cannot read (ENOENT)' });
  t.throws(() => loadTrustedKeys(`${rsa}`, dir), { instanceOf: ConfigError, message: `firmware.trusted_keys: ${rsa}: the public key is an rsa key; image signing uses ed25519` });
  t.throws(() => loadTrustedKeys('junk.pem', dir), { instanceOf: ConfigError, message: /^firmware\.trusted_keys: junk\.pem: not a PEM public or private key/ });
  t.deepEqual(loadTrustedKeys(' , ', dir), []);
});

test('an image signed by any one of the trusted keys passes, with that key', (t) => {
  const dir = tempDir(t);
  const other = path.join(dir, 'other.pub.pem');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  const keys = loadTrustedKeys(`${other}, ${writeTrustedKey(dir)}`, dir);
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
  const rules = portRules('/dev/serial/by-id/*, /dev/ttyUSB*');
  t.deepEqual(rules.patterns, ['/dev/serial/by-id/*', '/dev/ttyUSB*']);
  t.deepEqual(rules.check('/dev/ttyUSB0'), { ok: true });
  t.deepEqual(rules.check('/dev/serial/by-id/usb-FTDI-if00'), { ok: true });
  t.false(rules.check('/dev/serial/by-id/x/y').ok);
  t.false(rules.check('/dev/ttyS0').ok);
  t.like(rules.check('dev/ttyUSB0'), { ok: false, reason: 'port "dev/ttyUSB0" is not a plain absolute path' });
  t.like(rules.check('/dev//ttyUSB0'), { ok: false });
  t.like(portRules('').check('/dev/ttyUSB0'), { ok: false, reason: 'port /dev/ttyUSB0 is not one the API may open (firmware.ports is empty: no port may be flashed from the API)' });
  t.throws(() => portRules('/dev/ttyUSB*,ttyACM0'), { instanceOf: ConfigError, message: 'firmware.ports: "ttyACM0" is not an absolute path' });
  t.deepEqual(portRules('/dev/tty.(1)').check('/dev/tty.(1)'), { ok: true }, 'other characters are literal');
  t.false(portRules('/dev/tty.(1)').check('/dev/ttyx(1)').ok);
});
