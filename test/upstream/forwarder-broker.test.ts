// MqttForwarder against a real Mosquitto, with an in-memory source (the SQLite store has its own test).
import test from 'ava';
import mqtt from 'mqtt';
import { WireClient } from '../../gateway/src/upstream/mqtt-wire/client.js';
import { MqttForwarder, type MqttForwarderOptions, type SpotCommand } from '../../gateway/src/upstream/index.js';
import { waitFor } from '../helpers/gateway.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { firstSeen, idsBySpot, startConsumer } from './consumer.js';
import { jsonEvent, MemorySource } from './fake-source.js';

interface Started {
  forwarder: MqttForwarder;
  /** The connections the forwarder opened, newest last. */
  clients: WireClient[];
  /** Highest number of publishes awaiting PUBACK at once. */
  maxOutstanding: () => number;
  warnings: string[];
  /** PUBACKs the tap took out of the byte stream (never parsed by mqtt-packet). */
  pubacksTapped: () => number;
  /** SUBACKs of the command subscription received. */
  subacks: () => number;
}

function startForwarder(
  t: { teardown(fn: () => unknown): void },
  broker: Mosquitto,
  source: MemorySource,
  extra: Partial<MqttForwarderOptions> = {},
): Started {
  const clients: WireClient[] = [];
  let max = 0;
  let subacks = 0;
  const warnings: string[] = [];
  const forwarder = new MqttForwarder({
    url: broker.url,
    gatewayId: 'gw1',
    source,
    backoff: { minMs: 100, maxMs: 400 },
    logger: { debug() {}, info() {}, warn: (_o, msg) => warnings.push(msg), error: (_o, msg) => warnings.push(msg) },
    // The production client, observed: at each PUBACK, how many messages were awaiting one.
    clientFactory: (url, options) => {
      const client = new WireClient(url, options);
      const track = client.track.bind(client);
      client.track = (done) =>
        track((err) => {
          max = Math.max(max, forwarder.status().inFlight);
          done(err);
        });
      const subscribe = client.subscribe.bind(client);
      client.subscribe = (filters, opts, cb) =>
        subscribe(filters, opts, (err) => {
          subacks++;
          cb(err);
        });
      clients.push(client);
      return client;
    },
    ...extra,
  });
  forwarder.start();
  t.teardown(() => forwarder.stop());
  return {
    forwarder,
    clients,
    maxOutstanding: () => max,
    warnings,
    pubacksTapped: () => clients.reduce((n, c) => n + c.pubacksTapped, 0),
    subacks: () => subacks,
  };
}

function appendMany(source: MemorySource, spots: string[], perSpot: number, batch = 50): void {
  for (let n = 0; n < perSpot; n += batch) {
    const items = [];
    for (const spot of spots) for (let k = n; k < Math.min(perSpot, n + batch); k++) items.push(jsonEvent(spot, k));
    source.append(...items);
  }
}

function expectedIds(source: MemorySource, spot: string): number[] {
  return source.events.filter((e) => e.spot === spot).map((e) => e.id);
}

