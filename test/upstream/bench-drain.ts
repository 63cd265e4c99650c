// Figures, not a test: backlog drain rate of the forwarder into a real Mosquitto.
// Run: node --import tsx test/upstream/bench-drain.ts [events] [spots] [max_inflight_messages|default] [consumer|none]
import mqtt from 'mqtt';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { jsonEvent, MemorySource } from './fake-source.js';

const total = Number(process.argv[2] ?? 100_000);
const spots = Number(process.argv[3] ?? 200);
const brokerInflight = process.argv[4] === 'default' ? undefined : process.argv[4];
const withConsumer = process.argv[5] !== 'none';

const broker = await startMosquitto(brokerInflight ? { extraConfig: `max_inflight_messages ${brokerInflight}` } : {});
try {
  const source = new MemorySource('bench');
  for (let n = 0; n < total; n += spots) {
    source.append(...Array.from({ length: Math.min(spots, total - n) }, (_, k) => jsonEvent(String(1000 + k), n)));
  }
  const consumer = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  let received = 0;
  let forwarder: MqttForwarder | undefined;
  const done = withConsumer
    ? new Promise<void>((resolve) => consumer.on('message', () => ++received === total && resolve()))
    : new Promise<void>((resolve) => {
        const timer = setInterval(() => forwarder?.status().acked === total && (clearInterval(timer), resolve()), 5);
      });
  if (withConsumer) await consumer.subscribeAsync('from/#', { qos: 1 });
  forwarder = new MqttForwarder({ url: broker.url, gatewayId: 'bench', source });
  const started = process.hrtime.bigint();
  forwarder.start();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const acked = await new Promise<number>((resolve) => setTimeout(() => resolve(forwarder.status().acked), 200));
  await forwarder.stop();
  await consumer.endAsync(true);
  console.log(
    `upstream-drain: events=${total} spots=${spots} broker_max_inflight=${brokerInflight ?? 'default(20)'} ` +
      `consumer=${withConsumer ? 'same-process' : 'none'} drain_eps=${Math.round(total / seconds)} acked=${acked} rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)}`,
  );
} finally {
  await broker.kill();
}
