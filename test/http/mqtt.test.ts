// End to end with a real Mosquitto: posts -> store -> broker, commands broker -> spot, spot states.
import test from 'ava';
import { create, toBinary } from '@bufbuild/protobuf';
import mqtt from 'mqtt';
import net from 'node:net';
import { ConfigSchema, FirmwareUpdateSchema, FrameSchema } from '../../gateway/src/gen/spot_pb.js';
import { createPbDecoder } from '../../gateway/src/protocol/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { firstSeen, idsBySpot, startConsumer } from '../upstream/consumer.js';
import { jsonText, pbStream, presence, seeded, randomPieces } from './events.js';

async function publish(url: string, topic: string, payload: string | Buffer): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

type Health = { status: string; reason: string | null };

async function health(url: string): Promise<Health> {
  return (await api<Health>(url, '/healthz')).body;
}

/** Waits (bounded) for /healthz to say degraded; returns what it said. */
function degradedHealth(url: string): Promise<Health> {
  return waitFor(
    async () => {
      const h = await health(url);
      return h.status === 'degraded' ? h : undefined;
    },
    10000,
    'healthz degraded',
  );
}

test('posted events reach the broker in order per spot with a stable event_id', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['site1/from/#'], t);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, topic_prefix: 'site1' } } });
  const json = Array.from({ length: 50 }, (_, i) => presence(i));
  const pb = Array.from({ length: 20 }, (_, i) => presence(100 + i));
  t.is((await postChunks(gw.port, 21, randomPieces(Buffer.from(jsonText(json)), 30, seeded(9)), { headers: JSON_EVENTS })).status, 200);
  t.is((await postChunks(gw.port, 22, [pbStream(pb)], { headers: PB_EVENTS })).status, 200);
  await consumer.waitFor((m) => (idsBySpot(m).get('21')?.length ?? 0) >= 50 && (idsBySpot(m).get('22')?.length ?? 0) >= 20, 10000, 'all events');
  const of21 = consumer.messages.filter((m) => m.topic.startsWith('site1/from/21/json/'));
  t.deepEqual(
    of21.map((m) => JSON.parse(m.payload.toString()).item_code),
    json.map((e) => e.data.item_code),
  );
  t.deepEqual(of21.map((m) => m.topic), json.map((e) => `site1/from/21/json/presence/${e.action}`));
  const ids = of21.map((m) => m.eventId);
  t.true(ids.every((id) => typeof id === 'string' && id.startsWith(`${gw.running.store.instanceId}:`)));
  t.is(new Set(ids).size, ids.length);
  await consumer.waitFor((m) => m.filter((x) => x.topic === 'site1/from/22/pb').length >= 20, 10000, 'the PB form of the PB events');
  const { body: status } = await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status');
  t.is(status.upstreams.mqtt.state, 'connected');
  await waitFor(async () => (await api<Array<{ forwarded: { mqtt: boolean } }>>(gw.url, '/api/events?spot=21')).body.every((e) => e.forwarded.mqtt), 5000, 'events marked forwarded');
  // Every event's receipt -> PUBACK time is counted once (a PB event once for its two messages).
  type Delivery = { count: number; meanMs: number | null; p99Ms: number | null; maxMs: number | null };
  const delivery = await waitFor(
    async () => {
      const d = (await api<{ upstreams: { mqtt: { delivery: Delivery } } }>(gw.url, '/api/status')).body.upstreams.mqtt.delivery;
      return d.count >= 70 ? d : undefined;
    },
    5000,
    'delivery times of all 70 events',
  );
  t.is(delivery.count, 70);
  t.true(delivery.maxMs! >= 0 && delivery.maxMs! < 10_000 && delivery.p99Ms! <= delivery.maxMs!, JSON.stringify(delivery));
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.regex(metrics, /^spot_gateway_upstream_delivery_seconds_count\{upstream="mqtt"\} 70$/m);
  t.regex(metrics, /^spot_gateway_upstream_delivery_seconds_bucket\{upstream="mqtt",le="\+Inf"\} 70$/m);
  t.regex(metrics, /^spot_gateway_upstream_delivery_seconds_bucket\{upstream="mqtt",le="86400"\} 70$/m);
});

test('spot connected / disconnected are published', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['spots/#'], t);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url }, spots: { offline_after_s: 0.5 } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  t.is((await postChunks(gw.port, 31, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200);
  await consumer.waitFor((m) => m.some((x) => x.topic === 'spots/31/disconnected'), 10000, 'spot 31 disconnected');
  t.deepEqual(consumer.messages.map((m) => m.topic), ['spots/31/connected', 'spots/31/disconnected']);
  t.is(JSON.parse(consumer.messages[0]!.payload.toString()).spot, '31');
  const { body: spot } = await api<{ online: boolean }>(gw.url, '/api/spots/31');
  t.false(spot.online);
});