for (const rawPublish of [true, false]) {
  const path = rawPublish ? 'batched raw packets' : 'one generate() per publish';
  test(`every event reaches the broker once, in order per spot, pipelined, with a stable event_id (${path})`, async (t) => {
    // Mosquitto announces Receive Maximum = max_inflight_messages (default 20); the forwarder honours it.
    const broker = await startMosquitto({ t, extraConfig: 'max_inflight_messages 500' });
    const consumer = await startConsumer(broker.url, ['from/#'], t);
    const source = new MemorySource('inst-1');
    const spots = ['101', '102', '103'];
    const { forwarder, maxOutstanding, pubacksTapped } = startForwarder(t, broker, source, { rawPublish });
    appendMany(source, spots, 3000);
    source.append({ spot: '101', resource: 'presence', action: 'update', data: '{"pb":true}', pb: new Uint8Array([0x3a, 0x00]), timeReceived: 0 });
    const total = source.events.length + 1; // the PB event goes to two topics
    await consumer.waitFor((m) => m.length >= total, 30_000, `${total} messages`);

    const bySpot = idsBySpot(consumer.messages);
    for (const spot of spots) t.deepEqual(bySpot.get(spot), expectedIds(source, spot), `spot ${spot} in order, no gaps, no duplicates`);
    const first = consumer.messages.find((m) => m.topic === 'from/101/json/presence/create')!;
    t.is(first.eventId, `inst-1:${source.events[0]!.id}`);
    t.is(first.payload.toString(), source.events[0]!.data);
    const pbEvent = source.events.at(-1)!;
    const pb = consumer.messages.filter((m) => m.topic === 'from/101/pb');
    t.is(pb.length, 1);
    t.deepEqual([...pb[0]!.payload], [0x3a, 0x00]);
    t.is(pb[0]!.eventId, `inst-1:${pbEvent.id}`);
    t.true(maxOutstanding() > 100 && maxOutstanding() <= 500, `publishes in flight at once: ${maxOutstanding()}`);

    await waitUntil(() => spots.every((s) => source.cursor('mqtt', s) === expectedIds(source, s).at(-1)), 5000, 'cursors at the last event');
    const status = forwarder.status();
    t.is(status.state, 'connected');
    t.is(status.acked, source.events.length);
    // Every PUBACK is in once the cursors are at the end.
    t.true(pubacksTapped() >= source.events.length, `PUBACKs claimed by the tap: ${pubacksTapped()}`);

    t.is(status.lagEvents, 0);
    t.is(status.inFlight, 0);
    t.log(`max in flight ${maxOutstanding()}, cursor writes ${source.cursorWrites.length} for ${source.events.length} events`);
  });
}

test('broker stopped for seconds under load, then restarted: every event arrives, in order per spot, duplicates only with the same event_id', async (t) => {
  // A persistent broker and consumer session: what the broker acked survives its restart.
  const broker = await startMosquitto({ t, persistence: true });
  const source = new MemorySource('inst-2');
  const spots = ['201', '202', '203', '204'];
  const consumer = await startConsumer(broker.url, ['from/#'], t, 'outage-consumer');
  const { forwarder } = startForwarder(t, broker, source);

  let n = 0;
  const producer = setInterval(() => {
    source.append(...spots.flatMap((spot) => [jsonEvent(spot, n), jsonEvent(spot, n + 1)]));
    n += 2;
  }, 2);
  t.teardown(() => clearInterval(producer));
  await consumer.waitFor((m) => m.length > 500, 10_000, 'traffic before the outage');
  await broker.stop();
  const storedAtStop = source.events.length;
  // Seconds of outage under load: failed attempts, and events piling up meanwhile.
  await waitUntil(() => forwarder.status().state !== 'connected', 10_000, 'the forwarder sees the broker gone');
  await waitUntil(() => source.events.length >= storedAtStop + 2000, 15_000, 'events stored during the outage');
  t.not(forwarder.status().state, 'connected');
  const storedDuringOutage = source.events.length;
  await broker.restart();
  await waitUntil(() => forwarder.status().state === 'connected', 15_000, 'reconnected after the restart');
  await waitUntil(() => source.events.length >= storedDuringOutage + 1000, 15_000, 'events stored after the restart');
  clearInterval(producer);
  t.true(source.events.length > storedDuringOutage, 'events kept coming after the restart');
  await waitUntil(() => forwarder.status().lagEvents === 0, 30_000, 'forwarder caught up');
  const lastIds = new Map(spots.map((s) => [s, expectedIds(source, s).at(-1)!]));
  await consumer.waitFor(
    (m) => {
      const bySpot = idsBySpot(m);
      return spots.every((s) => bySpot.get(s)?.includes(lastIds.get(s)!));
    },
    15_000,
    'the last event of every spot',
  );

  const bySpot = idsBySpot(consumer.messages);
  let duplicates = 0;
  for (const spot of spots) {
    const ids = bySpot.get(spot)!;
    duplicates += ids.length - firstSeen(ids).length;
    t.deepEqual(firstSeen(ids), expectedIds(source, spot), `spot ${spot}: after dropping repeated event_ids, all events in order`);
  }
  const payloadOf = new Map<string, string>();
  for (const m of consumer.messages) {
    const before = payloadOf.get(m.eventId!);
    if (before !== undefined) t.is(m.payload.toString(), before, `redelivery of ${m.eventId} is the same event`);
    payloadOf.set(m.eventId!, m.payload.toString());
  }
  t.true(forwarder.status().reconnects >= 1);
  t.log(`${source.events.length} events, ${duplicates} redelivered, reconnects ${forwarder.status().reconnects}`);
});

