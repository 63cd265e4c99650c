// The ARM Linux spot firmware under qemu-arm against the real gateway (in-process) and a real Mosquitto.
import test from 'ava';
import mqtt from 'mqtt';
import { api, JSON_EVENTS, postChunks, spawnGateway, startTestGateway, tempDir, waitFor, within } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startSpot } from './spot-process.js';
import { EXPECTED, LONG_EXPECTED, LONG_SCENARIO, SCENARIO, presences, storedEvents } from './spot-scenarios.js';

for (const encoding of ['json', 'pb'] as const) {
  test.serial(`arm-linux spot under qemu-arm posts a scenario (${encoding}): exactly the expected presences, in order`, async (t) => {
    const gateway = await startTestGateway(t);
    const serial = encoding === 'json' ? 5101 : 5102;
    const spot = startSpot(t, { target: 'arm-linux', serial, brain: `127.0.0.1:${gateway.port}`, encoding, scenario: SCENARIO, runSeconds: 7 });
    const code = await within(spot.exited, 30000, 'the spot to finish its run');
    t.is(code, 0, spot.console());
    t.regex(spot.console(), /posts acknowledged=\d+ failed=0/);
    const events = await storedEvents(gateway, serial);
    t.deepEqual(
      events.slice(0, 2).map((e) => `${e.resource} ${e.action}`),
      ['spot create', 'config create'],
    );
    t.is(events[0]!.data.spot_id, serial);
    t.deepEqual(presences(events), EXPECTED, spot.console());
  });
}

test.serial('a config update queued through the gateway API is applied by the spot and reported in its next config update', async (t) => {
  const gateway = await startTestGateway(t);
  const serial = 5103;
  const stateDir = tempDir(t, 'spot-state-');
  const brain = `127.0.0.1:${gateway.port}`;
  const spot = startSpot(t, { target: 'arm-linux', serial, brain, scenario: SCENARIO, runSeconds: 6, stateDir });
  await waitFor(async () => (await api(gateway.url, `/api/spots/${serial}`)).status === 200, 15000, 'the spot to post');
  const queued = await api<{ id: number }>(gateway.url, `/api/spots/${serial}/commands`, {
    body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 21, send_hits: false } },
  });
  t.is(queued.status, 202);
  const update = await waitFor(
    async () => (await storedEvents(gateway, serial)).find((e) => e.resource === 'config' && e.action === 'update'),
    15000,
    'the spot to report its config update',
  );
  t.is(update.data.rfid_power_dbm, 21);
  t.is(await within(spot.exited, 30000, 'the spot to finish'), 0, spot.console());

  // The spot's flash (state dir) keeps the new value and counts the boot.
  const again = startSpot(t, { target: 'arm-linux', serial, brain, scenario: '', runSeconds: 2, stateDir });
  t.is(await within(again.exited, 30000, 'the second boot to finish'), 0, again.console());
  const creates = (await storedEvents(gateway, serial)).filter((e) => e.resource === 'config' && e.action === 'create');
  t.is(creates.length, 2);
  t.is(creates[1]!.data.rfid_power_dbm, 21);
  const spots = (await storedEvents(gateway, serial)).filter((e) => e.resource === 'spot' && e.action === 'create');
  t.deepEqual(
    spots.map((e) => e.data.boot_count),
    [1, 2],
  );
});

test.serial('gateway killed, down for 5 s, started again: the spot buffers, nothing lost or duplicated upstream', async (t) => {
  const broker = await startMosquitto({ t });
  const serial = 5104;
  const received: Array<{ topic: string; id: string; data: Record<string, unknown> }> = [];
  const consumer = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.teardown(() => consumer.endAsync(true));
  consumer.on('message', (topic, payload, packet) => {
    const props = packet.properties?.userProperties;
    received.push({ topic, id: String(props?.event_id ?? ''), data: JSON.parse(payload.toString()) as Record<string, unknown> });
  });
  await consumer.subscribeAsync(`from/${serial}/json/#`, { qos: 1 });

  // A child process killed outright: the spot's connection drops mid-post, as in a real outage.
  const dataDir = tempDir(t, 'spot-gateway-restart-');
  const env = { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_MQTT_URL: broker.url };
  const first = await spawnGateway(t, { env });
  const port = first.port;
  const spot = startSpot(t, { target: 'arm-linux', serial, brain: `127.0.0.1:${port}`, scenario: LONG_SCENARIO, runSeconds: 26 });
  await waitFor(() => received.filter((m) => m.topic.endsWith('/presence/create')).length >= 2, 15000, 'two presences upstream');
  await first.kill('SIGKILL');
  const stoppedAt = Date.now();
  // The outage the test is about (5 s, the spot buffering meanwhile): a span of time, not a wait for a condition.
  await new Promise((r) => setTimeout(r, 5000));
  const second = await spawnGateway(t, { env: { ...env, SPOT_GATEWAY_HTTP_PORT: String(port) } });
  t.true(Date.now() - stoppedAt >= 5000);
  t.is(await within(spot.exited, 40000, 'the spot to finish'), 0, spot.console());
  t.regex(spot.console(), /post not acknowledged/, 'the outage was seen by the spot');

  // At-least-once upstream: a message the broker got before the kill may come again, with the same event id.
  const presenceMessages = () => [...new Map(received.filter((m) => m.topic.includes('/json/presence/')).map((m) => [m.id, m])).values()];
  await waitFor(() => presenceMessages().length >= LONG_EXPECTED.length, 15000, 'every presence upstream');
  // A barrier: one more event of the spot, posted after its run; the gateway forwards a spot's events in
  // order, so once it is upstream any duplicate of an earlier presence would have arrived before it.
  const marker = await postChunks(second.port, serial, ['["spot","update",{"barrier":true}]\n'], { headers: JSON_EVENTS });
  t.is(marker.status, 200, marker.body.toString());
  await waitFor(() => received.some((m) => m.topic.endsWith('/spot/update') && m.data.barrier === true), 15000, 'the barrier event upstream');
  t.true(presenceMessages().every((m) => m.id !== ''), 'every upstream message carries an event id');
  const upstream = presenceMessages().map((m) => `${m.topic.split('/').pop()} ${String(m.data.item_code)} ${String(m.data.proximity)}`);
  t.deepEqual(upstream, LONG_EXPECTED, spot.console());
});