test('a command published on MQTT arrives in the next response exactly once; an invalid one is not queued', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  await publish(broker.url, 'to/41/json/config/update', '{"rfid_power_dbm":"loud"}');
  await publish(broker.url, 'to/41/json/config/update', '{"rfid_power_dbm":18}');
  const queued = await waitFor(async () => {
    const { body } = await api<Array<{ source: string; state: string; data: unknown }>>(gw.url, '/api/spots/41/commands');
    return body.length > 0 ? body : undefined;
  }, 10000, 'the MQTT command to be queued');
  t.is(queued.length, 1, 'the invalid one was refused');
  t.is(queued[0]!.source, 'mqtt');
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(41, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1)]));
  await conn.endPost();
  t.is((await conn.response()).body.toString(), '["config","update",{"rfid_power_dbm":18}]\n\n');
  await conn.startPost(41, { headers: JSON_EVENTS });
  await conn.endPost();
  t.is((await conn.response()).body.length, 0);
});

test('a PB command published on to/<serial>/pb arrives in the body of the PB spot\'s next response exactly once', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  // Frames built with the generated schema, not with the gateway's own encoder.
  const power = toBinary(FrameSchema, create(FrameSchema, { body: { case: 'configUpdate', value: create(ConfigSchema, { rfidPowerDbm: 17 }) } }));
  const firmware = toBinary(
    FrameSchema,
    create(FrameSchema, { body: { case: 'firmwareUpdate', value: create(FirmwareUpdateSchema, { url: '/firmware/beta/beta23.bin', version: 'beta23' }) } }),
  );
  const tooStrong = toBinary(FrameSchema, create(FrameSchema, { body: { case: 'configUpdate', value: create(ConfigSchema, { rfidPowerDbm: 99 }) } }));
  await publish(broker.url, 'to/44/pb', Buffer.from(power));
  await publish(broker.url, 'to/44/pb', Buffer.from(tooStrong));
  await publish(broker.url, 'to/44/pb', Buffer.from(firmware));
  const queued = await waitFor(async () => {
    const { body } = await api<Array<{ source: string; resource: string; action: string; data: Record<string, unknown> }>>(gw.url, '/api/spots/44/commands');
    return body.length >= 2 ? body : undefined;
  }, 10000, 'the two valid PB commands to be queued');
  t.deepEqual(
    queued.map((c) => [c.source, c.resource, c.action]).reverse(),
    [
      ['mqtt', 'config', 'update'],
      ['mqtt', 'firmware', 'update'],
    ],
    'the one with rfid_power_dbm 99 was refused',
  );

  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const first = await conn.post(44, pbStream([presence(1)]), { headers: PB_EVENTS });
  t.is(first.status, 200);
  t.is(first.headers['content-type'], 'application/x-intellifi-events-pb');
  const decoder = createPbDecoder();
  const items = [...decoder.push(first.body), ...decoder.end()];
  t.deepEqual(
    items.map((item) => (item.kind === 'event' ? [item.event.resource, item.event.action, item.event.data] : ['rejected', item.rejected.reason])),
    [
      ['config', 'update', { rfid_power_dbm: 17 }],
      ['firmware', 'update', { url: '/firmware/beta/beta23.bin', version: 'beta23' }],
    ],
  );
  const second = await conn.post(44, pbStream([presence(2)]), { headers: PB_EVENTS });
  t.is(second.status, 200);
  t.is(second.body.length, 0, 'delivered once: the next response is empty');
});

test('/healthz: degraded once the broker has been gone for mqtt.degraded_after_s, naming the upstream; ok again after it is back', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, degraded_after_s: 2 } } });
  await waitFor(async () => (await api<{ upstreams: { mqtt: { state: string } } }>(gw.url, '/api/status')).body.upstreams.mqtt.state === 'connected', 10000, 'the forwarder to connect');
  t.like(await health(gw.url), { status: 'ok', reason: null });

  await broker.stop();
  // Not at once: a broker restart shorter than the threshold does not make the gateway degraded.
  const right = await health(gw.url);
  t.is(right.status, 'ok', JSON.stringify(right));
  const degraded = await degradedHealth(gw.url);
  t.regex(degraded.reason!, /^upstream mqtt without a connection for \d+ s/);
  // Events are still taken and kept meanwhile.
  t.is((await postChunks(gw.port, 61, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200);

  await broker.restart();
  await waitFor(async () => ((await health(gw.url)).status === 'ok' ? true : undefined), 30000, 'healthz ok again');
  t.like(await health(gw.url), { status: 'ok', reason: null });
});

