// The gateway child under a stand-in for systemd (a real unix datagram socket): the messages and their order, the
// watchdog period, the watchdog stopping while the event loop is blocked or the disk hangs or the data dir is
// read-only, and STOPPING=1 at SIGTERM with exit 0. Serial: the periods are timed, and the machine is shared.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test from 'ava';
import { JSON_EVENTS, jsonLogLines, postChunks, spawnGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { notifyReceiver, type NotifyReceiver } from '../helpers/notify-receiver.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { can, probePrivileges } from '../helpers/privileges.js';
import { jsonText, presence } from '../http/events.js';

const HOOKS = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/stall-hooks.mjs')).href;
/** WATCHDOG_USEC for these tests: 1 s, so WATCHDOG=1 every 500 ms. */
const WATCHDOG_USEC = 1_000_000;
const PERIOD_MS = WATCHDOG_USEC / 2000;
/** A datagram sent just before a stall may be read by this busy process later: one period of slack, of the four or more a stall lasts. */
const ARRIVAL_SLACK_MS = PERIOD_MS;

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  reason?: string;
}

function logLines(gw: { stdout(): string }): LogLine[] {
  return jsonLogLines<LogLine>(gw);
}

function logged(gw: { stdout(): string }, prefix: string, ms = 10000): Promise<LogLine> {
  return waitFor(() => logLines(gw).find((l) => l.msg?.startsWith(prefix)), ms, `the gateway to log "${prefix}"`);
}

function underSystemd(systemd: NotifyReceiver, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { NOTIFY_SOCKET: systemd.notifySocket, WATCHDOG_USEC: String(WATCHDOG_USEC), SPOT_GATEWAY_DATA_DIR: dataDir, ...extra };
}

/** Arrival times of WATCHDOG=1 within (from, to). */
function watchdogsBetween(systemd: NotifyReceiver, from: number, to: number): number[] {
  return systemd.received.filter((r) => r.message === 'WATCHDOG=1' && r.at > from && r.at < to).map((r) => r.at);
}

/** Index of the first message that arrived after `at`. */
function indexAfter(systemd: NotifyReceiver, at: number): number {
  const i = systemd.received.findIndex((r) => r.at > at);
  return i < 0 ? systemd.received.length : i;
}

async function readyAndFed(systemd: NotifyReceiver): Promise<number> {
  const ready = await systemd.next((m) => m === 'READY=1', 0, 10000, 'READY=1');
  await systemd.next((m) => m === 'WATCHDOG=1', ready, 5000, 'WATCHDOG=1 after READY=1');
  return ready;
}

function readNumber(file: string): number | undefined {
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) || undefined : undefined;
}

test.serial('under systemd: READY=1 once the port listens, then STATUS=, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 at SIGTERM, exit 0', async (t) => {
  const dir = tempDir(t);
  const systemd = notifyReceiver(t, { dir });
  const gw = await spawnGateway(t, { env: underSystemd(systemd, path.join(dir, 'data')) });
  const ready = await systemd.next((m) => m === 'READY=1', 0, 10000, 'READY=1');
  const listening = logLines(gw).find((l) => l.msg?.startsWith('listening'))!;
  t.true(listening.time! <= systemd.received[ready]!.at, 'READY=1 comes after the database is open and the port listens');
  await waitFor(() => watchdogsBetween(systemd, systemd.received[ready]!.at, Infinity).length >= 6 || undefined, 10000, 'six WATCHDOG=1 after READY=1');

  t.is(await gw.kill('SIGTERM'), 0, 'exit code 0');
  const messages = systemd.messages();
  t.regex(
    messages.join('|'),
    /^(WATCHDOG=1\|)*READY=1\|STATUS=0 spots online; backlog 0 events; no upstream(\|WATCHDOG=1|\|STATUS=[^|]*)*\|STOPPING=1$/,
    'the order: READY=1, STATUS=, the watchdog, STOPPING=1 last',
  );
  t.true(messages.filter((m) => m === 'STOPPING=1').length === 1);
  const stopped = logLines(gw).find((l) => l.msg === 'stopped');
  t.truthy(stopped, 'the gateway stopped cleanly after STOPPING=1');

  const times = watchdogsBetween(systemd, systemd.received[ready]!.at, Infinity);
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  const mean = (times[times.length - 1]! - times[0]!) / gaps.length;
  // The mean, not each gap: this process may read two datagrams late and together on a busy machine.
  t.true(mean >= PERIOD_MS * 0.85 && mean <= PERIOD_MS * 1.5, `WATCHDOG=1 every ${PERIOD_MS} ms on average (got ${mean.toFixed(0)} ms: ${gaps.join(', ')})`);
});