test('forwarder restarted on the same source resumes from the cursor; redeliveries carry the same event_id', async (t) => {
  const broker = await startMosquitto({ t });
  // The gateway state too: the last will of the crashed connection marks the end of its messages.
  const consumer = await startConsumer(broker.url, ['from/#', 'gateways/gw1/state'], t);
  const source = new MemorySource('inst-3');
  const first = startForwarder(t, broker, source);
  appendMany(source, ['301', '302'], 5000);
  await consumer.waitFor((m) => m.length > 1000, 10_000, 'first messages');
  // A crash: the last cursor writes never reach the disk, publishes are in flight, no clean stop.
  source.freezeCursors = true;
  await consumer.waitFor((m) => m.length > 2000, 10_000, 'messages acked after the last saved cursor');
  const willsBefore = consumer.messages.filter((m) => m.payload.toString() === 'offline').length;
  first.clients.at(-1)!.end(true);
  await first.forwarder.stop();
  // The broker publishes the will once it has read the crashed connection to its end: every message of it is in before.
  await consumer.waitFor((m) => m.filter((x) => x.payload.toString() === 'offline').length > willsBefore, 10_000, 'the last will of the crashed connection');
  source.freezeCursors = false;
  const cursors = new Map(['301', '302'].map((s) => [s, source.cursor('mqtt', s)]));
  const before = consumer.messages.length;
  t.true(cursors.get('301')! < expectedIds(source, '301').at(-1)!, 'the crash happened mid-stream');

  const second = startForwarder(t, broker, source);
  await waitUntil(() => second.forwarder.status().lagEvents === 0, 30_000, 'second forwarder caught up');
  await consumer.waitFor(
    (m) => ['301', '302'].every((s) => (idsBySpot(m).get(s) ?? []).includes(expectedIds(source, s).at(-1)!)),
    10_000,
    'the last events',
  );
  const bySpot = idsBySpot(consumer.messages);
  for (const spot of ['301', '302']) {
    t.deepEqual(firstSeen(bySpot.get(spot)!), expectedIds(source, spot), `spot ${spot}: complete and in order`);
    const resent = idsBySpot(consumer.messages.slice(before)).get(spot)!;
    t.true(resent[0]! > cursors.get(spot)!, `spot ${spot}: the second forwarder starts right after the cursor`);
    t.deepEqual(resent, expectedIds(source, spot).filter((id) => id > cursors.get(spot)!), `spot ${spot}: then everything after it, in order`);
  }
  const payloadOf = new Map<string, string>();
  let redelivered = 0;
  const events = consumer.messages.filter((m) => !m.topic.startsWith('gateways/'));
  for (const m of events) {
    const before = payloadOf.get(m.eventId!);
    if (before !== undefined) {
      redelivered++;
      t.is(m.payload.toString(), before, `redelivery of ${m.eventId} is the same event`);
    }
    payloadOf.set(m.eventId!, m.payload.toString());
  }
  t.true(redelivered > 0, 'events acked after the last saved cursor were sent again');
  t.true(events.every((m) => m.eventId?.startsWith('inst-3:')));
  t.log(`redelivered after the crash: ${redelivered}`);
});

