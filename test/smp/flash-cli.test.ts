// `spot-gateway smp ...` and `flash` as child processes over a socat pty pair, real serialport on
// both ends, the SMP stand-in as the device. Needs gateway/dist (tsc) and socat.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import test from 'ava';
import { runCli, tempDir, within, type Teardown } from '../helpers/gateway.js';
import { ptyPair } from '../helpers/pty-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { SIGNING_KEY, signedImage } from './images.js';

const A = signedImage('1.0.0', 3000);
const B = signedImage('1.1.0', 24000);

async function bench(t: Teardown, options: StandInOptions = {}) {
  const pair = await ptyPair(t);
  const server = new SmpServerStandIn(pair.device, freshFlash(A), options);
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'site.pub.pem'), createPublicKey(SIGNING_KEY).export({ format: 'pem', type: 'spki' }));
  writeFileSync(path.join(dir, 'b.img'), B);
  let deviceBytes = 0;
  pair.device.on('data', (chunk: Buffer) => (deviceBytes += chunk.length));
  const cli = async (...args: string[]) => {
    const run = runCli(args, { cwd: dir });
    const code = await within(run.exited, 30000, args.join(' '));
    return { code, out: run.stdout(), err: run.stderr() };
  };
  return { server, dir, cli, port: pair.gatewayPath, deviceBytes: () => deviceBytes };
}

test('smp list over a real pty shows the running image, smp echo and params answer', async (t) => {
  const { cli, port } = await bench(t, { bufSize: 384, faults: { consoleNoise: true } });
  const list = await cli('smp', 'list', '--port', port);
  t.is(list.code, 0, list.err);
  t.regex(list.out, /^image 0 slot 0: 1\.0\.0 {2}active confirmed bootable {2}hash [0-9a-f]{64}\n$/);
  const echoed = await cli('smp', 'echo', '--port', port, 'over the pty');
  t.is(echoed.code, 0, echoed.err);
  t.is(echoed.out, 'over the pty\n');
  const params = await cli('smp', 'params', '--port', port, '--json');
  t.deepEqual(JSON.parse(params.out), { bufSize: 384, bufCount: 4 });
});

test('flash over a real pty: an upload cut half-way exits 31, the next flash resumes at the offset the device holds', async (t) => {
  const { cli, port, server } = await bench(t, { faults: { silentFromUploadOffset: 12000 } });
  const cut = await cli('flash', '--port', port, '--pub', 'site.pub', '--timeout', '300', '--tries', '2', 'b.img');
  t.is(cut.code, 31, cut.err);
  t.regex(cut.err, /flash b\.img: no-answer: image upload: no answer to group 1 command 1 after 2 tries/);
  const held = server.flash.upload!.off;
  t.true(held >= 12000 && held < B.length);

  server.silent = false;
  server.faults.silentFromUploadOffset = undefined;
  const resumed = await cli('flash', '--port', port, '--pub', 'site.pub', '--boot-wait', '10', 'b.img');
  t.is(resumed.code, 0, resumed.err);
  t.true(resumed.err.includes(`resuming the upload at offset ${held} of ${B.length}`), resumed.err);
  t.regex(resumed.err, /upload \d+\/24\d+ bytes 100% \d+ B\/s 0 s left/);
  t.is(resumed.out, 'b.img: 1.1.0 running, confirmed\n');
  t.true(server.flash.primary.equals(B));
  t.true(server.flash.primaryConfirmed);
});

test('flash refuses a tampered image with its exit code before a byte reaches the port', async (t) => {
  const { cli, port, dir, deviceBytes } = await bench(t);
  const bad = Buffer.from(B);
  bad[0x200 + 10]! ^= 0x80;
  writeFileSync(path.join(dir, 'bad.img'), bad);
  const refused = await cli('flash', '--port', port, '--pub', 'site.pub', 'bad.img');
  t.is(refused.code, 16, refused.err);
  t.regex(refused.err, /^spot-gateway: bad\.img: hash-mismatch: /);
  t.is(deviceBytes(), 0);
});

test('flash reports an image that did not boot with exit code 35', async (t) => {
  const { cli, port, server } = await bench(t, { faults: { newImageFailsToBoot: true } });
  const result = await cli('flash', '--port', port, '--pub', 'site.pub', '--boot-wait', '5', '--json', 'b.img');
  t.is(result.code, 35, result.err);
  t.regex(result.err, /not-booted: the device runs 1\.0\.0 again/);
  const kinds = result.out.trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind);
  t.true(kinds.includes('progress') && kinds.includes('reset'));
  t.true(server.flash.primary.equals(A));
});