test.serial('NOTIFY_SOCKET in the abstract namespace (@name) gets the same messages', async (t) => {
  const dir = tempDir(t);
  const systemd = notifyReceiver(t, { abstract: `spot-gateway-test-${process.pid}-${Date.now()}` });
  const gw = await spawnGateway(t, { env: underSystemd(systemd, path.join(dir, 'data')) });
  await readyAndFed(systemd);
  t.is(await gw.kill('SIGTERM'), 0);
  t.is(systemd.messages().at(-1), 'STOPPING=1');
  t.true(systemd.messages().includes('STATUS=0 spots online; backlog 0 events; no upstream'));
});

test.serial('a NOTIFY_SOCKET nobody listens on: one warn line, the gateway runs and stops as usual', async (t) => {
  const dir = tempDir(t);
  const gw = await spawnGateway(t, { env: { NOTIFY_SOCKET: path.join(dir, 'nobody'), WATCHDOG_USEC: String(WATCHDOG_USEC), SPOT_GATEWAY_DATA_DIR: path.join(dir, 'data') } });
  const warned = await logged(gw, 'systemd: cannot notify');
  t.regex(warned.msg!, /nobody: .*(ENOENT|ECONNREFUSED|-2|-111)/);
  const res = await postChunks(gw.port, 70, [jsonText([presence(1)])], { headers: JSON_EVENTS });
  t.is(res.status, 200);
  t.is(await gw.kill('SIGTERM'), 0);
  t.is(logLines(gw).filter((l) => l.msg?.startsWith('systemd: cannot notify')).length, 1, 'said once, not at every message');
});

test.serial('with a broker that acknowledges, the watchdog goes on while events flow, and STATUS= says the upstream is connected', async (t) => {
  const dir = tempDir(t);
  const systemd = notifyReceiver(t, { dir });
  const broker = await startMosquitto({ t });
  const gw = await spawnGateway(t, { env: underSystemd(systemd, path.join(dir, 'data'), { SPOT_GATEWAY_MQTT_URL: broker.url }) });
  const ready = await readyAndFed(systemd);
  await logged(gw, 'mqtt: connected');
  for (let i = 0; i < 5; i++) {
    t.is((await postChunks(gw.port, 74, [jsonText([presence(2 * i), presence(2 * i + 1)])], { headers: JSON_EVENTS })).status, 200);
  }
  await systemd.next((m) => m === 'STATUS=1 spot online; backlog 0 events; mqtt connected', ready, 10000, 'STATUS= with the events forwarded');
  const readyAt = systemd.received[ready]!.at;
  await waitFor(() => watchdogsBetween(systemd, readyAt, Infinity).length >= 6 || undefined, 10000, 'six WATCHDOG=1 with the upstream connected');
  t.false(logLines(gw).some((l) => l.msg?.startsWith('systemd: watchdog withheld')));
  t.is(await gw.kill('SIGTERM'), 0);
  t.is(systemd.messages().at(-1), 'STOPPING=1');
});

test.serial('with the broker away the watchdog goes on (a legitimate wait), and STATUS= says the upstream is down', async (t) => {
  const dir = tempDir(t);
  const systemd = notifyReceiver(t, { dir });
  const nobody = net.createServer();
  await new Promise<void>((resolve) => nobody.listen(0, '127.0.0.1', resolve));
  const port = (nobody.address() as AddressInfo).port;
  await new Promise<void>((resolve) => nobody.close(() => resolve()));
  const gw = await spawnGateway(t, { env: underSystemd(systemd, path.join(dir, 'data'), { SPOT_GATEWAY_MQTT_URL: `mqtt://127.0.0.1:${port}` }) });
  const ready = await readyAndFed(systemd);
  t.is((await postChunks(gw.port, 73, [jsonText([presence(1), presence(2)])], { headers: JSON_EVENTS })).status, 200);
  const readyAt = systemd.received[ready]!.at;
  await waitFor(() => watchdogsBetween(systemd, readyAt, Infinity).length >= 6 || undefined, 10000, 'six WATCHDOG=1 with the broker away');
  await systemd.next((m) => /^STATUS=1 spot online; backlog 2 events; mqtt (connecting|disconnected) \(down \d+ s\)$/.test(m), ready, 10000, 'STATUS= with the backlog and the upstream down');
  t.false(logLines(gw).some((l) => l.msg?.startsWith('systemd: watchdog withheld')));
  t.is(await gw.kill('SIGTERM'), 0);
});

