// Commands from the broker get the REST bounds: over the size or the spot's queue they are refused, logged, counted, never queued.
import test from 'ava';
import mqtt from 'mqtt';
import { createLogger } from '../../gateway/src/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { v311Proxy } from '../helpers/v311-proxy.js';
import { api, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';

interface Counters {
  commandsRefusedInvalid: number;
  commandsRefusedTooLarge: number;
  commandsRefusedQueueFull: number;
}

/** Publishes a probe command ({rfid_power_dbm: 0}) until one is queued: the gateway's command subscription is in place. */
async function subscribed(gw: TestGateway, client: mqtt.MqttClient, spot: number): Promise<void> {
  await waitFor(async () => {
    await client.publishAsync(`to/${spot}/json/config/update`, JSON.stringify({ rfid_power_dbm: 0 }), { qos: 1 });
    const { body } = await api<unknown[]>(gw.url, `/api/spots/${spot}/commands?after=0`);
    return body.length > 0 || undefined;
  }, 10000, 'the command subscription to be in place');
}

/** The spot's queued commands but the probes, by their rfid_power_dbm, once there are `count`. */
async function queuedAfterProbes(gw: TestGateway, spot: number, count: number): Promise<number[]> {
  return waitFor(async () => {
    const { body } = await api<Array<{ data: { rfid_power_dbm: number } }>>(gw.url, `/api/spots/${spot}/commands?after=0`);
    const powers = body.map((c) => c.data.rfid_power_dbm).filter((p) => p !== 0);
    return powers.length >= count ? powers : undefined;
  }, 10000, `${count} command(s) after the probes to be queued`);
}

test('an MQTT command over commands.max_bytes or beyond its spot\'s queue is refused with a log line and counted, and not queued', async (t) => {
  const broker = await startMosquitto({ t });
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  const gw = await startTestGateway(t, { logger, config: { mqtt: { url: broker.url }, commands: { max_bytes: 256, max_queued_per_spot: 2 } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => client.endAsync());
  // Valid, but its JSON message ["config","update",{...}] is 299 bytes.
  await client.publishAsync('to/51/json/config/update', JSON.stringify({ control_schema: { pad: 'x'.repeat(250) } }), { qos: 1 });
  for (const power of [10, 11, 12]) await client.publishAsync('to/51/json/config/update', JSON.stringify({ rfid_power_dbm: power }), { qos: 1 });

  const counters = await waitFor(
    async () => {
      const ingest = (await api<{ ingest: Counters }>(gw.url, '/api/status')).body.ingest;
      return ingest.commandsRefusedTooLarge + ingest.commandsRefusedQueueFull >= 2 ? ingest : undefined;
    },
    10000,
    'both refusals to be counted',
  );
  t.deepEqual([counters.commandsRefusedTooLarge, counters.commandsRefusedQueueFull, counters.commandsRefusedInvalid], [1, 1, 0]);
  const { body: queued } = await api<Array<{ source: string; data: { rfid_power_dbm: number } }>>(gw.url, '/api/spots/51/commands?after=0');
  t.deepEqual(queued.map((c) => [c.source, c.data.rfid_power_dbm]), [['mqtt', 10], ['mqtt', 11]], 'the queue holds its bound and no more');

  const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40).map((l) => l.msg);
  t.true(warnings.includes("mqtt: command ignored: to/51/json/config/update: spot 51: command of 299 bytes is over the limit of 256 bytes (commands.max_bytes, a spot's message limit)"), warnings.join('\n'));
  t.true(warnings.includes('mqtt: command ignored: to/51/json/config/update: spot 51: queue full: 2 commands waiting, the limit (commands.max_queued_per_spot); they leave as the spot posts or expire'), warnings.join('\n'));
  const metrics = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  t.regex(metrics, /^spot_gateway_commands_refused_too_large_total 1$/m);
  t.regex(metrics, /^spot_gateway_commands_refused_queue_full_total 1$/m);
});

test('over MQTT 5 the CONNECT announces commands.max_bytes plus 8 KiB as Maximum Packet Size: the broker discards a larger command, the gateway stays connected and takes the next', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url }, commands: { max_bytes: 256 } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => client.endAsync());
  await subscribed(gw, client, 52);
  // 256 + 8192 + 500 bytes of payload: over the packet size the gateway announced.
  await client.publishAsync('to/52/json/config/update', JSON.stringify({ rfid_power_dbm: 1, pad: 'x'.repeat(256 + 8192 + 500) }), { qos: 1 });
  await client.publishAsync('to/52/json/config/update', JSON.stringify({ rfid_power_dbm: 2 }), { qos: 1 });
  // The barrier: the later command is queued, so the broker has dealt with the large one before it.
  t.deepEqual(await queuedAfterProbes(gw, 52, 1), [2], 'the large one never reached the gateway');
  const { body: status } = await api<{ upstreams: { mqtt: { state: string; reconnects: number; commandsRejected: number } }; ingest: Counters }>(gw.url, '/api/status');
  t.like(status.upstreams.mqtt, { state: 'connected', reconnects: 0, commandsRejected: 0 });
  t.is(status.ingest.commandsRefusedTooLarge, 0, 'it leaves no trace in the gateway (docs/mqtt.md, the size bound)');
});

test('over MQTT 3.1.1 (no Maximum Packet Size) a payload over commands.max_bytes plus 8 KiB is refused unread: logged naming the limit, counted as too large', async (t) => {
  const broker = await startMosquitto({ t });
  const proxy = await v311Proxy(t, broker.port);
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  const gw = await startTestGateway(t, { logger, config: { mqtt: { url: proxy.url }, commands: { max_bytes: 256 } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  t.true(proxy.refused() >= 1, 'the gateway fell back to 3.1.1');
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  await subscribed(gw, client, 53);
  const payload = JSON.stringify({ pad: 'x'.repeat(256 + 8192) });
  await client.publishAsync('to/53/json/config/update', payload, { qos: 1 });
  await client.publishAsync('to/53/json/config/update', JSON.stringify({ rfid_power_dbm: 4 }), { qos: 1 });
  t.deepEqual(await queuedAfterProbes(gw, 53, 1), [4]);
  const { body: status } = await api<{ upstreams: { mqtt: { commandsRejected: number } }; ingest: Counters }>(gw.url, '/api/status');
  t.is(status.upstreams.mqtt.commandsRejected, 1);
  t.deepEqual([status.ingest.commandsRefusedTooLarge, status.ingest.commandsRefusedInvalid], [1, 0], 'counted as REST counts its 413');
  const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40).map((l) => l.msg);
  t.true(
    warnings.includes(`mqtt: command ignored: to/53/json/config/update: payload of ${payload.length} bytes is over the limit of 8448 bytes (commands.max_bytes 256 plus 8192 for topic and properties)`),
    warnings.join('\n'),
  );
});