test('a live event of one spot is not starved behind a huge backlog of another', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const source = new MemorySource('inst-4');
  appendMany(source, ['401'], 20_000, 1000);
  const { forwarder } = startForwarder(t, broker, source);
  await consumer.waitFor((m) => m.length >= 100, 10_000, 'backlog drain started');
  const [liveId] = source.append(jsonEvent('402', 1));
  await consumer.waitFor((m) => m.some((x) => x.eventId === `inst-4:${liveId}`), 10_000, 'the live event');
  const backlogBefore = consumer.messages.findIndex((x) => x.eventId === `inst-4:${liveId}`);
  t.true(backlogBefore < 5000, `live event arrived after ${backlogBefore} backlog messages (of 20000)`);
  const started = Date.now();
  const countAtLive = consumer.messages.length;
  await consumer.waitFor((m) => m.length >= 20_001, 30_000, 'the whole backlog');
  const seconds = (Date.now() - started) / 1000;
  t.log(`live event after ${backlogBefore} backlog messages; drain rate ${Math.round((20_001 - countAtLive) / seconds)} events/s`);
  t.deepEqual(idsBySpot(consumer.messages).get('401'), expectedIds(source, '401'));
  t.is(forwarder.status().state, 'connected');
});

test('commands on to/<serial>/json/<resource>/<action> reach onCommand; bad ones are logged with the reason', async (t) => {
  const broker = await startMosquitto({ t });
  const source = new MemorySource();
  const commands: SpotCommand[] = [];
  const started = startForwarder(t, broker, source, {
    topicPrefix: 'site1',
    onCommand: async (command) => {
      if (command.data.explode) throw new Error('spot 4711: unknown config key "explode"');
      commands.push(command);
    },
  });
  const { warnings, forwarder } = started;
  await waitUntil(() => forwarder.status().state === 'connected', 5000, 'connected');
  await waitUntil(() => started.subacks() >= 1, 5000, 'the command subscription acknowledged');
  const operator = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => operator.endAsync(true));
  await operator.publishAsync('site1/to/4711/json/config/update', '{"brain_address":"10.0.0.9"}', { qos: 1 });
  await operator.publishAsync('site1/to/4711/json/config/update', 'not json', { qos: 1 });
  await operator.publishAsync('site1/to/4711/json/config/update', '{"explode":1}', { qos: 1 });
  await operator.publishAsync('site1/to/abc/json/config/update', '{}', { qos: 1 });
  await operator.publishAsync('site1/to/4711/pb', Buffer.from([0xff, 0xff]), { qos: 1 });
  const resetFrame = Buffer.from('2203980601', 'hex'); // config_update {reset: true}
  await operator.publishAsync('site1/to/4711/pb', resetFrame, { qos: 1 });
  await operator.publishAsync('site1/to/4711/json/firmware/update', '{"url":"/fw/b22.bin","version":"b22"}', { qos: 1 });
  await waitUntil(() => commands.length === 3 && warnings.length >= 4, 5000, 'commands handled');
  t.deepEqual(commands, [
    { spot: '4711', resource: 'config', action: 'update', data: { brain_address: '10.0.0.9' }, encoding: 'json' },
    { spot: '4711', resource: 'config', action: 'update', data: { reset: true }, encoding: 'pb', pb: resetFrame },
    { spot: '4711', resource: 'firmware', action: 'update', data: { url: '/fw/b22.bin', version: 'b22' }, encoding: 'json' },
  ]);
  const text = warnings.join('\n');
  t.regex(text, /payload is not JSON/);
  t.regex(text, /unknown config key "explode"/);
  t.regex(text, /serial "abc" is not a number/);
  t.regex(text, /site1\/to\/4711\/pb: malformed frame/);
  t.is(forwarder.status().commandsAccepted, 3);
  t.is(forwarder.status().commandsRejected, 4);
});

