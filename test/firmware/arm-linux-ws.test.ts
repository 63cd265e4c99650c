// The ARM Linux spot under qemu-arm with `--transport websocket` against the real gateway (a child process, so
// that it can be stopped and started again on the same data) and a real Mosquitto: events stored and forwarded,
// a command queued through the API pushed to the spot, and nothing lost across a gateway restart.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { seedAuth } from '../auth/http.js';
import { api, JSON_EVENTS, postChunks, spawnGateway, startTestGateway, tempDir, waitFor, within } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startConsumer } from '../upstream/consumer.js';
import { makeTestCa } from '../helpers/test-ca.js';
import { firmwareBinary, startSpot } from './spot-process.js';
import { EXPECTED, LONG_EXPECTED, LONG_SCENARIO, SCENARIO, presences, storedEvents } from './spot-scenarios.js';

interface Upstream {
  topic: string;
  id: string;
  data: Record<string, unknown>;
}

/** The numbering the gateway stored for a spot, read from its SQLite file. */
function storedNumbering(dataDir: string, serial: number): Array<{ boot: number; seq: number }> {
  const db = new Database(path.join(dataDir, 'spot-gateway.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT boot, seq FROM events WHERE spot = ? ORDER BY id').all(String(serial)) as Array<{ boot: number; seq: number }>;
  } finally {
    db.close();
  }
}

const stops = [
  { encoding: 'json', serial: 5121, signal: 'SIGTERM', how: 'stopped (close 1001 after its acknowledgements)', seen: /WebSocket ended \(closed by the gateway: 1001/ },
  { encoding: 'pb', serial: 5122, signal: 'SIGKILL', how: 'killed (the connection just drops)', seen: /WebSocket ended \(connection lost: / },
] as const;

for (const { encoding, serial, signal, how, seen } of stops) {
  test.serial(`arm-linux spot over WebSocket (${encoding}): events stored and forwarded, a queued command pushed, gateway ${how} and started again: no event lost`, async (t) => {
    const broker = await startMosquitto({ t });
    // Every event goes up as JSON, whatever its encoding (docs/mqtt.md).
    const consumer = await startConsumer(broker.url, [`from/${serial}/json/#`], t);
    const received = (): Upstream[] =>
      consumer.messages.map((m) => ({ topic: m.topic, id: m.eventId ?? '', data: JSON.parse(m.payload.toString()) as Record<string, unknown> }));

    const dataDir = tempDir(t, 'spot-gateway-ws-');
    const env = { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_MQTT_URL: broker.url };
    const first = await spawnGateway(t, { env });
    const port = first.port;
    const spot = startSpot(t, {
      target: 'arm-linux',
      serial,
      brain: `127.0.0.1:${port}`,
      encoding,
      scenario: LONG_SCENARIO,
      runSeconds: 26,
      extraArgs: ['--transport', 'websocket'],
    });
    await waitFor(() => /WebSocket open to 127\.0\.0\.1:\d+ \(spot-(json|pb)\.v1\)/.test(spot.console()), 20000, () => `the WebSocket to open: ${spot.console()}`);
    t.regex(spot.console(), new RegExp(`over WebSocket`));

    // Events go up as they happen: stored, then forwarded upstream.
    await waitFor(() => received().filter((m) => m.topic.endsWith('/presence/create')).length >= 2, 20000, 'two presences upstream');

    // A command queued while the spot is connected is pushed at once; the spot applies it and reports it.
    const queued = await api<{ id: number }>(first.url, `/api/spots/${serial}/commands`, {
      body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 21 } },
    });
    t.is(queued.status, 202, JSON.stringify(queued.body));
    const update = await waitFor(
      async () => (await storedEvents(first, serial)).find((e) => e.resource === 'config' && e.action === 'update'),
      20000,
      () => `the spot to report its config update: ${spot.console()}`,
    );
    t.is(update.data.rfid_power_dbm, 21);

    await first.kill(signal);
    const stoppedAt = Date.now();
    // The outage the test is about (3 s, the spot reading and keeping its events meanwhile): a span of time, not a wait.
    await new Promise((r) => setTimeout(r, 3000));
    const second = await spawnGateway(t, { env: { ...env, SPOT_GATEWAY_HTTP_PORT: String(port) } });
    t.true(Date.now() - stoppedAt >= 3000);
    t.is(await within(spot.exited, 60000, 'the spot to finish its run'), 0, spot.console());
    t.regex(spot.console(), seen, 'the outage was seen by the spot');
    t.true((spot.console().match(/WebSocket open to/g) ?? []).length >= 2, `the spot connected again: ${spot.console()}`);
    const ended = /run ended: WebSocket connections=\d+ acks=\d+ command messages=\d+, boot (\d+) events 1\.\.(\d+)$/m.exec(spot.console());
    t.truthy(ended, `every event acknowledged at the end: ${spot.console()}`);

    // Nothing lost, nothing stored twice: one boot, its seqs 1..n each once, the presences as the scenario gives them.
    const events = await storedEvents(second, serial);
    t.deepEqual(presences(events), LONG_EXPECTED, spot.console());
    const numbering = storedNumbering(dataDir, serial);
    t.deepEqual([...new Set(numbering.map((n) => n.boot))], [Number(ended?.[1])], 'the spot\'s one boot');
    const seqs = numbering.map((n) => n.seq).sort((a, b) => a - b);
    const last = Number(ended?.[2]);
    t.true(last > LONG_EXPECTED.length, `the spot numbered ${last} events`);
    t.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), 'every seq the spot numbered stored, once');
    t.is(numbering.length, events.length);

    // At least once upstream, deduplicated by event id; a barrier posted after the run shows nothing more is coming.
    const marker = await postChunks(second.port, serial, ['["spot","update",{"barrier":true}]\n'], { headers: JSON_EVENTS });
    t.is(marker.status, 200, marker.body.toString());
    await waitFor(() => received().some((m) => m.topic.endsWith('/spot/update') && m.data.barrier === true), 20000, 'the barrier event upstream');
    const presenceMessages = [...new Map(received().filter((m) => m.topic.includes('/presence/')).map((m) => [m.id, m])).values()];
    t.true(presenceMessages.every((m) => m.id !== ''), 'every upstream message carries an event id');
    t.deepEqual(
      presenceMessages.map((m) => `${m.topic.split('/').pop()} ${String(m.data.item_code)} ${String(m.data.proximity)}`),
      LONG_EXPECTED,
    );
  });
}

