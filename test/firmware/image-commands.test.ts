// The image commands in-process: each refusal has its documented exit code and one line naming the
// file and the reason; keys are never overwritten; --help everywhere. (image-cli.test.ts: as a child process.)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { runImageCli } from '../../gateway/src/cli/image.js';
import { tempDir } from '../helpers/gateway.js';

function run(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runImageCli(args, { out: (text) => (out += text), err: (text) => (err += text), env: {}, cwd });
  return { code, out, err };
}

const app = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 17 + 5) & 0xff));

/** A directory with keys `site` and `other`, app.bin, and app.img signed by `site` for mps2-an385. */
function workspace(t: Parameters<typeof tempDir>[0]): { dir: string; image: Buffer } {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'app.bin'), app);
  for (const name of ['site', 'other']) {
    const keygen = run(dir, 'keygen', '--out', name);
    if (keygen.code !== 0) throw new Error(keygen.err);
  }
  const signed = run(dir, 'sign', '--key', 'site', '--version', '1.0.0', '--pad-header', 'app.bin', 'app.img');
  if (signed.code !== 0) throw new Error(signed.err);
  return { dir, image: readFileSync(path.join(dir, 'app.img')) };
}

test('every refused image exits with its documented code and one line: file, reason, detail', (t) => {
  const { dir, image } = workspace(t);
  const write = (name: string, bytes: Uint8Array): string => {
    writeFileSync(path.join(dir, name), bytes);
    return name;
  };
  const flipped = (offset: number): Buffer => {
    const copy = Buffer.from(image);
    copy[offset] = copy[offset]! ^ 0x80;
    return copy;
  };
  const sigAt = image.length - 64;
  const cases: Array<[string, string[], number, RegExp]> = [
    ['bad magic', [write('text.img', Buffer.from('not an image'))], 10, /text\.img: bad-magic: magic 0x.*not an MCUboot image/],
    ['truncated', [write('cut.img', image.subarray(0, 1000))], 11, /cut\.img: truncated: /],
    ['hash mismatch', [write('body.img', flipped(0x300))], 16, /body\.img: hash-mismatch: /],
    ['bad signature', [write('sig.img', flipped(sigAt + 3))], 19, /sig\.img: bad-signature: .*altered after signing/],
    ['unknown key', ['--pub', 'other.pub', 'app.img'], 18, /app\.img: unknown-key: signed by another key/],
    ['no target required', ['--require-target', write('nt.img', Buffer.alloc(0))], 11, /nt\.img: truncated/],
    ['wrong target', ['--target', 'nrf52840dk', 'app.img'], 20, /app\.img: wrong-target: the image is for "mps2-an385", not "nrf52840dk"/],
    ['missing file', ['missing.img'], 3, /cannot read missing\.img: ENOENT$/],
  ];
  for (const [what, args, code, message] of cases) {
    const withKey = args.includes('--pub') ? args : ['--pub', 'site.pub', ...args];
    const result = run(dir, 'verify', ...withKey);
    t.is(result.code, code, `${what}: ${result.err}`);
    t.regex(result.err.trim(), new RegExp(`^spot-gateway: ${message.source}`), what);
    t.is(result.err.trim().split('\n').length, 1, `${what}: one line`);
    t.is(result.out, '', what);
  }
});

test('an image signed without a target passes verify, and is refused with --require-target', (t) => {
  const { dir } = workspace(t);
  t.is(run(dir, 'sign', '--key', 'site', '--version', '1.0.0', '--no-target', '--pad-header', 'app.bin', 'any.img').code, 0);
  const plain = run(dir, 'verify', '--pub', 'site.pub', 'any.img');
  t.is(plain.code, 0, plain.err);
  t.regex(plain.out, /target none/);
  const strict = run(dir, 'verify', '--pub', 'site.pub', '--require-target', 'any.img');
  t.is(strict.code, 21);
  t.regex(strict.err, /no-target: the image names no target; expected "mps2-an385"/);
});

