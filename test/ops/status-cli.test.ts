// `spot-gateway status`: the summary of a real gateway's /healthz and /api/status, --json, and no gateway.
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { runCli } from '../../gateway/src/cli/index.js';
import { captureIo as io, closedPort } from '../helpers/cli-io.js';
import { duration, size, statusText } from '../../gateway/src/cli/status.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { JSON_EVENTS, postChunks, startTestGateway, tempDir, waitFor, api } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';



test('status prints health, spots, backlog, upstream, disk, quarantine and rejected of the running gateway', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url }, buffer: { disk_warn_percent: 0.001 } } });
  t.is((await postChunks(gw.port, 41, [jsonText([presence(1), presence(2)]) + 'not an event\n\n'], { headers: JSON_EVENTS })).status, 200);
  await waitFor(async () => (await api<{ upstreams: { mqtt: { lag: number } } }>(gw.url, '/api/status')).body.upstreams.mqtt.lag === 0, 10000, 'forwarded');
  const cli = io();
  t.is(await runCli(['status', '--url', `${gw.url}/`], cli), 0, cli.stderr());
  const lines = cli.stdout().split('\n');
  t.regex(lines[0]!, /^gateway test-gateway \(spot-gateway \d+\.\d+\.\d+\), up \d/);
  t.regex(lines[1]!, /^health {5}degraded: data filesystem of .* is \d+\.\d % full \(above buffer.disk_warn_percent 0.001 %\)/);
  t.is(lines[2], 'spots      1 online of 1 known');
  t.regex(lines[3]!, /^buffer {5}\d+ events, \d+ KiB of 1 GiB \(policy drop-oldest\); backlog 0 events, oldest unforwarded none; 0 dropped$/);
  t.regex(lines[4]!, /^upstream {3}mqtt: connected; lag 0 events, [\d.]+\/s, 0 drops, 0 refused, delivery p99 \d+(\.\d)? ms$/);
  t.regex(lines[5]!, new RegExp(`^disk {7}[\\d.]+ % used, .* free of .* \\(${gw.dataDir}\\): above 0.001 %, WARNING$`));
  t.is(lines[6], 'quarantine 0 event(s)');
  t.is(lines[7], 'rejected   1 malformed message(s) since the start (GET /api/rejected)');
});

test('status --json is /api/status with /healthz as health; the address comes from the configuration', async (t) => {
  const gw = await startTestGateway(t);
  const dir = tempDir(t);
  const cli = io({ SPOT_GATEWAY_HTTP_PORT: String(gw.port), SPOT_GATEWAY_HTTP_HOST: '0.0.0.0', SPOT_GATEWAY_DATA_DIR: path.join(dir, 'data') }, dir);
  t.is(await runCli(['status', '--json'], cli), 0, cli.stderr());
  const doc = JSON.parse(cli.stdout()) as { health: { status: string }; gateway: { id: string }; spots: { known: number }; disk: { warning: boolean } };
  t.deepEqual([doc.health.status, doc.gateway.id, doc.spots.known, doc.disk.warning], ['ok', 'test-gateway', 0, false]);

  const quiet = io();
  t.is(await runCli(['status', '--url', gw.url], quiet), 0);
  t.true(quiet.stdout().includes('upstream   none configured (mqtt.url, spot_server.url)'));
  t.true(quiet.stdout().includes('no upstream: events are kept here'));
});

test('status exits 1 with a clear message when no gateway answers, 2 on a bad option', async (t) => {
  const port = await closedPort();
  const cli = io();
  t.is(await runCli(['status', '--url', `http://127.0.0.1:${port}`], cli), 1);
  t.is(cli.stdout(), '');
  t.is(
    cli.stderr(),
    `spot-gateway: no answer from the gateway at http://127.0.0.1:${port} (ECONNREFUSED): is it running? (systemctl status spot-gateway; --url to ask another address)\n`,
  );
  const bad = io();
  t.is(await runCli(['status', '--frobnicate'], bad), 2);
  t.regex(bad.stderr(), /Unknown option '--frobnicate'[\s\S]*Usage: spot-gateway status/);
  const help = io();
  t.is(await runCli(['status', '--help'], help), 0);
  t.regex(help.stdout(), /^Usage: spot-gateway status/);
  const noUrl = io();
  t.is(await runCli(['status', '--url', 'not a url'], noUrl), 1);
  t.regex(noUrl.stderr(), /no answer from the gateway at not a url \(not a URL\)/);
});

