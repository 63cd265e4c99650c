// FlashJobs on its own, over in-memory port pairs with the SMP stand-in and a real image store:
// the bounded history, one job per device under two names, a job stopped before its port opened,
// a fault of the gateway reported as internal-error, the upload rate, a resumed upload, the
// flasher's own check.
import { generateKeyPairSync } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { FlashJobs, type FlashJobsOptions, type JobRequest } from '../../gateway/src/flash/flash-jobs.js';
import { ImageStore } from '../../gateway/src/flash/image-store.js';
import { readTrustedKeys } from '../../gateway/src/flash/trusted-keys.js';
import type { PortOpener } from '../../gateway/src/smp/serial-port.js';
import { tempDir, waitFor, within, type Teardown } from '../helpers/gateway.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn } from '../helpers/smp-server.js';
import { signedImage } from '../smp/images.js';
import { GOOD, imageHash, writeTrustedKey } from './images.js';

const quiet = { info: () => undefined, warn: () => undefined };

function store(t: Teardown): ImageStore {
  const dir = tempDir(t);
  const keys = readTrustedKeys(writeTrustedKey(dir));
  if (!keys.ok) throw new Error(keys.reason);
  const images = new ImageStore({ dir: path.join(dir, 'images'), rules: { keys: keys.keys, target: 'mps2-an385', requireTarget: true }, maxImages: 4, logger: quiet });
  if (!images.add(GOOD).ok) throw new Error('GOOD refused');
  return images;
}

/** An opener that gives each open a fresh in-memory pair with a stand-in device. */
const standInOpener: PortOpener = async () => {
  const { gateway, device } = portPair();
  new SmpServerStandIn(device, freshFlash(signedImage('1.0.0', 3000)));
  return { ok: true, opened: { port: gateway, close: async () => undefined } };
};

function jobs(t: Teardown, options: Partial<FlashJobsOptions> = {}): FlashJobs {
  const images = store(t);
  return new FlashJobs({ readImage: (hash) => images.read(hash), open: standInOpener, now: Date.now, logger: quiet, ...options });
}

const request = (port: string, extra: Partial<JobRequest> = {}): JobRequest => ({
  port, image: imageHash(GOOD), mode: 'upload-only', baudRate: 115200, timeoutMs: 200, tries: 2, bootWaitMs: 2000, ...extra,
});

test('finished jobs are kept up to the bound, the oldest forgotten first; outcomes are counted', async (t) => {
  const runner = jobs(t, { keepFinished: 2 });
  const ids: string[] = [];
  for (const port of ['/dev/a', '/dev/b', '/dev/c']) {
    const started = runner.start(request(port));
    if (!started.ok) return t.fail(started.reason);
    ids.push(started.job.id);
    await waitFor(() => runner.get(started.job.id)?.outcome ?? undefined, 10000, `job on ${port}`);
  }
  t.is(runner.get(ids[0]!), undefined);
  t.deepEqual(runner.list().map((j) => j.id), [ids[2], ids[1]]);
  t.is(runner.outcomeCounts().get('done'), 3);
  t.like(runner.get(ids[2]!), { state: 'done', offset: GOOD.length, total: GOOD.length, resumedFrom: 0 });
});

test('one device under two names (a link and its target) takes one job at a time', (t) => {
  const dir = tempDir(t);
  const real = path.join(dir, 'ttyUSB0');
  writeFileSync(real, '');
  symlinkSync(real, path.join(dir, 'by-id-link'));
  const runner = jobs(t, { open: () => new Promise(() => undefined) });
  const first = runner.start(request(path.join(dir, 'by-id-link')));
  t.true(first.ok);
  const second = runner.start(request(real));
  t.like(second, { ok: false, status: 409 });
  t.regex(second.ok ? '' : second.reason, /is busy with flash job [0-9a-f-]{36} \(queued, queued\)$/);
});

test('a stop while the port is still opening ends the job interrupted; later jobs are refused', async (t) => {
  let openNow: (() => void) | null = null;
  const runner = jobs(t, {
    stopWaitMs: 200,
    open: (...args) => new Promise((resolve) => (openNow = () => resolve(standInOpener(...args)))),
  });
  const started = runner.start(request('/dev/a'));
  if (!started.ok) return t.fail(started.reason);
  await waitFor(() => runner.get(started.job.id)?.step === 'opening', 5000, 'the job to open its port');
  await within(runner.stop(), 5000, 'stop');
  t.like(runner.get(started.job.id), { state: 'failed', outcome: { ok: false, reason: 'interrupted', exitCode: null, detail: 'the gateway stopped at step opening' } });
  // The port opening late changes nothing: the job stays interrupted and its client is closed at once.
  openNow!();
  await new Promise((resolve) => setImmediate(resolve));
  t.like(runner.get(started.job.id), { outcome: { reason: 'interrupted' } });
  t.like(runner.start(request('/dev/b')), { ok: false, status: 409, reason: 'the gateway is stopping' });
  t.is(runner.running().length, 0);
});

