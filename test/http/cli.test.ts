// The spot-gateway command as a child process: help, config refusal (exit 2), env overrides, clean stop.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, CHILD_START_BOUND_MS, JSON_EVENTS, postChunks, runCli, spawnGateway, SpotConnection, tempDir, waitFor, within } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

test('--help on every command', async (t) => {
  for (const args of [['--help'], ['run', '--help'], ['config', 'check', '--help']]) {
    const cli = runCli(args);
    t.is(await within(cli.exited, CHILD_START_BOUND_MS, args.join(' ')), 0, args.join(' '));
    t.regex(cli.stdout(), /Usage:/, args.join(' '));
  }
  const unknown = runCli(['fly']);
  t.is(await within(unknown.exited, CHILD_START_BOUND_MS, 'fly'), 2);
  t.regex(unknown.stderr(), /unknown command "fly"/);
});

test('a bad config file is refused at start: exit 2, one line with the key path and reason', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'http:\n  port: 99999\n');
  const cli = runCli(['run', '--config', file]);
  t.is(await within(cli.exited, CHILD_START_BOUND_MS, 'run with a bad config'), 2);
  const lines = cli.stderr().trim().split('\n');
  t.is(lines.length, 1, cli.stderr());
  t.regex(lines[0]!, /bad\.yaml: http\.port: must be <= 65535/);
});

test('the gateway runs on env overrides, serves posts, and stops cleanly on SIGTERM', async (t) => {
  const dataDir = tempDir(t);
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_LOG_LEVEL: 'info' } });
  t.true(gw.port > 0);
  t.is((await postChunks(gw.port, 12, [jsonText([presence(1), presence(2)])], { headers: JSON_EVENTS })).status, 200);
  const { body: status } = await api<{ gateway: { id: string }; buffer: { events: number } }>(gw.url, '/api/status');
  t.is(status.gateway.id, 'test-gateway');
  t.is(status.buffer.events, 2);
  t.is(await gw.kill('SIGTERM'), 0);
  t.regex(gw.stdout(), /"msg":"stopped"/);

  // Same data dir, started again: the events are still there.
  const again = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir } });
  const { body: events } = await api<unknown[]>(again.url, '/api/events');
  t.is(events.length, 2);
  t.is(await again.kill('SIGINT'), 0);
});

test('config check prints the effective configuration, the MQTT password and the spot server token hidden', async (t) => {
  const env = { SPOT_GATEWAY_HTTP_PORT: '8181', SPOT_GATEWAY_MQTT_URL: 'mqtt://site:hunter2@broker:1883', SPOT_GATEWAY_SPOT_SERVER_URL: 'https://central:8443', SPOT_GATEWAY_SPOT_SERVER_TOKEN: 'sgt_secret' };
  const cli = runCli(['config', 'check'], { env, cwd: tempDir(t) });
  t.is(await within(cli.exited, CHILD_START_BOUND_MS, 'config check'), 0);
  const shown = JSON.parse(cli.stdout()) as { http: { port: number }; mqtt: { url: string }; spot_server: { url: string; token: string } };
  t.deepEqual([shown.http.port, shown.mqtt.url, shown.spot_server.url, shown.spot_server.token], [8181, 'mqtt://site:***@broker:1883', 'https://central:8443', '***']);
  t.false(cli.stdout().includes('hunter2') || cli.stdout().includes('sgt_secret'));
  const plain = runCli(['config', 'check'], { env: { SPOT_GATEWAY_HTTP_PORT: '8181' }, cwd: tempDir(t) });
  t.is(await within(plain.exited, CHILD_START_BOUND_MS, 'config check'), 0);
  t.is((JSON.parse(plain.stdout()) as { spot_server: { token: string } }).spot_server.token, '');
});

test('SIGTERM with a post that never ends still stops within the grace period, keeping what was stored', async (t) => {
  const dataDir = tempDir(t);
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir } });
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(13, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1)]));
  await waitFor(async () => (await api<unknown[]>(gw.url, '/api/events?spot=13')).body.length === 1 || undefined, 5000, 'the event to be stored');
  t.is(await gw.kill('SIGTERM'), 0);
  const again = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir } });
  t.is((await api<unknown[]>(again.url, '/api/events?spot=13')).body.length, 1);
  await again.kill('SIGTERM');
});

test('a port in use or an unusable data dir stops the start with exit 1 and a reason', async (t) => {
  const holder = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: tempDir(t) } });
  const busy = runCli(['run'], { env: { SPOT_GATEWAY_HTTP_PORT: String(holder.port), SPOT_GATEWAY_HTTP_HOST: '127.0.0.1', SPOT_GATEWAY_DATA_DIR: tempDir(t) } });
  t.is(await within(busy.exited, CHILD_START_BOUND_MS, 'start on a busy port'), 1);
  t.regex(busy.stdout(), /is already in use .*SPOT_GATEWAY_HTTP_PORT/);
  const badDir = runCli(['run'], { env: { SPOT_GATEWAY_HTTP_PORT: '0', SPOT_GATEWAY_DATA_DIR: '/etc/passwd/x' } });
  t.is(await within(badDir.exited, CHILD_START_BOUND_MS, 'start on a bad data dir'), 1);
  t.regex(badDir.stdout(), /data dir \/etc\/passwd\/x: .*SPOT_GATEWAY_DATA_DIR/);
  await holder.kill('SIGTERM');
});
