// SIGHUP on the gateway child: RELOADING=1 then READY=1; log.level from the file applies at once; other changed keys
// wait for a restart; a file that no longer validates is refused and the gateway runs on.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, JSON_EVENTS, postChunks, runCli, tempDir, waitFor, within } from '../helpers/gateway.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';
import { jsonText, presence } from '../http/events.js';

interface LogLine {
  level?: number;
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
  const logged = (match: (l: LogLine) => boolean, what: string) => waitFor(() => lines().find(match), 10000, what);
  const port = (await logged((l) => l.msg?.startsWith('listening') === true, 'the gateway to listen')).port!;
  const url = `http://127.0.0.1:${port}`;
  await systemd.next((m) => m === 'READY=1', 0, 10000, 'READY=1');

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