test('verify takes the private key file too, and a key given by its full file name', (t) => {
  const { dir } = workspace(t);
  t.is(run(dir, 'verify', '--pub', 'site', 'app.img').code, 0, 'site -> site.pem, a private key');
  t.is(run(dir, 'verify', '--pub', 'site.pub.pem', 'app.img').code, 0);
  const notKey = run(dir, 'verify', '--pub', 'app.bin', 'app.img');
  t.is(notKey.code, 3);
  t.regex(notKey.err, /app\.bin: not a PEM public or private key/);
});

test('keygen never overwrites a key, and sign refuses what it cannot make an image of', (t) => {
  const { dir } = workspace(t);
  const before = readFileSync(path.join(dir, 'site.pem'), 'utf8');
  const again = run(dir, 'keygen', '--out', 'site');
  t.is(again.code, 3);
  t.regex(again.err, /site\.pem exists; not overwriting a key/);
  t.is(readFileSync(path.join(dir, 'site.pem'), 'utf8'), before);

  const refusals: Array<[string[], number, RegExp]> = [
    [['--key', 'site', '--version', '1.0.0', 'app.bin', 'o.img'], 2, /app\.bin: the input does not start with 0x200 zero bytes for the header; link the header room in or use --pad-header/],
    [['--key', 'site', '--version', '1.2.3.4', '--pad-header', 'app.bin', 'o.img'], 2, /version "1\.2\.3\.4" is not X\.Y\.Z\+B/],
    [['--key', 'site', '--version', '1', '--header-size', 'big', '--pad-header', 'app.bin', 'o.img'], 2, /--header-size "big" is not a number/],
    [['--key', 'site', '--version', '1', '--header-size', '16', '--pad-header', 'app.bin', 'o.img'], 2, /header size 16 must be 32\.\.65535/],
    [['--key', 'site', '--version', '1', '--target', 'Bad Name', '--pad-header', 'app.bin', 'o.img'], 2, /target "Bad Name" must be 1\.\.64 characters/],
    [['--key', 'site', '--version', '1', '--target', 'x', '--no-target', 'app.bin', 'o.img'], 2, /--target and --no-target exclude each other/],
    [['--key', 'site.pub', '--version', '1', '--pad-header', 'app.bin', 'o.img'], 3, /site\.pub\.pem: not a PEM private key/],
    [['--key', 'nokey', '--version', '1', '--pad-header', 'app.bin', 'o.img'], 3, /cannot read nokey: ENOENT \(nor nokey\.pem\)/],
    [['--key', 'site', '--version', '1', '--pad-header', 'missing.bin', 'o.img'], 3, /cannot read missing\.bin/],
  ];
  for (const [args, code, message] of refusals) {
    const result = run(dir, 'sign', ...args);
    t.is(result.code, code, `${args.join(' ')}: ${result.err}`);
    t.regex(result.err, message, args.join(' '));
  }
  t.is(run(dir, 'sign', '--key', 'site', '--version', '1', '-H', '0x400', '--pad-header', 'app.bin', 'o.img').code, 0, 'another header size');
  const info = run(dir, 'info', '--json', 'o.img');
  t.like(JSON.parse(info.out) as object, { headerSize: 0x400, imageSize: app.length });
});

test('--help on every image command; usage errors exit 2 with the help', (t) => {
  const dir = tempDir(t);
  for (const args of [['--help'], ['keygen', '--help'], ['sign', '--help'], ['verify', '--help'], ['info', '--help']]) {
    const result = run(dir, ...args);
    t.is(result.code, 0, args.join(' '));
    t.regex(result.out, /^Usage: spot-gateway image/, args.join(' '));
  }
  const usage: string[][] = [[], ['fly'], ['keygen'], ['verify', 'x.img'], ['sign', '--key', 'k', '--version', '1', 'only-one-file'], ['info', '--bogus', 'x.img'], ['info']];
  for (const args of usage) {
    const result = run(dir, ...args);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.err, /Usage: spot-gateway image/, args.join(' '));
  }
});
