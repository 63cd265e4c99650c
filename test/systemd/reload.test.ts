// SIGHUP on the gateway child: RELOADING=1 then READY=1; log.level from the file applies at once; other changed keys
// wait for a restart; a file that no longer validates is refused and the gateway runs on.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, JSON_EVENTS, jsonLogLines, postChunks, runCli, tempDir, waitFor, within } from '../helpers/gateway.js';
import { startBrokerStandIn } from '../helpers/broker-stand-in.js';
import { closedPort } from '../helpers/cli-io.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';
import { jsonText, presence } from '../http/events.js';
import { startConsumer } from '../upstream/consumer.js';

interface LogLine {
  level?: number;
  time?: number;
  port?: number;
  msg?: string;
  applied?: string[];
  needRestart?: string[];
}

const WARN = 40;
const ERROR = 50;

function configYaml(dataDir: string, level: string, port: number | string): string {
  return `http:\n  host: 127.0.0.1\n  port: ${port}\ndata_dir: ${dataDir}\ngateway:\n  id: reload-test\nlog:\n  level: ${level}\n`;
}

test('SIGHUP: RELOADING=1 then READY=1; log.level applies at once, a changed port waits for a restart, a bad file is refused', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(file, configYaml(path.join(dir, 'data'), 'info', 0));
  const systemd = notifyReceiver(t, { dir });
  // Not spawnGateway: it sets SPOT_GATEWAY_LOG_LEVEL, which would win over the file.
  const run = runCli(['run', '--config', file], { env: { NOTIFY_SOCKET: systemd.notifySocket } });
  t.teardown(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const lines = (): LogLine[] =>
    run
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  // Bounds, not waits: a cold start under V8 coverage beside other tests' children has taken over 10 s.
  const logged = (match: (l: LogLine) => boolean, what: string) => waitFor(() => lines().find(match), 30000, what);
  const port = (await logged((l) => l.msg?.startsWith('listening') === true, 'the gateway to listen')).port!;
  const url = `http://127.0.0.1:${port}`;
  await systemd.next((m) => m === 'READY=1', 0, 30000, 'READY=1');

  const hangUp = async (what: string): Promise<void> => {
    const from = systemd.received.length;
    run.child.kill('SIGHUP');
    const reloading = await systemd.next((m) => /^RELOADING=1\nMONOTONIC_USEC=\d+$/.test(m), from, 5000, `RELOADING=1 (${what})`);
    const ready = await systemd.next((m) => m === 'READY=1', from, 5000, `READY=1 after the reload (${what})`);
    t.true(reloading < ready, `RELOADING=1 before READY=1 (${what})`);
  };

  // Quieter, and a port change that cannot apply while running.
  fs.writeFileSync(file, configYaml(path.join(dir, 'data'), 'warn', 1));
  await hangUp('warn');
  const warned = await logged((l) => l.msg?.startsWith('reload:') === true, 'the reload line');
  t.is(warned.level, WARN);
  t.deepEqual([warned.applied, warned.needRestart], [['log.level'], ['http.port']]);
  t.is(warned.msg, 'reload: applied log.level="warn"; http.port changed: they take effect at the next restart');
  t.is((await postChunks(port, 81, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200, 'still on the old port');

  // Back to info: a spot coming online ("connected") is logged again, and the one during "warn" was not.
  fs.writeFileSync(file, configYaml(path.join(dir, 'data'), 'info', 0));
  await hangUp('info');
  t.is((await postChunks(port, 82, [jsonText([presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await logged((l) => l.msg === 'spot 82: connected', 'spot 82 connected at level info');
  t.false(lines().some((l) => l.msg === 'spot 81: connected'), 'nothing at info while the level was warn');

  fs.writeFileSync(file, configYaml(path.join(dir, 'data'), 'info', 70000));
  await hangUp('bad file');
  const refused = await logged((l) => l.msg?.startsWith('reload refused') === true, 'the refusal');
  t.is(refused.level, ERROR);
  t.is(refused.msg, `reload refused: config ${file}: http.port: must be <= 65535; the running configuration is kept`);
  t.is((await api(url, '/healthz')).status, 200, 'still running');

  run.child.kill('SIGTERM');
  t.is(await within(run.exited, 15000, 'the gateway to exit'), 0);
  t.is(systemd.messages().at(-1), 'STOPPING=1');
});

function liveYaml(dataDir: string, o: { url: string; queued: number; diskWarn: number; stalled: number }): string {
  return (
    `http:\n  host: 127.0.0.1\n  port: 0\ndata_dir: ${dataDir}\ngateway:\n  id: reload-live\nlog:\n  level: info\n` +
    `buffer:\n  disk_warn_percent: ${o.diskWarn}\nmqtt:\n  url: ${o.url}\n  stalled_after_s: ${o.stalled}\ncommands:\n  max_queued_per_spot: ${o.queued}\n` +
    // The commands below are queued without credentials (docs/security.md).
    `auth:\n  api: off\n`
  );
}

test('SIGHUP applies a command queue limit, the disk threshold and another broker at once; a level set through the API is set again from the file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'gateway.yaml');
  const dataDir = path.join(dir, 'data');
  const [a, b] = await Promise.all([startMosquitto({ t }), startMosquitto({ t })]);
  const [onA, onB] = await Promise.all([startConsumer(a.url, ['from/#'], t), startConsumer(b.url, ['from/#'], t)]);
  fs.writeFileSync(file, liveYaml(dataDir, { url: a.url, queued: 1, diskWarn: 100, stalled: 60 }));
  const systemd = notifyReceiver(t, { dir });
  const run = runCli(['run', '--config', file], { env: { NOTIFY_SOCKET: systemd.notifySocket } });
  t.teardown(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const lines = (): LogLine[] => jsonLogLines<LogLine>(run);
  const logged = (match: (l: LogLine) => boolean, what: string) => waitFor(() => lines().find(match), 30000, what);
  const port = (await logged((l) => l.msg?.startsWith('listening') === true, 'the gateway to listen')).port!;
  const url = `http://127.0.0.1:${port}`;
  // Bounds, not waits: a cold start under V8 coverage beside other tests' children has taken over 10 s.
  await systemd.next((m) => m === 'READY=1', 0, 30000, 'READY=1');

  const command = { resource: 'config', action: 'update', data: { rfid_power_dbm: 12 } };
  t.is((await api(url, '/api/spots/91/commands', { body: command })).status, 202);
  t.is((await api(url, '/api/spots/91/commands', { body: command })).status, 429, 'one queued command per spot');
  t.is((await postChunks(port, 91, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200);
  await onA.waitFor((m) => m.some((x) => x.topic.startsWith('from/91/json/')), 10000, 'the first event on broker A');
  t.is((await api<{ status: string }>(url, '/healthz')).body.status, 'ok');
  t.is((await api(url, '/api/log-level', { method: 'PUT', body: { level: 'debug' } })).status, 200);

  fs.writeFileSync(file, liveYaml(dataDir, { url: b.url, queued: 3, diskWarn: 0.001, stalled: 30 }));
  const from = systemd.received.length;
  run.child.kill('SIGHUP');
  await systemd.next((m) => m.startsWith('RELOADING=1'), from, 5000, 'RELOADING=1');
  const ready = await systemd.next((m) => m === 'READY=1', from, 10000, 'READY=1 after the reload');
  const reloaded = await logged((l) => l.msg?.startsWith('reload:') === true, 'the reload line');
  t.is(reloaded.level, 30);
  t.deepEqual(reloaded.applied, ['buffer.disk_warn_percent', 'mqtt.url', 'mqtt.stalled_after_s', 'commands.max_queued_per_spot', 'log.level']);
  t.is(
    reloaded.msg,
    `reload: applied buffer.disk_warn_percent=0.001, mqtt.url="${b.url}", mqtt.stalled_after_s=30, commands.max_queued_per_spot=3, log.level="info" (mqtt upstream restarted)`,
  );
  // READY=1 only once the new forwarder runs: the restart line comes before it.
  const restarted = lines().find((l) => l.msg === 'mqtt: upstream restarted with the reloaded configuration');
  t.truthy(restarted);
  t.true(restarted!.time! <= systemd.received[ready]!.at, 'the new forwarder started before READY=1');

  t.deepEqual((await api(url, '/api/log-level')).body, { level: 'info' }, "the file's level again");
  t.is((await api(url, '/api/spots/91/commands', { body: command })).status, 202, 'the queue takes more now');
  const health = (await api<{ status: string; reason: string }>(url, '/healthz')).body;
  t.is(health.status, 'degraded');
  t.regex(health.reason, /data filesystem of .* % full \(above buffer.disk_warn_percent 0.001 %\)/);

  t.is((await postChunks(port, 92, [jsonText([presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await onB.waitFor((m) => m.some((x) => x.topic.startsWith('from/92/json/')), 10000, 'the next event on broker B');
  t.false(onA.messages.some((x) => x.topic.startsWith('from/92/')), 'nothing more on broker A');
  const status = (await api<{ upstreams: { mqtt: { state: string; lag: number } } }>(url, '/api/status')).body;
  t.is(status.upstreams.mqtt.state, 'connected');

  run.child.kill('SIGTERM');
  t.is(await within(run.exited, 15000, 'the gateway to exit'), 0);
});

test('SIGTERM while a reload waits for the old forwarder: STOPPING=1 and no READY=1 after it, no new forwarder, exit 0', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'gateway.yaml');
  const dataDir = path.join(dir, 'data');
  // A broker that takes events and never acknowledges them: the forwarder's stop waits for them (bounded, 2 s).
  const standIn = await startBrokerStandIn(t);
  standIn.neverAck(true);
  fs.writeFileSync(file, liveYaml(dataDir, { url: standIn.url, queued: 1, diskWarn: 100, stalled: 60 }));
  const systemd = notifyReceiver(t, { dir });
  const run = runCli(['run', '--config', file], { env: { NOTIFY_SOCKET: systemd.notifySocket } });
  t.teardown(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const lines = (): LogLine[] => jsonLogLines<LogLine>(run);
  const port = (await waitFor(() => lines().find((l) => l.msg?.startsWith('listening') === true), 30000, 'the gateway to listen')).port!;
  // Bounds, not waits: a cold start under V8 coverage beside other tests' children has taken over 10 s.
  await systemd.next((m) => m === 'READY=1', 0, 30000, 'READY=1');
  t.is((await postChunks(port, 93, [jsonText([presence(1), presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await waitFor(
    async () => (await api<{ upstreams: { mqtt: { inFlight: number } } }>(`http://127.0.0.1:${port}`, '/api/status')).body.upstreams.mqtt.inFlight >= 2,
    10000,
    'the events in flight, unacknowledged',
  );

  const closed = await closedPort();
  fs.writeFileSync(file, liveYaml(dataDir, { url: `mqtt://127.0.0.1:${closed}`, queued: 1, diskWarn: 100, stalled: 60 }));
  const from = systemd.received.length;
  run.child.kill('SIGHUP');
  await systemd.next((m) => m.startsWith('RELOADING=1'), from, 5000, 'RELOADING=1');
  run.child.kill('SIGTERM');
  t.is(await within(run.exited, 15000, 'the gateway to exit'), 0);
  const after = systemd.messages().slice(from);
  const stoppingAt = after.indexOf('STOPPING=1');
  t.true(stoppingAt > 0, after.join(' | '));
  t.false(after.slice(stoppingAt).includes('READY=1'), after.join(' | '));
  t.false(lines().some((l) => l.msg === 'mqtt: upstream restarted with the reloaded configuration'));
});
