// POST /api/flash and GET /api/flash/:id against a real gateway that opens a real pty (socat pair),
// the SMP stand-in as the device on the other end: a job goes through to done with its progress seen
// mid-upload; a second job on the busy port is 409; a silent device fails no-answer (exit code 31);
// unknown ids, bad bodies, ports outside firmware.ports and refused images are answered before a
// byte is sent; a stop interrupts a running job; /metrics and the live feed show the jobs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { createLogger } from '../../gateway/src/log.js';
import { GatedPort } from '../helpers/gated-port.js';
import { api, startTestGateway, tempDir, waitFor, within, type Teardown, type TestGateway } from '../helpers/gateway.js';
import { ptyPair } from '../helpers/pty-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { signedImage } from '../smp/images.js';
import { GOOD, HASH_MISMATCH, imageHash, uploadImage, writeTrustedKey } from './images.js';

const A = signedImage('1.0.0', 3000);
/** One SMP try's wait for jobs the device holds mid-upload: no retry (nor no-answer) while a loaded machine runs the checks. */
const HELD_TRY_MS = 60000;

interface Job {
  id: string;
  port: string;
  state: string;
  step: string;
  offset: number;
  total: number;
  sent: number;
  bytesPerSecond: number;
  resumedFrom: number | null;
  image: { hash: string; version: string };
  outcome: null | { ok: boolean; reason?: string; exitCode?: number | null; detail?: string; version?: string; confirmed?: boolean };
}

async function bench(t: Teardown, options: StandInOptions = {}, logLines?: string[]) {
  const pair = await ptyPair(t);
  const device = new GatedPort(pair.device);
  const server = new SmpServerStandIn(device, freshFlash(A), options);
  let deviceBytes = 0;
  pair.device.on('data', (chunk: Buffer) => (deviceBytes += chunk.length));
  const logger = logLines ? createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }) : undefined;
  const gw = await startTestGateway(t, { logger, config: { firmware: { trusted_keys: writeTrustedKey(tempDir(t)), ports: '/dev/pts/*' } } });
  const stored = await uploadImage(gw.url, GOOD);
  if (stored.status !== 201) throw new Error(`upload: ${stored.status} ${JSON.stringify(stored.body)}`);
  return { gw, server, device, port: pair.gatewayPath, deviceBytes: () => deviceBytes };
}

const job = (gw: TestGateway, id: string) => api<Job>(gw.url, `/api/flash/${id}`);

async function finished(gw: TestGateway, id: string, ms = 20000): Promise<Job> {
  return waitFor(async () => {
    const { body } = await job(gw, id);
    return body.outcome ? body : undefined;
  }, ms, `flash job ${id} to finish`);
}

test('a flash job goes through to done, its progress seen mid-upload; a second job on the busy port is 409', async (t) => {
  const { gw, server, device, port } = await bench(t, { bufSize: 512 });
  const hash = imageHash(GOOD);
  device.holdWhen = () => (server.flash.upload?.off ?? 0) >= 8000;
  const started = await api<Job>(gw.url, '/api/flash', { body: { port, image: hash, timeoutMs: HELD_TRY_MS } });
  t.is(started.status, 202, JSON.stringify(started.body));
  t.is(started.headers.get('location'), `/api/flash/${started.body.id}`);
  t.like(started.body, { port, state: 'queued', image: { hash, version: '1.1.0' }, outcome: null });

  const middle = await waitFor(async () => {
    const { body } = await job(gw, started.body.id);
    return body.state === 'running' && body.step === 'upload' && body.offset >= 8000 ? body : undefined;
  }, 20000, 'the job to be seen mid-upload');
  t.true(middle.offset < middle.total, `offset ${middle.offset} of ${middle.total}`);
  t.is(middle.total, GOOD.length);
  t.true(middle.sent > 0 && middle.resumedFrom === 0);
  const live = await liveStatus(gw);
  t.deepEqual(live.flashJobs.map((j) => [j.id, j.state]), [[started.body.id, 'running']], 'the live feed carries the running job');

  const second = await api<{ error: string; reason: string }>(gw.url, '/api/flash', { body: { port, image: hash } });
  t.is(second.status, 409);
  t.is(second.body.error, 'conflict');
  t.regex(second.body.reason, new RegExp(`^port ${port} is busy with flash job ${started.body.id} \\(running, upload\\)$`));

  device.release();
  const done = await finished(gw, started.body.id);
  t.like(done, { state: 'done', step: 'done', offset: GOOD.length, outcome: { ok: true, version: '1.1.0', booted: true, confirmed: true } });
  t.true(server.flash.primary.equals(GOOD), 'the device runs the stored image byte for byte');
  t.true(server.flash.primaryConfirmed);
  const listed = await api<Job[]>(gw.url, '/api/flash');
  t.deepEqual(listed.body.map((j) => j.id), [started.body.id]);
  const metrics = String((await api(gw.url, '/metrics')).body);
  t.regex(metrics, /^spot_gateway_flash_jobs_total\{outcome="done"\} 1$/m);
  t.regex(metrics, /^spot_gateway_flash_jobs_running 0$/m);
});

