// `spot-gateway run` with stdout on a terminal (a real pty from script(1)) writes lines for a person; on a pipe, JSON.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { BIN, tempDir, waitFor, within } from '../helpers/gateway.js';
import { can } from '../helpers/privileges.js';

test('on a terminal the log lines are time, level and message, not JSON', async (t) => {
  if (!can('script', ['-q', '-c', 'true', '/dev/null'])) {
    t.log('SKIPPED: script(1) from util-linux is not installed');
    t.pass();
    return;
  }
  const dir = tempDir(t);
  const script = spawn('script', ['-q', '-f', '-e', '-c', `exec ${process.execPath} ${BIN} run`, '/dev/null'], {
    cwd: dir,
    env: { ...process.env, SPOT_GATEWAY_HTTP_PORT: '0', SPOT_GATEWAY_HTTP_HOST: '127.0.0.1', SPOT_GATEWAY_DATA_DIR: path.join(dir, 'data'), SPOT_GATEWAY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  script.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => script.once('exit', resolve));
  // script's child is the gateway (exec): it gets the SIGTERM, not script.
  const gatewayPid = await waitFor(
    () => {
      try {
        return Number(execFileSync('pgrep', ['-P', String(script.pid)]).toString().trim().split('\n')[0]) || undefined;
      } catch {
        return undefined;
      }
    },
    20000,
    'the gateway under script',
  );
  t.teardown(() => {
    try {
      process.kill(gatewayPid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
  const listening = await waitFor(() => /^(\d\d:\d\d:\d\d\.\d{3}) INFO {2}listening on 127\.0\.0\.1:(\d+) \(http\); buffer in .*$/m.exec(out.replace(/\r/g, '')) ?? undefined, 30000, 'the pretty listening line');
  t.truthy(listening);
  t.false(/^\{"level"/m.test(out), 'no JSON lines');
  t.regex(out.replace(/\r/g, ''), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[store\] store: opened /m);
  process.kill(gatewayPid, 'SIGTERM');
  t.is(await within(exited, 15000, 'script to end with the gateway'), 0);
});
