// `spot-gateway image ...` as a child process: keygen, sign, verify exit 0 for a good image and the
// documented code with a one-line reason otherwise, info prints the fields. Needs gateway/dist (tsc).
// Every other exit code and usage error: image-commands.test.ts, in-process.
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

test('verify of a tampered or wrong-target image exits with its code and one line saying why', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), app);
  t.is((await cli(dir, 'keygen', '--out', 'site')).code, 0);
  t.is((await cli(dir, 'sign', '--key', 'site', '--version', '2.0.0', '--target', 'nrf52840dk', '--pad-header', 'app.bin', 'nrf.img')).code, 0);
  const image = readFileSync(path.join(dir, 'nrf.img'));
  const tampered = Buffer.from(image);
  tampered[0x200 + 1000] = tampered[0x200 + 1000]! ^ 0x01;
  writeFileSync(path.join(dir, 'tampered.img'), tampered);

  const bad = await cli(dir, 'verify', '--pub', 'site.pub', 'tampered.img');
  t.is(bad.code, 16, bad.err);
  t.regex(bad.err, /^spot-gateway: tampered\.img: hash-mismatch: .*altered or damaged\n$/);
  t.is(bad.out, '');
  const foreign = await cli(dir, 'verify', '--pub', 'site.pub', 'nrf.img');
  t.is(foreign.code, 20, foreign.err);
  t.regex(foreign.err, /^spot-gateway: nrf\.img: wrong-target: the image is for "nrf52840dk", not "mps2-an385"\n$/);
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