test.serial('the watchdog stops while the event loop is blocked, and resumes when it turns again', async (t) => {
  const dir = tempDir(t);
  const flag = path.join(dir, 'block-loop');
  const systemd = notifyReceiver(t, { dir });
  const gw = await spawnGateway(t, {
    env: underSystemd(systemd, path.join(dir, 'data'), { STALL_LOOP_FLAG: flag, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOKS}`.trim() }),
  });
  t.teardown(() => fs.rmSync(flag, { force: true }));
  await readyAndFed(systemd);

  fs.writeFileSync(flag, '');
  const blockedAt = await waitFor(() => readNumber(`${flag}.blocked`), 5000, 'the gateway loop to be blocked');
  // Absence is the point: the loop stays blocked for four watchdog periods.
  await waitFor(() => Date.now() - blockedAt >= 4 * PERIOD_MS || undefined, 10000, 'four periods with the loop blocked');
  fs.rmSync(flag);
  const releasedAt = await waitFor(() => readNumber(`${flag}.released`), 5000, 'the gateway loop to turn again');
  await systemd.next((m) => m === 'WATCHDOG=1', indexAfter(systemd, releasedAt), 5000, 'WATCHDOG=1 once the loop turns again');

  t.deepEqual(watchdogsBetween(systemd, blockedAt + ARRIVAL_SLACK_MS, releasedAt), [], 'no WATCHDOG=1 while the loop was blocked');
  t.true(releasedAt - blockedAt >= 4 * PERIOD_MS);
  t.is(await gw.kill('SIGTERM'), 0);
});

test.serial('the watchdog stops while a store write hangs on the disk (fsync held), and resumes once the disk answers; the post is then acknowledged', async (t) => {
  const dir = tempDir(t);
  const flag = path.join(dir, 'hang-fsync');
  const systemd = notifyReceiver(t, { dir });
  const gw = await spawnGateway(t, {
    env: underSystemd(systemd, path.join(dir, 'data'), { STALL_FSYNC_FLAG: flag, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOKS}`.trim() }),
  });
  t.teardown(() => fs.rmSync(flag, { force: true }));
  await readyAndFed(systemd);

  fs.writeFileSync(flag, '');
  const post = postChunks(gw.port, 71, [jsonText([presence(1), presence(2)])], { headers: JSON_EVENTS, timeoutMs: 30000 });
  await waitFor(() => readNumber(`${flag}.held`), 5000, 'the store to wait for an fsync');
  const withheld = await logged(gw, 'systemd: watchdog withheld', 15000);
  t.regex(withheld.reason!, /^store: a write has waited \d+ s for the disk$/);
  await systemd.next((m) => /^STATUS=.*watchdog withheld: store: a write has waited \d+ s for the disk$/.test(m), 0, 5000, 'the reason in STATUS=');
  // The watchdog stays silent while the disk hangs: four more periods.
  await waitFor(() => Date.now() - withheld.time! >= 4 * PERIOD_MS || undefined, 10000, 'four periods with the disk hanging');
  const releasedAt = Date.now();
  fs.rmSync(flag);

  t.is((await post).status, 200, 'the post waited for the disk and was acknowledged');
  await logged(gw, 'systemd: watchdog resumed');
  await systemd.next((m) => m === 'WATCHDOG=1', indexAfter(systemd, releasedAt), 5000, 'WATCHDOG=1 again');
  t.deepEqual(watchdogsBetween(systemd, withheld.time! + ARRIVAL_SLACK_MS, releasedAt), [], 'no WATCHDOG=1 while the write hung');
  t.is(await gw.kill('SIGTERM'), 0);
});

const { canChattr } = probePrivileges();
if (!canChattr) console.log('notify.test: chattr +i not permitted here (needs root on ext4): the read-only data dir watchdog test is skipped');

(canChattr ? test.serial : test.skip)('the watchdog goes on while the data dir is read-only (the store fails, answers 503 and recovers by itself); STATUS= says the store cannot write', async (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'data');
  const systemd = notifyReceiver(t, { dir });
  const gw = await spawnGateway(t, { env: underSystemd(systemd, dataDir) });
  await readyAndFed(systemd);
  const db = path.join(dataDir, 'spot-gateway.db');
  // Not the -shm file: it is memory-mapped, and an immutable one kills the process with SIGBUS.
  const files = () => [dataDir, db, `${db}-wal`].filter((f) => fs.existsSync(f));
  t.teardown(() => can('chattr', ['-i', ...files()]));

  execFileSync('chattr', ['+i', ...files()]);
  const failedAt = Date.now();
  t.is((await postChunks(gw.port, 72, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 503);
  await systemd.next((m) => /^STATUS=.*store cannot write: /.test(m), indexAfter(systemd, failedAt), 10000, 'STATUS= naming the store failure');
  await waitFor(() => Date.now() - failedAt >= 4 * PERIOD_MS || undefined, 10000, 'four periods with the store failing');
  const writableAt = Date.now();
  t.true(watchdogsBetween(systemd, failedAt + ARRIVAL_SLACK_MS, writableAt).length >= 2, 'WATCHDOG=1 goes on while the store fails');
  t.false(logLines(gw).some((l) => l.msg?.startsWith('systemd: watchdog withheld')));
  execFileSync('chattr', ['-i', ...files()]);

  t.is((await postChunks(gw.port, 72, [jsonText([presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await systemd.next((m) => /^STATUS=\d+ spots? online; backlog \d+ events; no upstream$/.test(m), indexAfter(systemd, writableAt), 10000, 'STATUS= without the failure once the store writes');
  t.is(await gw.kill('SIGTERM'), 0);
});
