// A broker that only speaks MQTT 3.1.1: a proxy in front of Mosquitto refuses MQTT 5 CONNECTs
// the way a 3.1.1 broker does (CONNACK return code 1), and passes 3.1.1 connections through.
import test from 'ava';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { v311Proxy } from '../helpers/v311-proxy.js';
import { startConsumer } from './consumer.js';
import { jsonEvent, MemorySource } from './fake-source.js';

test('a 3.1.1-only broker refuses MQTT 5: the forwarder falls back to 3.1.1 and delivers everything in order, without event_id', async (t) => {
  const broker = await startMosquitto({ t });
  const proxy = await v311Proxy(t, broker.port);
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const source = new MemorySource('inst-311');
  const warnings: string[] = [];
  const forwarder = new MqttForwarder({
    url: proxy.url,
    gatewayId: 'gw311',
    source,
    backoff: { minMs: 50, maxMs: 200 },
    logger: { debug() {}, info() {}, warn: (_o, m) => warnings.push(m), error: (_o, m) => warnings.push(m) },
  });
  t.teardown(() => forwarder.stop());
  const ids = source.append(...Array.from({ length: 300 }, (_, n) => jsonEvent('311', n)));
  forwarder.start();
  await consumer.waitFor((m) => m.length >= 300, 10_000, '300 events');
  t.is(proxy.refused(), 1, 'one MQTT 5 attempt, then 3.1.1');
  t.is(forwarder.status().protocolVersion, 4);
  t.regex(warnings.join('\n'), /broker refuses MQTT 5, using MQTT 3\.1\.1/);
  t.deepEqual(consumer.messages.map((m) => JSON.parse(m.payload.toString()).n), [...Array(300).keys()]);
  t.true(consumer.messages.every((m) => m.eventId === undefined));
  await waitFor(() => source.cursor('mqtt', '311') === ids.at(-1), 5000, 'the cursor at the last event');
  t.is(source.cursor('mqtt', '311'), ids.at(-1)!);
});