test.serial('arm-linux spot over wss with its token: stored, a command reaches it; with a wrong token every upgrade is refused with 401 and nothing is stored', async (t) => {
  const ca = makeTestCa(t);
  const pair = ca.issue('gateway-ws');
  const dataDir = tempDir(t);
  const serial = 5123;
  const seeded = await seedAuth(dataDir, { spotTokens: [String(serial)] });
  const gateway = await startTestGateway(t, {
    dataDir,
    config: { auth: { spots: 'token' }, http: { tls_cert_file: pair.cert, tls_key_file: pair.key, plain_port: 0 } },
  });
  const plainPort = gateway.running.plainPort;
  if (plainPort === null) throw new Error('no plain listener');
  const plain = { url: `http://127.0.0.1:${plainPort}` };
  const tls = ['--transport', 'websocket', '--ca', ca.caFile, '--tls-name', 'localhost'];
  const brain = `127.0.0.1:${gateway.port}`;
  const spot = startSpot(t, {
    target: 'arm-linux',
    serial,
    brain,
    scenario: SCENARIO,
    runSeconds: 8,
    extraArgs: [...tls, '--token', seeded.perSpot.get(String(serial))!.token],
  });
  await waitFor(() => /WebSocket open to/.test(spot.console()), 20000, () => `the WebSocket to open: ${spot.console()}`);
  const queued = await api(plain.url, `/api/spots/${serial}/commands`, { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 22 } } });
  t.is(queued.status, 202);
  const update = await waitFor(
    async () => (await storedEvents(plain, serial)).find((e) => e.resource === 'config' && e.action === 'update'),
    20000,
    () => `the spot to report the config update it was sent: ${spot.console()}`,
  );
  t.is(update.data.rfid_power_dbm, 22);
  t.is(await within(spot.exited, 40000, 'the spot to finish its run'), 0, spot.console());
  t.regex(spot.console(), /TLS to 127\.0\.0\.1:\d+: TLSv1\.2 /);
  t.deepEqual(presences(await storedEvents(plain, serial)), EXPECTED, spot.console());

  const other = serial + 10;
  const wrong = startSpot(t, { target: 'arm-linux', serial: other, brain, scenario: SCENARIO, extraArgs: [...tls, '--token', 'not-the-token'] });
  const refused = await waitFor(() => /WebSocket ended \((upgrade refused: .*)\); events/.exec(wrong.console())?.[1], 20000, () => `the refusal: ${wrong.console()}`);
  t.regex(refused, /^upgrade refused: 401 \{"error":/);
  await wrong.kill();
  t.notRegex(wrong.console(), /WebSocket open to/);
  t.deepEqual(await storedEvents(plain, other), []);
});

test('an unknown --transport is refused, naming the option and the two values', (t) => {
  const run = spawnSync(firmwareBinary('host'), ['--transport', 'carrier-pigeon'], { encoding: 'utf8' });
  t.is(run.status, 2);
  t.regex(run.stderr, /--transport is http or websocket, got 'carrier-pigeon'/);
  const flood = spawnSync(firmwareBinary('host'), ['--transport', 'websocket', '--flood'], { encoding: 'utf8' });
  t.is(flood.status, 2);
  t.regex(flood.stderr, /--flood .* does not go with --transport websocket/);
});
