// Commands from the broker get the REST bounds: over the size or the spot's queue they are refused, logged, counted, never queued.
import test from 'ava';
import mqtt from 'mqtt';
import { createLogger } from '../../gateway/src/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, startTestGateway, waitFor } from '../helpers/gateway.js';

interface Counters {
  commandsRefusedInvalid: number;
  commandsRefusedTooLarge: number;
  commandsRefusedQueueFull: number;
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