test('a fault inside the job (an opener that throws) ends it internal-error, and frees the port', async (t) => {
  const runner = jobs(t, { open: () => Promise.reject(new Error('the opener broke')) });
  const started = runner.start(request('/dev/a'));
  if (!started.ok) return t.fail(started.reason);
  const ended = await waitFor(() => runner.get(started.job.id)?.outcome ?? undefined, 5000, 'the job to end');
  t.deepEqual(ended, { ok: false, reason: 'internal-error', exitCode: null, detail: 'the flash job failed: Error: the opener broke' });
  t.is(runner.running().length, 0);
  t.is(runner.outcomeCounts().get('internal-error'), 1);
});

test('the upload rate counts from the first progress report, on the job\'s clock', async (t) => {
  let clock = 1_000_000;
  const runner = jobs(t, { now: () => (clock += 10) });
  const started = runner.start(request('/dev/a'));
  if (!started.ok) return t.fail(started.reason);
  const done = await waitFor(() => (runner.get(started.job.id)?.outcome ? runner.get(started.job.id) : undefined), 10000, 'the job');
  // Each clock read moves 10 ms; the rate is bytes sent after the first report over the time since it.
  t.true(done.bytesPerSecond > 0, String(done.bytesPerSecond));
  t.true(done.startedAt! > done.createdAt && done.finishedAt! > done.startedAt!);
});

test('an image not in the store is answered 404 without a job', (t) => {
  const runner = jobs(t);
  t.like(runner.start(request('/dev/a', { image: 'cd'.repeat(32) })), { ok: false, status: 404, reason: `no stored image ${'cd'.repeat(32)}` });
  t.deepEqual(runner.list(), []);
});

test('a job after one cut mid-upload resumes from the offset the device holds; mode test leaves the image on trial', async (t) => {
  const { gateway, device } = portPair();
  const server = new SmpServerStandIn(device, freshFlash(signedImage('1.0.0', 3000)), { faults: { silentFromUploadOffset: 9000 } });
  const logged: string[] = [];
  const runner = jobs(t, {
    open: async () => ({ ok: true, opened: { port: gateway, close: async () => undefined } }),
    logger: { info: (_o, msg) => void logged.push(msg), warn: (_o, msg) => void logged.push(msg) },
  });
  const cut = runner.start(request('/dev/a', { mode: 'test', timeoutMs: 100, tries: 2 }));
  if (!cut.ok) return t.fail(cut.reason);
  t.like(await waitFor(() => runner.get(cut.job.id)?.outcome ?? undefined, 10000, 'the cut job'), { ok: false, reason: 'no-answer', exitCode: 31 });
  const held = server.flash.upload!.off;
  server.silent = false;
  server.faults.silentFromUploadOffset = undefined;
  const resumed = runner.start(request('/dev/a', { mode: 'test' }));
  if (!resumed.ok) return t.fail(resumed.reason);
  const outcome = await waitFor(() => runner.get(resumed.job.id)?.outcome ?? undefined, 10000, 'the resumed job');
  t.like(outcome, { ok: true, booted: true, confirmed: false, resumedFrom: held });
  t.like(runner.get(resumed.job.id), { resumedFrom: held, sent: GOOD.length - held });
  t.true(server.flash.primary.equals(GOOD));
  t.false(server.flash.primaryConfirmed);
  t.true(logged.some((m) => m.endsWith(`/dev/a runs 1.1.0 on trial`)), logged.join('\n'));
});

test('the flasher\'s own check is the last guard: an image it refuses ends the job with the image\'s exit code', async (t) => {
  const images = store(t);
  const other = generateKeyPairSync('ed25519').publicKey;
  const runner = new FlashJobs({
    // A read that hands the flasher another key than the image's: the flasher refuses before a byte is sent.
    readImage: (hash) => {
      const read = images.read(hash);
      return read.ok ? { ...read, checked: { ...read.checked, verify: { ...read.checked.verify, publicKey: other } } } : read;
    },
    open: standInOpener,
    now: Date.now,
    logger: quiet,
  });
  const started = runner.start(request('/dev/a'));
  if (!started.ok) return t.fail(started.reason);
  const outcome = await waitFor(() => runner.get(started.job.id)?.outcome ?? undefined, 5000, 'the job');
  t.like(outcome, { ok: false, reason: 'unknown-key', exitCode: 18 });
});