test('status on something that is not a gateway says so', async (t) => {
  const server = net.createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const cli = io();
  t.is(await runCli(['status', '--url', url], cli), 1);
  t.regex(cli.stderr(), new RegExp(`^spot-gateway: ${url}: /(healthz|api/status) did not answer JSON \\(is ${url} a spot-gateway\\?\\)\n$`));
});

test('durations and sizes read as a person would say them', (t) => {
  t.deepEqual([duration(null), duration(1500), duration(125_000), duration(7_500_000), duration(200_000_000)], ['none', '1.5 s', '2 min 5 s', '2 h 5 min', '2 d 8 h']);
  t.deepEqual([size(2048), size(5 * 1048576), size(3 * 1024 ** 3)], ['2 KiB', '5 MiB', '3 GiB']);
});

test('the summary names a store error, an upstream error, quarantined events and a disk that cannot be measured', (t) => {
  const text = statusText(
    { status: 'degraded', reason: 'many things' },
    {
      gateway: { id: 'gw', version: '1.0.0', instanceId: 'i', uptimeS: 90 },
      buffer: { events: 12, bytes: 4096, maxBytes: 1048576, policy: 'reject', oldestUnforwardedAgeMs: 65_000, dropped: 0, rejected: 0, lastError: 'disk full' },
      upstreams: { mqtt: { state: 'reconnecting', lag: null, rate: 0, drops: 0, refused: 1, quarantined: 2, delivery: null, lastError: 'ECONNREFUSED' } },
      spots: { known: 3, online: 0 },
      disk: { path: '/data', usedPercent: 0, availableBytes: 0, totalBytes: 0, warnPercent: 90, warning: false, error: 'EIO' },
    },
  );
  t.is(
    text,
    [
      'gateway gw (spot-gateway 1.0.0), up 1 min 30 s',
      'health     degraded: many things',
      'spots      0 online of 3 known',
      'buffer     12 events, 4 KiB of 1 MiB (policy reject); backlog 0 events, oldest unforwarded 1 min 5 s; 0 dropped',
      '           store error: disk full',
      'upstream   mqtt: reconnecting; lag unknown events, 0/s, 0 drops, 1 refused; last error: ECONNREFUSED',
      'disk       /data: cannot be measured (EIO)',
      'quarantine 2 event(s) (GET /api/quarantine)',
      'rejected   0 malformed message(s) since the start',
      '',
    ].join('\n'),
  );
});

test('the delivery p99 reads to a tenth of a millisecond, whatever the histogram interpolated', (t) => {
  const text = statusText(
    { status: 'ok', reason: null },
    {
      gateway: { id: 'gw', version: '1.0.0', instanceId: 'i', uptimeS: 1 },
      buffer: { events: 0, bytes: 0, maxBytes: 1024, policy: 'reject', oldestUnforwardedAgeMs: null, dropped: 0, rejected: 0, lastError: null },
      upstreams: { mqtt: { state: 'connected', lag: 0, rate: 0, drops: 0, refused: 0, quarantined: 0, delivery: { p99Ms: 39.94321 }, lastError: null } },
      spots: { known: 0, online: 0 },
      disk: { path: '/data', usedPercent: 1, availableBytes: 0, totalBytes: 0, warnPercent: 90, warning: false, error: null },
    },
  );
  t.true(text.includes('mqtt: connected; lag 0 events, 0/s, 0 drops, 0 refused, delivery p99 39.9 ms\n'), text);
});

test('the summary prints each upstream, the spot server with its spots held', (t) => {
  const up = { lag: 3, rate: 0, drops: 0, refused: 0, quarantined: 0, delivery: null, lastError: null };
  const text = statusText(
    { status: 'ok', reason: null },
    {
      gateway: { id: 'gw', version: '1.0.0', instanceId: 'i', uptimeS: 1 },
      buffer: { events: 3, bytes: 0, maxBytes: 1024, policy: 'reject', oldestUnforwardedAgeMs: null, dropped: 0, rejected: 0, lastError: null },
      upstreams: { mqtt: { ...up, state: 'connected' }, spot_server: { ...up, state: 'connected', refused: 4, spotsHeld: 2, lastError: 'spot server answered 409' } },
      spots: { known: 3, online: 3 },
      disk: { path: '/data', usedPercent: 1, availableBytes: 0, totalBytes: 0, warnPercent: 90, warning: false, error: null },
    },
  );
  t.true(text.includes('upstream   mqtt: connected; lag 3 events, 0/s, 0 drops, 0 refused\n'), text);
  t.true(text.includes('upstream   spot_server: connected; lag 3 events, 0/s, 0 drops, 4 refused, 2 spot(s) held (refused by the server); last error: spot server answered 409\n'), text);
});
