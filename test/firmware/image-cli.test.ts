// `spot-gateway image ...` as a child process: keygen, sign, verify exit 0 for a good image and the
// documented code with a one-line reason otherwise, info prints the fields. Needs gateway/dist (tsc).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { runCli, tempDir, within } from '../helpers/gateway.js';

async function cli(cwd: string, ...args: string[]): Promise<{ code: number | string; out: string; err: string }> {
  const run = runCli(['image', ...args], { cwd });
  const code = await within(run.exited, 20000, `image ${args.join(' ')}`);
  return { code, out: run.stdout(), err: run.stderr() };
}

const app = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff));

test('keygen, sign and verify: a good image exits 0', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), app);
  const keygen = await cli(dir, 'keygen', '--out', 'site');
  t.is(keygen.code, 0, keygen.err);
  t.regex(keygen.out, /wrote site\.pem .* and site\.pub\.pem; key hash [0-9a-f]{64}/);
  t.is(statSync(path.join(dir, 'site.pem')).mode & 0o777, 0o600, 'the private key is readable by its owner only');
  t.regex(readFileSync(path.join(dir, 'site.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  t.regex(readFileSync(path.join(dir, 'site.pub.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);

  const signed = await cli(dir, 'sign', '--key', 'site', '--version', '1.4.2+7', '--pad-header', 'app.bin', 'app.img');
  t.is(signed.code, 0, signed.err);
  t.regex(signed.out, /^app\.img: version 1\.4\.2\+7, body 5000 bytes, target mps2-an385, hash [0-9a-f]{64}\n$/);

  const verified = await cli(dir, 'verify', '--pub', 'site.pub', 'app.img');
  t.is(verified.code, 0, verified.err);
  t.regex(verified.out, /^app\.img: good \(version 1\.4\.2\+7, target mps2-an385, key [0-9a-f]{64}, hash [0-9a-f]{64}\)\n$/);
  t.is(verified.err, '');
});

test('verify of a tampered, foreign-key or wrong-target image exits with its code and one line saying why', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), app);
  t.is((await cli(dir, 'keygen', '--out', 'site')).code, 0);
  t.is((await cli(dir, 'keygen', '--out', 'other')).code, 0);
  t.is((await cli(dir, 'sign', '--key', 'site', '--version', '2.0.0', '--pad-header', 'app.bin', 'app.img')).code, 0);
  t.is((await cli(dir, 'sign', '--key', 'site', '--version', '2.0.0', '--target', 'nrf52840dk', '--pad-header', 'app.bin', 'nrf.img')).code, 0);
  const image = readFileSync(path.join(dir, 'app.img'));
  const tampered = Buffer.from(image);
  tampered[0x200 + 1000] = tampered[0x200 + 1000]! ^ 0x01;
  writeFileSync(path.join(dir, 'tampered.img'), tampered);
  writeFileSync(path.join(dir, 'cut.img'), image.subarray(0, 3000));

  const cases: Array<[string[], number, RegExp]> = [
    [['--pub', 'site.pub', 'tampered.img'], 16, /^spot-gateway: tampered\.img: hash-mismatch: .*altered or damaged\n$/],
    [['--pub', 'other.pub', 'app.img'], 18, /^spot-gateway: app\.img: unknown-key: signed by another key/],
    [['--pub', 'site.pub', 'nrf.img'], 20, /^spot-gateway: nrf\.img: wrong-target: the image is for "nrf52840dk", not "mps2-an385"\n$/],
    [['--pub', 'site.pub', 'cut.img'], 11, /^spot-gateway: cut\.img: truncated: /],
    [['--pub', 'site.pub', 'app.bin'], 10, /^spot-gateway: app\.bin: bad-magic: /],
    [['--pub', 'site.pub', 'missing.img'], 3, /^spot-gateway: cannot read missing\.img: ENOENT\n$/],
    [['--pub', 'nokey', 'app.img'], 3, /cannot read nokey/],
  ];
  for (const [args, code, message] of cases) {
    const run = await cli(dir, 'verify', ...args);
    t.is(run.code, code, `${args.join(' ')}: ${run.err}`);
    t.regex(run.err, message, args.join(' '));
    t.is(run.err.trim().split('\n').length, 1, 'one line');
    t.is(run.out, '');
  }
  const accepted = await cli(dir, 'verify', '--pub', 'site.pub', '--target', 'nrf52840dk', 'nrf.img');
  t.is(accepted.code, 0, 'the image is good for its own target');
});

