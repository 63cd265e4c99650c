// `spot-gateway doctor`: each check's fail path made real (an occupied port, a full filesystem, an
// unwritable dir or device, an unreachable broker), the clock and Node checks, and the command's exit code.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import {
  checkClock,
  checkDataDir,
  checkDisk,
  checkNode,
  checkPort,
  checkSerial,
  checkUpstream,
  runCommand,
  type DoctorContext,
} from '../../gateway/src/cli/doctor-checks.js';
import { runCli } from '../../gateway/src/cli/index.js';
import { defaultConfig, type DeepPartial, type GatewayConfig } from '../../gateway/src/config/index.js';
import { captureIo, closedPort } from '../helpers/cli-io.js';
import { BIN, startTestGateway, tempDir, within } from '../helpers/gateway.js';
import { can, probePrivileges } from '../helpers/privileges.js';

const { canChattr, canMount } = probePrivileges();

function context(t: { teardown(fn: () => unknown): void }, config: DeepPartial<GatewayConfig> = {}, more: Partial<DoctorContext> = {}): DoctorContext {
  const dir = tempDir(t);
  return {
    config: defaultConfig({ data_dir: path.join(dir, 'data'), http: { host: '127.0.0.1', port: 0 }, gateway: { id: 'doc' }, ...config }),
    now: Date.now,
    nodeVersion: process.versions.node,
    devDir: path.join(dir, 'dev'),
    run: async () => 'yes\n',
    timeoutMs: 2000,
    ...more,
  };
}

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

function immutable(t: { teardown(fn: () => unknown): void }, file: string): void {
  execFileSync('chattr', ['+i', file]);
  t.teardown(() => execFileSync('chattr', ['-i', file]));
}

test('port: free is ok; occupied by another program fails with how to find it; held by a gateway is ok', async (t) => {
  const free = await closedPort();
  t.like(await checkPort(context(t, { http: { host: '127.0.0.1', port: free } })), { verdict: 'ok', detail: `127.0.0.1:${free} is free` });
  t.like(await checkPort(context(t)), { verdict: 'ok', detail: 'http.port is 0: the gateway takes any free port' });

  const other = net.createServer((socket) => socket.destroy());
  const port = await listen(other);
  t.teardown(() => other.close());
  const taken = await checkPort(context(t, { http: { host: '127.0.0.1', port } }));
  t.like(taken, { name: 'port', verdict: 'fail', detail: `127.0.0.1:${port} is in use by a program that is not a spot-gateway` });
  t.is(taken.fix, `find it with \`ss -ltnp 'sport = :${port}'\` and stop it, or choose another http.port (SPOT_GATEWAY_HTTP_PORT)`);

  const gw = await startTestGateway(t);
  t.like(await checkPort(context(t, { http: { host: '127.0.0.1', port: gw.port } })), {
    verdict: 'ok',
    detail: `127.0.0.1:${gw.port} is held by a running spot-gateway (healthz ok)`,
  });
});

test('port: an address that is not this machine\'s fails naming http.host', async (t) => {
  // 192.0.2.0/24 is TEST-NET-1: never a local address.
  const result = await checkPort(context(t, { http: { host: '192.0.2.1', port: 8080 } }));
  t.like(result, { verdict: 'fail', detail: '192.0.2.1 is not an address of this machine' });
});

test('disk: a nearly full filesystem fails under 5 % free and warns under 10 %', async (t) => {
  if (!canMount) {
    t.log('SKIPPED: a tmpfs mount needs root');
    t.pass();
    return;
  }
  const dir = tempDir(t);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  t.teardown(() => can('umount', [dir]));
  const fill = path.join(dir, 'fill');
  const ctx = context(t, { data_dir: dir });
  // 1 MiB: 256 pages of 4 KiB.
  fs.writeFileSync(fill, Buffer.alloc(1024 * 1024 - 8 * 4096));
  const full = await checkDisk(ctx);
  t.is(full.verdict, 'fail', full.detail);
  t.regex(full.detail, new RegExp(`^[0-4]\\.\\d % free on the filesystem of ${dir} \\(0 MiB\\)$`));
  t.regex(full.fix!, /free space on that filesystem/);
  fs.truncateSync(fill, 1024 * 1024 - 20 * 4096);
  const low = await checkDisk(ctx);
  t.is(low.verdict, 'warn', low.detail);
  fs.rmSync(fill);
  t.is((await checkDisk(ctx)).verdict, 'ok');
});

test('disk: a data dir not made yet is measured on the directory that will hold it', async (t) => {
  const ctx = context(t);
  const result = await checkDisk(ctx);
  t.is(result.verdict, 'ok');
  t.true(result.detail.endsWith(`free on the filesystem of ${path.dirname(ctx.config.data_dir)} (${/\((\d+) MiB\)$/.exec(result.detail)![1]} MiB)`), result.detail);
});