test('a device that never answers fails the job no-answer with exit code 31; unknown ids are 404', async (t) => {
  const { gw, server, port } = await bench(t);
  server.silent = true;
  const started = await api<Job>(gw.url, '/api/flash', { body: { port, image: imageHash(GOOD), timeoutMs: 150, tries: 2 } });
  t.is(started.status, 202);
  const failed = await finished(gw, started.body.id);
  t.like(failed, { state: 'failed', step: 'failed', outcome: { ok: false, reason: 'no-answer', exitCode: 31 } });
  t.regex(failed.outcome?.detail ?? '', /^mcumgr params: no answer to group 0 command 6 after 2 tries \(150 ms each\)$/);
  t.regex(String((await api(gw.url, '/metrics')).body), /^spot_gateway_flash_jobs_total\{outcome="no-answer"\} 1$/m);
  // The port is free again once the job ended.
  server.silent = false;
  const again = await api<Job>(gw.url, '/api/flash', { body: { port, image: imageHash(GOOD), mode: 'upload-only' } });
  t.is(again.status, 202);
  t.like(await finished(gw, again.body.id), { state: 'done', outcome: { ok: true, confirmed: false } });

  const unknown = await api<{ error: string; reason: string }>(gw.url, '/api/flash/no-such-job');
  t.is(unknown.status, 404);
  t.is(unknown.body.error, 'not found');
  t.regex(unknown.body.reason, /^no flash job no-such-job \(jobs are kept in memory/);
});

test('bad bodies, ports outside firmware.ports, unknown and refused images are answered before a byte reaches the port', async (t) => {
  const { gw, port, deviceBytes } = await bench(t);
  const hash = imageHash(GOOD);
  const cases: Array<[unknown, number, RegExp]> = [
    ['text', 400, /^body must be a JSON object/],
    [{ image: hash }, 400, /^port: must be the serial port's path/],
    [{ port, image: 'abc' }, 400, /^image: must be a stored image's hash/],
    [{ port, image: hash, mode: 'yolo' }, 400, /^mode: must be one of confirm, test, upload-only$/],
    [{ port, image: hash, tries: 0 }, 400, /^tries: must be a whole number 1\.\.10$/],
    [{ port, image: hash, force: true }, 400, /^force: unknown key/],
    [{ port: '/dev/sda', image: hash }, 403, /^port \/dev\/sda is not one the API may open \(firmware\.ports allows \/dev\/pts\/\*\)$/],
    [{ port: '/dev/pts/../sda', image: hash }, 403, /is not a plain absolute path/],
    [{ port, image: 'ab'.repeat(32) }, 404, new RegExp(`^no stored image ${'ab'.repeat(32)}$`)],
  ];
  for (const [body, status, reason] of cases) {
    const res = await api<{ error: string; reason: string }>(gw.url, '/api/flash', { body });
    t.is(res.status, status, JSON.stringify(body));
    t.regex(res.body.reason, reason, JSON.stringify(body));
  }
  // An image altered on disk after its upload is refused when a job would read it.
  writeFileSync(path.join(gw.dataDir, 'images', `${hash}.img`), HASH_MISMATCH);
  const refused = await api<{ error: string; reason: string }>(gw.url, '/api/flash', { body: { port, image: hash } });
  t.is(refused.status, 422);
  t.regex(refused.body.reason, new RegExp(`^stored image ${hash} is refused: hash-mismatch: `));
  t.deepEqual((await api(gw.url, '/api/flash')).body, []);
  t.is(deviceBytes(), 0, 'nothing reached the device');
});

test('a port that cannot be opened fails the job port-unavailable (30)', async (t) => {
  const { gw } = await bench(t);
  const started = await api<Job>(gw.url, '/api/flash', { body: { port: '/dev/pts/999999', image: imageHash(GOOD) } });
  t.is(started.status, 202);
  const failed = await finished(gw, started.body.id);
  t.like(failed, { state: 'failed', outcome: { ok: false, reason: 'port-unavailable', exitCode: 30 } });
  t.regex(failed.outcome?.detail ?? '', /^cannot open \/dev\/pts\/999999: /);
});

test('a gateway stopping during a job ends it interrupted and says where the upload stood', async (t) => {
  const lines: string[] = [];
  const { gw, server, device, port } = await bench(t, {}, lines);
  device.holdWhen = () => (server.flash.upload?.off ?? 0) >= 4000;
  const started = await api<Job>(gw.url, '/api/flash', { body: { port, image: imageHash(GOOD), timeoutMs: HELD_TRY_MS } });
  await waitFor(async () => (await job(gw, started.body.id)).body.offset >= 4000, 20000, 'the upload to pass 4000 bytes');
  await within(gw.stop(), 10000, 'the gateway to stop with a job running');
  const ended = lines.map((l) => JSON.parse(l) as { msg: string; outcome?: { reason: string; exitCode: number | null } }).find((l) => l.outcome);
  t.truthy(ended, lines.join(''));
  t.deepEqual([ended?.outcome?.reason, ended?.outcome?.exitCode], ['interrupted', null]);
  t.regex(ended?.msg ?? '', /failed: interrupted: the gateway stopped during the upload at offset \d+ of \d+ \(a new job resumes from the device's offset\)$/);
  t.true((server.flash.upload?.off ?? 0) >= 4000, 'the device keeps what it received');
});

/** The first status frame of GET /api/live. */
async function liveStatus(gw: TestGateway): Promise<{ flashJobs: Array<{ id: string; state: string }> }> {
  const controller = new AbortController();
  const res = await fetch(`${gw.url}/api/live`, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  try {
    return await within(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the live feed ended: ${text}`);
          text += Buffer.from(value).toString();
          const frame = /event: status\ndata: (.*)\n\n/.exec(text);
          if (frame) return JSON.parse(frame[1]!) as { flashJobs: Array<{ id: string; state: string }> };
        }
      })(),
      5000,
      'a status frame on the live feed',
    );
  } finally {
    controller.abort();
  }
}
