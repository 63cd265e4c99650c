// A broker that only speaks MQTT 3.1.1: a proxy in front of Mosquitto refuses MQTT 5 CONNECTs
// the way a 3.1.1 broker does (CONNACK return code 1), and passes 3.1.1 connections through.
import test from 'ava';
import net from 'node:net';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startConsumer } from './consumer.js';
import { jsonEvent, MemorySource } from './fake-source.js';

async function v311Proxy(t: { teardown(fn: () => unknown): void }, brokerPort: number): Promise<{ url: string; refused: () => number }> {
  let refused = 0;
  const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      // CONNECT: fixed header, remaining length (1-4 bytes), "MQTT" (2 + 4 bytes), protocol level.
      let at = 1;
      while (at < head.length && head[at]! & 0x80) at++;
      const levelAt = at + 1 + 6;
      if (head.length <= levelAt) return;
      client.off('data', onData);
      if (head[levelAt] === 5) {
        refused++;
        client.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        return;
      }
      const upstream = net.connect(brokerPort, '127.0.0.1', () => {
        upstream.write(head);
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, refused: () => refused };
}

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