test('data dir: writable is ok; missing is a warning; not a directory, or not writable, fails', async (t) => {
  const ctx = context(t);
  const dir = ctx.config.data_dir;
  t.like(await checkDataDir(ctx), { verdict: 'warn', detail: `${dir} does not exist yet; the gateway makes it at start` });
  fs.mkdirSync(dir);
  t.like(await checkDataDir(ctx), { verdict: 'ok' });
  t.deepEqual(fs.readdirSync(dir), [], 'the probe file is removed');
  const file = path.join(path.dirname(dir), 'plain');
  fs.writeFileSync(file, '');
  t.like(await checkDataDir({ ...ctx, config: { ...ctx.config, data_dir: file } }), { verdict: 'fail', detail: `${file} is not a directory` });
  if (!canChattr) {
    t.log('SKIPPED (unwritable paths): chattr +i needs root on a filesystem with attributes');
    return;
  }
  fs.writeFileSync(path.join(dir, 'spot-gateway.db'), '');
  immutable(t, path.join(dir, 'spot-gateway.db'));
  const db = await checkDataDir(ctx);
  t.is(db.verdict, 'fail');
  t.regex(db.detail, /spot-gateway\.db is not writable by .* \(uid \d+\): EPERM$/);
  immutable(t, dir);
  const locked = await checkDataDir(ctx);
  t.is(locked.verdict, 'fail');
  t.regex(locked.detail, new RegExp(`^${dir} is not writable by .* \\(uid \\d+\\): EPERM$`));
  t.regex(locked.fix!, /chown -R spot-gateway: /);
  const below = { ...ctx, config: { ...ctx.config, data_dir: path.join(dir, 'sub') } };
  const cannotMake = await checkDataDir(below);
  t.is(cannotMake.verdict, 'fail');
  t.regex(cannotMake.detail, new RegExp(`^${below.config.data_dir} does not exist and ${dir} is not writable by `));
});

test('serial: none is ok with a note; readable devices are ok; one this user cannot write fails naming dialout', async (t) => {
  const ctx = context(t);
  t.like(await checkSerial(ctx), { verdict: 'ok', detail: `no serial device in ${ctx.devDir} (needed only for spots on a serial line and flashing)` });
  fs.mkdirSync(ctx.devDir);
  for (const name of ['ttyUSB0', 'ttyACM1', 'tty0', 'null']) fs.writeFileSync(path.join(ctx.devDir, name), '');
  t.like(await checkSerial(ctx), { verdict: 'ok', detail: `readable and writable: ${path.join(ctx.devDir, 'ttyACM1')}, ${path.join(ctx.devDir, 'ttyUSB0')}` });
  if (!canChattr) {
    t.log('SKIPPED (a device refused): chattr +i needs root');
    return;
  }
  immutable(t, path.join(ctx.devDir, 'ttyUSB0'));
  const refused = await checkSerial(ctx);
  t.is(refused.verdict, 'fail');
  t.regex(refused.detail, /^not readable and writable by .*: ttyUSB0 \(EPERM\)$/);
  t.regex(refused.fix!, /dialout/);
});

test('upstream: none is ok; a broker port that refuses fails; one that accepts is ok; default ports by scheme', async (t) => {
  t.like(await checkUpstream(context(t)), { verdict: 'ok', detail: 'no mqtt.url: events are kept locally' });
  const port = await closedPort();
  const refused = await checkUpstream(context(t, { mqtt: { url: `mqtt://127.0.0.1:${port}` } }));
  t.like(refused, { verdict: 'fail', detail: `cannot reach the broker at 127.0.0.1:${port}: ECONNREFUSED` });
  const server = net.createServer((socket) => socket.end());
  const open = await listen(server);
  t.teardown(() => server.close());
  t.like(await checkUpstream(context(t, { mqtt: { url: `mqtt://127.0.0.1:${open}` } })), { verdict: 'ok', detail: `127.0.0.1:${open} accepts connections` });
  const tls = await checkUpstream(context(t, { mqtt: { url: 'mqtts://localhost' } }));
  t.true(tls.detail.includes('localhost:8883'), tls.detail);
});

test('upstream: a broker that does not answer at all fails within the bound', async (t) => {
  // A listener that never accepts, its queue filled first: the kernel leaves further SYNs unanswered.
  const silent = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => silent.kill('SIGKILL'));
  const port = Number(await within(new Promise<string>((resolve) => silent.stdout.once('data', (d: Buffer) => resolve(d.toString()))), 10000, 'the silent listener'));
  // listen(0): one connection in the queue makes it full (Linux drops the SYNs of the next ones).
  const filler = net.connect({ host: '127.0.0.1', port }).on('error', () => undefined);
  t.teardown(() => filler.destroy());
  await within(new Promise((resolve) => filler.once('connect', resolve)), 5000, 'the queue filled');
  const started = Date.now();
  const result = await checkUpstream(context(t, { mqtt: { url: `mqtt://127.0.0.1:${port}` } }, { timeoutMs: 300 }));
  t.like(result, { verdict: 'fail', detail: `cannot reach the broker at 127.0.0.1:${port}: no answer within 0.3 s` });
  t.true(Date.now() - started < 5000);
});

