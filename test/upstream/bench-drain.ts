// Figures, not a test: backlog drain rate of the forwarder into a real Mosquitto.
// Run: node --import tsx test/upstream/bench-drain.ts [events] [spots] [broker max_inflight_messages|default] [memory|store] [consumer|none]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { openStore } from '../../gateway/src/store/index.js';
import type { ForwardSource } from '../../gateway/src/upstream/index.js';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { jsonEvent, MemorySource } from './fake-source.js';

const total = Number(process.argv[2] ?? 100_000);
const spots = Number(process.argv[3] ?? 200);
const brokerInflight = process.argv[4] && process.argv[4] !== 'default' ? process.argv[4] : undefined;
const sourceKind = process.argv[5] === 'store' ? 'store' : 'memory';
const withConsumer = process.argv[6] !== 'none';

const broker = await startMosquitto(brokerInflight ? { extraConfig: `max_inflight_messages ${brokerInflight}${process.env.NODELAY ? "\nset_tcp_nodelay true" : ""}` } : {});
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-drain-'));
try {
  const batches = [];
  for (let n = 0; n < total; n += spots) {
    batches.push(Array.from({ length: Math.min(spots, total - n) }, (_, k) => jsonEvent(String(1000 + k), n)));
  }
  const lastId = new Map<string, number>();
  let source: ForwardSource;
  let close = async () => {};
  if (sourceKind === 'store') {
    const store = openStore({ dataDir, upstreams: ['mqtt'], durability: 'off' });
    for (const batch of batches) {
      const outcomes = await store.append(
        batch.map((e) => ({ ...e, encoding: 'json' as const, timeReceived: Date.now(), boot: null, seq: null })),
      );
      outcomes.forEach((o, i) => lastId.set(batch[i]!.spot, (o as { id: number }).id));
    }
    source = store;
    close = () => store.close();
  } else {
    const memory = new MemorySource('bench');
    for (const batch of batches) memory.append(...batch).forEach((id, i) => lastId.set(batch[i]!.spot, id));
    source = memory;
  }
  // Done when every spot's cursor reached its last event (cheap: no status() polling).
  let spotsDone = 0;
  let allAcked!: () => void;
  const acked = new Promise<void>((resolve) => (allAcked = resolve));
  const advance = source.advanceCursor.bind(source);
  source.advanceCursor = (upstream, spot, id) => {
    advance(upstream, spot, id);
    if (id === lastId.get(spot) && ++spotsDone === lastId.size) allAcked();
  };
  const consumer = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  let received = 0;
  const delivered = new Promise<void>((resolve) => consumer.on('message', () => ++received === total && resolve()));
  if (withConsumer) await consumer.subscribeAsync('from/#', { qos: 1 });
  const forwarder = new MqttForwarder({ url: broker.url, gatewayId: 'bench', source });
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  forwarder.start();
  await (withConsumer ? Promise.all([acked, delivered]) : acked);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  await forwarder.stop();
  await consumer.endAsync(true);
  await close();
  console.log(
    `upstream-drain: events=${total} spots=${spots} source=${sourceKind} broker_max_inflight=${brokerInflight ?? 'default(20)'} ` +
      `consumer=${withConsumer ? 'same-process' : 'none'} drain_eps=${Math.round(total / seconds)} ` +
      `cpu_us_per_event=${((cpu.user + cpu.system) / total).toFixed(1)} ` +
      `rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)}`,
  );
} finally {
  await broker.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
