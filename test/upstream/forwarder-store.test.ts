// MqttForwarder on the real SQLite store and a real Mosquitto: the end-to-end delivery guarantee.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../gateway/src/store/index.js';
import type { NewEvent, Store } from '../../gateway/src/store/types.js';
import { MqttForwarder } from '../../gateway/src/upstream/index.js';
import { waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { firstSeen, idsBySpot, startConsumer } from './consumer.js';

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upstream-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;
function newEvent(spot: string, pb: Uint8Array | null = null): NewEvent {
  counter++;
  return {
    spot,
    resource: 'presence',
    action: 'create',
    data: JSON.stringify({ n: counter, item_code: `e2801170${String(counter).padStart(16, '0')}`, proximity: 'near' }),
    pb,
    encoding: pb ? 'pb' : 'json',
    timeReceived: Date.now(),
    boot: null,
    seq: null,
  };
}

function forwarderOn(store: Store, url: string): MqttForwarder {
  return new MqttForwarder({ url, gatewayId: 'gw-store', source: store, backoff: { minMs: 100, maxMs: 400 } });
}

test('real store: broker outage and gateway restart together lose nothing, in order per spot, same event_id on redelivery', async (t) => {
  const broker = await startMosquitto({ t, persistence: true });
  const consumer = await startConsumer(broker.url, ['from/#'], t, 'store-consumer');
  const dataDir = tempDir(t);
  const spots = ['4711', '4712', '4713'];
  let store = openStore({ dataDir, upstreams: ['mqtt'] });
  t.teardown(() => store.close().catch(() => undefined));
  const instanceId = store.instanceId;
  let forwarder = forwarderOn(store, broker.url);
  t.teardown(() => forwarder.stop());
  forwarder.start();

  // Forwarded rows get pruned from the store, so the test remembers every acknowledged id.
  const appended = new Map<string, number[]>(spots.map((s) => [s, []]));
  let producing = true;
  const produce = async () => {
    while (producing) {
      const batch = spots.flatMap((spot) => [newEvent(spot), newEvent(spot)]);
      const outcomes = await store.append(batch);
      outcomes.forEach((o, i) => appended.get(batch[i]!.spot)!.push((o as { id: number }).id));
      // The append waited for its commit; let the forwarder's turns run before the next one.
      await new Promise((r) => setImmediate(r));
    }
  };
  const stored = (): number => [...appended.values()].reduce((n, ids) => n + ids.length, 0);
  /** At least `n` more events stored from now on (the traffic each phase stands for). */
  const storedMore = async (n: number, what: string): Promise<void> => {
    const from = stored();
    await waitFor(() => stored() >= from + n, 15_000, what);
  };
  let producer = produce();
  await consumer.waitFor((m) => m.length > 600, 10_000, 'traffic before the outage');
  await broker.stop();
  await waitFor(() => forwarder.status().state !== 'connected', 10_000, 'the forwarder sees the broker gone');
  await storedMore(300, 'events stored while the broker is down');

  // Gateway restart while the broker is still down.
  producing = false;
  await producer;
  await forwarder.stop();
  await store.close();
  store = openStore({ dataDir, upstreams: ['mqtt'] });
  t.is(store.instanceId, instanceId, 'the instance id survives the restart');
  forwarder = forwarderOn(store, broker.url);
  forwarder.start();
  producing = true;
  producer = produce();
  await storedMore(300, 'events stored by the restarted gateway while the broker is still down');
  await broker.restart();
  await waitFor(() => forwarder.status().state === 'connected', 15_000, 'the restarted gateway connected to the restarted broker');
  await storedMore(300, 'events stored after the broker came back');
  producing = false;
  await producer;

  await waitFor(() => store.status().perUpstream.mqtt!.pending === 0, 30_000, 'the forwarder caught up');
  const expected = appended;
  await consumer.waitFor(
    (m) => {
      const bySpot = idsBySpot(m);
      return spots.every((s) => bySpot.get(s)?.includes(expected.get(s)!.at(-1)!));
    },
    15_000,
    'the last stored event of every spot',
  );
  const bySpot = idsBySpot(consumer.messages);
  let total = 0;
  for (const spot of spots) {
    t.deepEqual(firstSeen(bySpot.get(spot)!), expected.get(spot), `spot ${spot}: every stored event, in order`);
    total += expected.get(spot)!.length;
  }
  const payloadOf = new Map<string, string>();
  for (const m of consumer.messages) {
    t.true(m.eventId?.startsWith(`${instanceId}:`), `event_id ${m.eventId}`);
    const before = payloadOf.get(m.eventId!);
    if (before !== undefined) t.is(m.payload.toString(), before, `redelivery of ${m.eventId} is the same event`);
    payloadOf.set(m.eventId!, m.payload.toString());
  }
  t.log(`${total} events stored, ${consumer.messages.length} messages received (${consumer.messages.length - total} redelivered)`);
});

test('real store: a PB event goes to from/<serial>/json/... and from/<serial>/pb, and its cursor moves after both acks', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['site9/from/#'], t);
  const store = openStore({ dataDir: tempDir(t), upstreams: ['mqtt'] });
  t.teardown(() => store.close().catch(() => undefined));
  const forwarder = new MqttForwarder({ url: broker.url, gatewayId: 'gw', source: store, topicPrefix: 'site9' });
  t.teardown(() => forwarder.stop());
  forwarder.start();
  const frame = new Uint8Array([0x32, 0x04, 0x0a, 0x02, 0x68, 0x69]);
  const [outcome] = await store.append([newEvent('203', frame)]);
  const id = (outcome as { id: number }).id;
  await consumer.waitFor((m) => m.length >= 2, 10_000, 'json and pb messages');
  t.deepEqual(consumer.messages.map((m) => m.topic).sort(), ['site9/from/203/json/presence/create', 'site9/from/203/pb']);
  const pb = consumer.messages.find((m) => m.topic.endsWith('/pb'))!;
  t.deepEqual([...pb.payload], [...frame]);
  t.true(consumer.messages.every((m) => m.eventId === `${store.instanceId}:${id}`));
  await waitFor(() => store.cursor('mqtt', '203') === id, 5000, 'the cursor past the PB event');
  t.is(store.cursor('mqtt', '203'), id);
  t.is(forwarder.status().lagEvents, 0);
});