test('clock: a year before 2024 fails; NTP synchronised, not, or unknown', async (t) => {
  const past = await checkClock(context(t, {}, { now: () => Date.UTC(2001, 0, 1) }));
  t.like(past, { verdict: 'fail', detail: 'the clock says 2001-01-01T00:00:00.000Z' });
  t.regex(past.fix!, /timedatectl set-ntp true/);
  const year = new Date().getUTCFullYear();
  t.like(await checkClock(context(t)), { verdict: 'ok', detail: `year ${year}, synchronised by NTP` });
  t.like(await checkClock(context(t, {}, { run: async () => 'no\n' })), { verdict: 'warn', detail: `year ${year}, not synchronised by NTP (NTPSynchronized=no)` });
  t.like(await checkClock(context(t, {}, { run: () => Promise.reject(new Error('ENOENT')) })), { verdict: 'ok', detail: `year ${year}; NTP state not known (no timedatectl answer)` });
});

test('node: 20 or later', async (t) => {
  t.like(await checkNode(context(t, {}, { nodeVersion: '18.19.1' })), { verdict: 'fail', detail: 'Node.js 18.19.1 is older than 20' });
  t.like(await checkNode(context(t, {}, { nodeVersion: '20.0.0' })), { verdict: 'ok' });
});

test('runCommand runs a real command, and rejects one that is not there', async (t) => {
  t.is(await runCommand('echo', ['yes']), 'yes\n');
  await t.throwsAsync(runCommand('/no/such/command', []));
});

test('the command: exit 1 with FAIL and the fix when a check fails, 0 when none does, --json', async (t) => {
  const dir = tempDir(t);
  const other = net.createServer((socket) => socket.destroy());
  const port = await listen(other);
  t.teardown(() => other.close());
  const env = { SPOT_GATEWAY_DATA_DIR: path.join(dir, 'data'), SPOT_GATEWAY_HTTP_HOST: '127.0.0.1', SPOT_GATEWAY_HTTP_PORT: String(port) };
  const failing = captureIo(env, dir);
  t.is(await runCli(['doctor'], failing), 1);
  const text = failing.stdout();
  t.regex(text, new RegExp(`^FAIL {2}port {6}127\\.0\\.0\\.1:${port} is in use by a program that is not a spot-gateway\n {16}fix: find it with`, 'm'));
  t.regex(text, /^WARN {2}data dir {2}.* does not exist yet; the gateway makes it at start\n {16}fix: mkdir -p /m);
  t.regex(text, /^ok {4}node {6}Node\.js /m);
  t.regex(text, /\n1 check\(s\) failed, 1 warning\(s\)\n$/);

  fs.mkdirSync(path.join(dir, 'data'));
  const passing = captureIo({ ...env, SPOT_GATEWAY_HTTP_PORT: String(await closedPort()) }, dir);
  t.is(await runCli(['doctor', '--json'], passing), 0, passing.stdout());
  const results = JSON.parse(passing.stdout()) as Array<{ name: string; verdict: string }>;
  t.deepEqual(results.map((r) => r.name), ['port', 'disk', 'data dir', 'serial', 'upstream', 'clock', 'node']);
  t.false(results.some((r) => r.verdict === 'fail'));

  const help = captureIo();
  t.is(await runCli(['doctor', '-h'], help), 0);
  t.regex(help.stdout(), /^Usage: spot-gateway doctor/);
  const badConfig = captureIo({ SPOT_GATEWAY_HTTP_PORT: 'eighty' }, dir);
  t.is(await runCli(['doctor'], badConfig), 2);
  t.regex(badConfig.stderr(), /SPOT_GATEWAY_HTTP_PORT \(http\.port\)/);
});

test('run as another user (nobody), doctor fails a data dir that user cannot write', async (t) => {
  if (!can('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true'])) {
    t.log('SKIPPED: setpriv as nobody needs root');
    t.pass();
    return;
  }
  const dir = tempDir(t);
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'data'), { mode: 0o755 });
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'doctor'], {
    cwd: dir,
    env: { ...process.env, SPOT_GATEWAY_DATA_DIR: path.join(dir, 'data'), SPOT_GATEWAY_HTTP_PORT: String(await closedPort()), SPOT_GATEWAY_HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 20000, 'doctor as nobody');
  t.is(code, 1, out);
  t.regex(out, new RegExp(`^FAIL {2}data dir {2}${path.join(dir, 'data')} is not writable by nobody \\(uid 65534\\): EACCES$`, 'm'));
});
