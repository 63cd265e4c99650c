// The forwarder's MQTT connections must not make mqtt-packet build its packet-id cache: 65536
// two-byte Buffers, 6.5 MB of heap for the life of the process. Its own file, so no other
// MQTT client (a test consumer on mqtt.js, say) in this process builds the cache first.
import { createRequire } from 'node:module';
import test from 'ava';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { jsonEvent, MemorySource } from './fake-source.js';

const require = createRequire(import.meta.url);
const numbers = require('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

for (const rawPublish of [true, false]) {
  test(`the forwarder publishes and subscribes without building mqtt-packet's id cache (rawPublish ${rawPublish})`, async (t) => {
    const broker = await startMosquitto({ t });
    const source = new MemorySource('inst-m');
    const forwarder = new MqttForwarder({
      url: broker.url,
      gatewayId: 'gw-m',
      source,
      rawPublish,
      backoff: { minMs: 100, maxMs: 400 },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    forwarder.start();
    t.teardown(() => forwarder.stop());
    for (let i = 0; i < 20; i++) source.append(jsonEvent('201', i));
    await waitFor(() => forwarder.status().acked >= 20, 10_000, '20 events acknowledged');
    // Packet ids went out (QoS 1 publishes, the command subscription), none through the cache.
    t.is(Object.keys(numbers.cache).length, 0);
  });
}
