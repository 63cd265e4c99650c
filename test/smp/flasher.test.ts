// flashImage() against the SMP stand-in over an in-memory port pair: a good image ends running and
// confirmed; a bad one is refused before a byte is sent; a cut upload resumes where the device is;
// an image that does not boot is reported reverted; faults on the line do not change the outcome.
import test from 'ava';
import { SmpClient } from '../../gateway/src/smp/client.js';
import { flashImage, type FlashEvent, type FlashOptions } from '../../gateway/src/smp/flasher.js';
import { within } from '../helpers/gateway.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { PUBLIC_KEY, signedImage } from './images.js';

const VERIFY = { publicKey: PUBLIC_KEY, expectedTarget: 'mps2-an385' };
const A = signedImage('1.0.0', 3000);
const B = signedImage('1.1.0', 20000);

function setup(options: StandInOptions = {}) {
  const { gateway, device } = portPair();
  const server = new SmpServerStandIn(device, freshFlash(A), options);
  const client = new SmpClient(gateway, { timeoutMs: 150, tries: 4 });
  const events: FlashEvent[] = [];
  const flashOptions: FlashOptions = { bootWaitMs: 2000, pollMs: 10, onEvent: (e) => events.push(e) };
  return { gateway, server, client, events, flashOptions };
}

test('a good image is uploaded, boots on trial and ends running and confirmed', async (t) => {
  const { server, client, events, flashOptions } = setup();
  const result = await flashImage(client, B, VERIFY, flashOptions);
  t.like(result, { ok: true, version: '1.1.0', resumedFrom: 0, booted: true, confirmed: true });
  t.true(server.flash.primary.equals(B), 'the primary slot holds B byte for byte');
  t.true(server.flash.primaryConfirmed);
  t.true(server.flash.secondary?.equals(A), 'A stays in the other slot');
  t.deepEqual(
    events.filter((e) => e.kind !== 'progress').map((e) => e.kind),
    ['image', 'params', 'verified', 'marked', 'reset', 'booted', 'confirmed'],
  );
  t.is(server.resets, 1);
});

test('an image whose hash does not match is refused before a byte is sent', async (t) => {
  const { gateway, client, flashOptions } = setup();
  const bad = Buffer.from(B);
  bad[0x200 + 100]! ^= 0x01;
  const result = await flashImage(client, bad, VERIFY, flashOptions);
  t.like(result, { ok: false, reason: 'hash-mismatch', imageRefused: true });
  t.is(gateway.written, 0);
});

test('an image for another target or signed by another key is refused before a byte is sent', async (t) => {
  const { gateway, client, flashOptions } = setup();
  t.like(await flashImage(client, signedImage('1.1.0', 2000, 'nrf52840'), VERIFY, flashOptions), { ok: false, reason: 'wrong-target' });
  const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'));
  t.like(await flashImage(client, B, { ...VERIFY, publicKey }, flashOptions), { ok: false, reason: 'unknown-key' });
  t.is(gateway.written, 0);
});

test('an upload cut half-way resumes from the offset the device reports and completes', async (t) => {
  const { server, client, events, flashOptions } = setup({ faults: { silentFromUploadOffset: 9000 } });
  const cut = await flashImage(client, B, VERIFY, flashOptions);
  t.like(cut, { ok: false, reason: 'no-answer' });
  const held = server.flash.upload?.off ?? 0;
  t.true(held >= 9000 && held < B.length, `the device holds ${held} bytes`);

  server.silent = false;
  server.faults.silentFromUploadOffset = undefined;
  events.length = 0;
  const requestsBefore = server.requests.length;
  const resumed = await flashImage(client, B, VERIFY, flashOptions);
  t.like(resumed, { ok: true, resumedFrom: held, confirmed: true });
  t.deepEqual(events.find((e) => e.kind === 'resumed'), { kind: 'resumed', offset: held, total: B.length });
  const uploads = server.requests.slice(requestsBefore).filter((h) => h.group === 1 && h.id === 1).length;
  const chunk = events.find((e) => e.kind === 'params')!;
  t.true(uploads <= Math.ceil((B.length - held) / chunk.chunk) + 1, `${uploads} upload requests after the resume`);
  t.true(server.flash.primary.equals(B));
});

test('an image that does not boot is reported as reverted, the old one running and confirmed', async (t) => {
  const { server, client, flashOptions } = setup({ faults: { newImageFailsToBoot: true } });
  const result = await flashImage(client, B, VERIFY, flashOptions);
  t.like(result, { ok: false, reason: 'not-booted' });
  t.regex(result.ok ? '' : result.detail, /runs 1\.0\.0 again/);
  t.true(server.flash.primary.equals(A));
  t.true(server.flash.primaryConfirmed);
});

test('a client closed while the flasher waits for the boot ends the wait at once (a gateway stopping a flash job)', async (t) => {
  const { server, client } = setup({ faults: { newImageFailsToBoot: true } });
  const result = await within(
    flashImage(client, B, VERIFY, {
      bootWaitMs: 600000,
      pollMs: 10,
      onEvent: (e) => {
        if (e.kind === 'reset') {
          server.silent = true;
          client.close();
        }
      },
    }),
    10000,
    'the flash to end once its client is closed',
  );
  t.like(result, { ok: false, reason: 'no-answer' });
  t.regex(result.ok ? '' : result.detail, /^waiting for the new image to boot: the SMP client was closed/);
});