test('info prints version, sizes, hash, target and key hash; --json as one object', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), Buffer.concat([Buffer.alloc(0x200), app]));
  const keygen = await cli(dir, 'keygen', '--out', 'site');
  const keyHash = /key hash ([0-9a-f]{64})/.exec(keygen.out)![1]!;
  const signed = await cli(dir, 'sign', '-k', 'site.pem', '-v', '0.9.1', 'app.bin', 'app.img');
  t.is(signed.code, 0, signed.err);
  const hash = /hash ([0-9a-f]{64})/.exec(signed.out)![1]!;

  const text = await cli(dir, 'info', 'app.img');
  t.is(text.code, 0, text.err);
  t.regex(text.out, /^version: +0\.9\.1\+0$/m);
  t.regex(text.out, /^header size: +512 \(0x200\)$/m);
  t.regex(text.out, /^body size: +5000$/m);
  t.regex(text.out, new RegExp(`^hash: +${hash} \\(matches\\)$`, 'm'));
  t.regex(text.out, /^target: +mps2-an385$/m);
  t.regex(text.out, new RegExp(`^key hash: +${keyHash}$`, 'm'));
  t.regex(text.out, /^signature: +ed25519$/m);

  const json = await cli(dir, 'info', '--json', 'app.img');
  t.is(json.code, 0);
  const parsed = JSON.parse(json.out) as Record<string, unknown>;
  t.like(parsed, { file: 'app.img', version: '0.9.1+0', headerSize: 512, imageSize: 5000, hash, hashMatches: true, target: 'mps2-an385', keyHashes: [keyHash], signatures: ['ed25519'], trailingBytes: 0 });

  const notImage = await cli(dir, 'info', 'site.pem');
  t.is(notImage.code, 10);
});

test('sign refuses an input without zeroed header room unless --pad-header, and keygen never overwrites a key', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), app);
  t.is((await cli(dir, 'keygen', '--out', 'site')).code, 0);
  const before = readFileSync(path.join(dir, 'site.pem'), 'utf8');
  const again = await cli(dir, 'keygen', '--out', 'site');
  t.is(again.code, 3);
  t.regex(again.err, /site\.pem exists; not overwriting a key/);
  t.is(readFileSync(path.join(dir, 'site.pem'), 'utf8'), before);

  const noRoom = await cli(dir, 'sign', '--key', 'site', '--version', '1.0.0', 'app.bin', 'app.img');
  t.is(noRoom.code, 2);
  t.regex(noRoom.err, /app\.bin: the input does not start with 0x200 zero bytes for the header; link the header room in or use --pad-header/);
  const badVersion = await cli(dir, 'sign', '--key', 'site', '--version', '1.2.3.4', '--pad-header', 'app.bin', 'app.img');
  t.is(badVersion.code, 2);
  t.regex(badVersion.err, /version "1\.2\.3\.4" is not X\.Y\.Z\+B/);
});

test('--help on every image command, and usage errors exit 2', async (t) => {
  const dir = tempDir(t);
  for (const args of [['--help'], ['keygen', '--help'], ['sign', '--help'], ['verify', '--help'], ['info', '--help']]) {
    const run = await cli(dir, ...args);
    t.is(run.code, 0, args.join(' '));
    t.regex(run.out, /Usage: spot-gateway image/, args.join(' '));
  }
  t.is((await cli(dir)).code, 2);
  t.is((await cli(dir, 'fly')).code, 2);
  t.is((await cli(dir, 'verify', 'x.img')).code, 2, 'no --pub');
  t.is((await cli(dir, 'sign', '--key', 'k', '--version', '1', 'only-one-file')).code, 2);
  t.is((await cli(dir, 'info', '--bogus', 'x.img')).code, 2);
});