test('gateway state: retained online, offline as last will when the connection dies, offline on clean stop', async (t) => {
  const broker = await startMosquitto({ t });
  const source = new MemorySource();
  const { forwarder, clients } = startForwarder(t, broker, source, { backoff: { minMs: 2000, maxMs: 2000 } });
  await waitUntil(() => forwarder.status().state === 'connected' && forwarder.status().inFlight === 0, 5000, "connected, and 'online' acknowledged");
  const watcher = await startConsumer(broker.url, ['gateways/gw1/state'], t);
  await watcher.waitFor((m) => m.length >= 1, 5000, 'retained state');
  t.is(watcher.messages[0]!.payload.toString(), 'online');
  t.true(watcher.messages[0]!.retain, 'online is retained');

  clients.at(-1)!.end(true);
  await watcher.waitFor((m) => m.some((x) => x.payload.toString() === 'offline'), 5000, 'the last will');
  await watcher.waitFor((m) => m.at(-1)!.payload.toString() === 'online', 10_000, 'online again after reconnect');

  forwarder.publishSpotState('4711', 'connected');
  await forwarder.stop();
  const late = await startConsumer(broker.url, ['gateways/gw1/state'], t);
  await late.waitFor((m) => m.length >= 1, 5000, 'retained state after stop');
  t.is(late.messages[0]!.payload.toString(), 'offline');
  t.true(late.messages[0]!.retain);
});

test('spot connected/disconnected notifications go to spots/<serial>/...; dropped while the broker is away', async (t) => {
  const broker = await startMosquitto({ t });
  const source = new MemorySource();
  const watcher = await startConsumer(broker.url, ['spots/#'], t);
  const { forwarder } = startForwarder(t, broker, source, { now: () => Date.UTC(2026, 2, 1, 8) });
  forwarder.publishSpotState('4711', 'connected');
  t.is(forwarder.status().spotStatesDropped, 1, 'not connected yet: dropped, not queued');
  await waitUntil(() => forwarder.status().state === 'connected', 5000, 'connected');
  forwarder.publishSpotState('4711', 'connected');
  forwarder.publishSpotState('4711', 'disconnected');
  await watcher.waitFor((m) => m.length >= 2, 5000, 'two notifications');
  t.deepEqual(
    watcher.messages.map((m) => [m.topic, JSON.parse(m.payload.toString())]),
    [
      ['spots/4711/connected', { spot: '4711', time: '2026-03-01T08:00:00.000Z' }],
      ['spots/4711/disconnected', { spot: '4711', time: '2026-03-01T08:00:00.000Z' }],
    ],
  );
});

test('MQTT 3.1.1: events still arrive in order, without event_id', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const source = new MemorySource();
  const { forwarder } = startForwarder(t, broker, source, { protocolVersion: 4 });
  appendMany(source, ['501'], 200);
  await consumer.waitFor((m) => m.length >= 200, 10_000, '200 events');
  t.deepEqual(consumer.messages.map((m) => JSON.parse(m.payload.toString()).n), [...Array(200).keys()]);
  t.true(consumer.messages.every((m) => m.eventId === undefined));
  t.is(forwarder.status().protocolVersion, 4);
});

test("an event over the broker's Maximum Packet Size is skipped with the reason; the spot's next events still go out", async (t) => {
  const broker = await startMosquitto({ t, extraConfig: 'max_packet_size 1000' });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const source = new MemorySource('inst-6');
  const { forwarder, warnings } = startForwarder(t, broker, source);
  const [, bigId, lastId] = source.append(
    jsonEvent('601', 1),
    { spot: '601', resource: 'log', action: 'create', data: JSON.stringify({ text: 'x'.repeat(2000) }), pb: null, timeReceived: 0 },
    jsonEvent('601', 3),
  );
  await consumer.waitFor((m) => m.length >= 2, 10_000, 'the two small events');
  t.deepEqual(idsBySpot(consumer.messages).get('601'), [bigId! - 1, lastId]);
  await waitUntil(() => source.cursor('mqtt', '601') === lastId, 5000, 'the cursor past all three');
  t.is(forwarder.status().refused, 1);
  t.regex(warnings.join('\n'), new RegExp(`spot 601: event ${bigId} skipped: .*over the broker's maximum of 1000`));
  t.is(forwarder.status().state, 'connected');
});

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(cond, timeoutMs, what);
}