test('--upload-only stops once the slot holds the image, nothing marked, nothing reset', async (t) => {
  const { server, client, flashOptions } = setup();
  t.like(await flashImage(client, B, VERIFY, { ...flashOptions, mode: 'upload-only' }), { ok: true, booted: false, confirmed: false });
  t.true(server.flash.secondary?.equals(B));
  t.is(server.flash.request, null);
  t.is(server.resets, 0);
});

test('--test leaves the new image running unconfirmed, so the next reset reverts it', async (t) => {
  const { server, client, flashOptions } = setup();
  t.like(await flashImage(client, B, VERIFY, { ...flashOptions, mode: 'test' }), { ok: true, booted: true, confirmed: false });
  t.true(server.flash.primary.equals(B));
  t.false(server.flash.primaryConfirmed);
});

test('a device that runs an unconfirmed trial image refuses the upload, with its own reason', async (t) => {
  const { server, client, flashOptions } = setup();
  server.flash.primaryConfirmed = false;
  const result = await flashImage(client, B, VERIFY, flashOptions);
  t.like(result, { ok: false, reason: 'upload-refused' });
});

test('lost, duplicated and corrupted responses all through the flash do not change the outcome', async (t) => {
  const { server, client, flashOptions } = setup({ faults: { loseEvery: 7, duplicateEvery: 5, corruptEvery: 11, consoleNoise: true } });
  const result = await flashImage(client, B, VERIFY, flashOptions);
  t.like(result, { ok: true, confirmed: true }, JSON.stringify(result));
  t.true(server.flash.primary.equals(B));
  t.true(client.stats.retries > 0 && client.stats.dropped > 0 && client.stats.strays > 0, JSON.stringify(client.stats));
});

test('a device without mcumgr params gets small chunks, and every request fits a small buffer', async (t) => {
  const { server, client, events, flashOptions } = setup({ noParams: true, bufSize: 256 });
  t.like(await flashImage(client, B, VERIFY, flashOptions), { ok: true });
  t.like(events.find((e) => e.kind === 'params'), { bufSize: null, chunk: 128 });
  t.deepEqual(server.dropped, [], 'no request was over the device buffer');
});

test('the chunk size follows the buffer the device reports, and no request exceeds it', async (t) => {
  const { server, client, events, flashOptions } = setup({ bufSize: 1024 });
  t.like(await flashImage(client, B, VERIFY, flashOptions), { ok: true });
  t.like(events.find((e) => e.kind === 'params'), { bufSize: 1024, chunk: 928 });
  t.deepEqual(server.dropped, []);
});

test('flashing the image a device runs on trial (after --test) confirms it without an upload', async (t) => {
  const { server, client, flashOptions } = setup();
  t.like(await flashImage(client, B, VERIFY, { ...flashOptions, mode: 'test' }), { ok: true, confirmed: false });
  const uploads = server.requests.filter((h) => h.group === 1 && h.id === 1).length;
  t.like(await flashImage(client, B, VERIFY, flashOptions), { ok: true, confirmed: true });
  t.is(server.requests.filter((h) => h.group === 1 && h.id === 1).length, uploads, 'no upload the second time');
  t.true(server.flash.primaryConfirmed);
  t.true(server.flash.primary.equals(B));
});

test('flashing the image the device already runs confirmed sends no upload', async (t) => {
  const { server, client, events, flashOptions } = setup();
  server.flash.primary = Buffer.from(B);
  t.like(await flashImage(client, B, VERIFY, flashOptions), { ok: true, confirmed: true });
  t.true(events.some((e) => e.kind === 'already-running'));
  t.false(server.requests.some((h) => h.group === 1 && h.id === 1));
});

test('every line of a whole flash, both ways, is a frame of at most 127 bytes', async (t) => {
  const lines: Buffer[] = [];
  const { gateway, device } = portPair((_from, chunk) => {
    for (let at = 0; at < chunk.length; ) {
      const end = chunk.indexOf(0x0a, at);
      lines.push(chunk.subarray(at, end < 0 ? chunk.length : end + 1));
      at = end < 0 ? chunk.length : end + 1;
    }
  });
  new SmpServerStandIn(device, freshFlash(A), { bufSize: 2048 });
  const result = await flashImage(new SmpClient(gateway, { timeoutMs: 300 }), B, VERIFY, { bootWaitMs: 2000, pollMs: 10 });
  t.like(result, { ok: true });
  t.true(lines.length > 100);
  for (const line of lines) {
    t.true(line.length <= 127, `a line of ${line.length} bytes`);
    t.true([0x06, 0x04].includes(line[0]!) && line.at(-1) === 0x0a);
  }
});

test('payload efficiency of an upload with a 2 KiB device buffer: image bytes over all bytes both ways', async (t) => {
  let wire = 0;
  const { gateway, device } = portPair((_from, chunk) => (wire += chunk.length));
  const big = signedImage('2.0.0', 100000);
  new SmpServerStandIn(device, freshFlash(A), { bufSize: 2048 });
  t.like(await flashImage(new SmpClient(gateway, { timeoutMs: 300 }), big, VERIFY, { bootWaitMs: 2000, pollMs: 10, mode: 'upload-only' }), { ok: true });
  const efficiency = big.length / wire;
  t.log(`image ${big.length} bytes, ${wire} bytes on the wire: payload_efficiency=${efficiency.toFixed(3)}`);
  // The ceiling is 93/127 = 0.732 (base64 and the marker and newline of every line).
  t.true(efficiency >= 0.7, efficiency.toFixed(3));
});