test('/healthz: an MQTT upstream that never connects makes the gateway degraded, with the connection error', async (t) => {
  // A port nothing listens on.
  const probe = await startMosquitto({ t });
  const url = probe.url;
  await probe.stop();
  const gw = await startTestGateway(t, { config: { mqtt: { url, degraded_after_s: 0.3 } } });
  const degraded = await degradedHealth(gw.url);
  t.regex(degraded.reason!, /^upstream mqtt without a connection for \d+ s: .*ECONNREFUSED/);
});

test('/healthz: a broker that accepts the connection but never answers it counts as no connection', async (t) => {
  // Takes the TCP connection and says nothing: the CONNECT hangs, no error comes back for a while.
  const held: net.Socket[] = [];
  const silent = net.createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    silent.close();
  });
  const url = `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const gw = await startTestGateway(t, { config: { mqtt: { url, degraded_after_s: 0.3 } } });
  const degraded = await degradedHealth(gw.url);
  t.regex(degraded.reason!, /^upstream mqtt without a connection for \d+ s/);
  t.true(held.length >= 1, 'the gateway did try to connect');
});

test('broker stopped for seconds under load, then restarted: every acknowledged event arrives in order per spot', async (t) => {
  // The consumer keeps a session on a persistent broker: what the gateway publishes while the
  // consumer is reconnecting after the restart is queued for it, not lost to the test.
  const broker = await startMosquitto({ t, persistence: true });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  let consumer = await startConsumer(broker.url, ['from/#'], t, 'outage-consumer');
  const all: typeof consumer.messages = [];
  const acked = new Map<string, string[]>();
  let running = true;
  const spots = ['51', '52', '53'];
  const posting = Promise.all(
    spots.map(async (serial) => {
      let n = 0;
      while (running) {
        const events = Array.from({ length: 20 }, () => presence(Number(serial) * 100000 + n++));
        const res = await postChunks(gw.port, serial, [jsonText(events)], { headers: JSON_EVENTS });
        if (res.status === 200) acked.set(serial, [...(acked.get(serial) ?? []), ...events.map((e) => String(e.data.item_code))]);
        // The pace of the load (a post per spot every 20 ms or so), not a wait for a condition.
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  t.teardown(() => {
    running = false;
  });
  await consumer.waitFor((m) => m.length > 200, 10000, 'traffic before the outage');
  await broker.stop();
  all.push(...consumer.messages);
  await consumer.end();
  // The outage the test is about (3 s of posts acknowledged with the broker away): a span of time, not a wait.
  await new Promise((r) => setTimeout(r, 3000));
  await broker.restart();
  consumer = await startConsumer(broker.url, ['from/#'], t, 'outage-consumer');
  // Posting goes on until every spot had 3 more posts acknowledged with the broker back.
  const ackedOf = (serial: string) => acked.get(serial)?.length ?? 0;
  const atRestart = spots.map(ackedOf);
  await waitFor(() => spots.every((s, i) => ackedOf(s) >= atRestart[i]! + 60), 10000, () => `3 posts per spot after the restart (acknowledged: ${spots.map(ackedOf).join(', ')})`);
  running = false;
  await posting;
  const lastCode = (serial: string) => acked.get(serial)!.at(-1)!;
  await consumer.waitFor(
    (m) => spots.every((s) => m.some((x) => x.topic.startsWith(`from/${s}/`) && x.payload.toString().includes(lastCode(s)))),
    30000,
    'the last acknowledged event of every spot',
  );
  all.push(...consumer.messages);
  for (const serial of spots) {
    const codes = new Map<number, string>();
    for (const m of all) if (m.topic.startsWith(`from/${serial}/json/`)) codes.set(Number(m.eventId!.split(':').pop()), JSON.parse(m.payload.toString()).item_code);
    const ids = firstSeen(idsBySpot(all).get(serial)!);
    t.deepEqual(ids.map((id) => codes.get(id)), acked.get(serial), `spot ${serial}: every acknowledged event once, in order`);
  }
  // Events held through the 3 s outage show in the delivery times, from receipt to the broker's PUBACK
  // (the consumer can have the last messages before the gateway has handled their PUBACKs: wait for them).
  const ackedEvents = spots.reduce((n, s) => n + acked.get(s)!.length, 0);
  const delivery = await waitFor(
    async () => {
      const d = (await api<{ upstreams: { mqtt: { delivery: { count: number; maxMs: number } } } }>(gw.url, '/api/status')).body.upstreams.mqtt.delivery;
      return d.count >= ackedEvents ? d : undefined;
    },
    5000,
    `a delivery time for each of the ${ackedEvents} acknowledged events`,
  );
  t.true(delivery.maxMs >= 2500, `longest delivery ${delivery.maxMs} ms`);
});
