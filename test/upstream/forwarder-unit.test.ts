// MqttForwarder with a scripted client and fake timers: one behaviour per test.
import test from 'ava';
import type { MqttForwarderOptions, SpotCommand } from '../../gateway/src/upstream/index.js';
import { eventIdOf, scriptedForwarder, tick } from './fake-client.js';
import { jsonEvent, MemorySource } from './fake-source.js';

function setup(extra: Partial<MqttForwarderOptions> = {}, source = new MemorySource('inst')) {
  const warnings: string[] = [];
  const log = (_o: object, msg: string) => warnings.push(msg);
  const { forwarder, clients, timers } = scriptedForwarder(source, { logger: { debug() {}, info() {}, warn: log, error: log }, ...extra });
  return { forwarder, source, clients, timers, warnings };
}

test('nothing is published before CONNACK; then every event above the cursor, in order, with event_id', async (t) => {
  const { forwarder, source, clients } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('7', 2), jsonEvent('8', 3), jsonEvent('7', 4));
  source.cursors.set('7', 2);
  forwarder.start();
  t.is(clients.length, 1);
  t.is(clients[0]!.published.length, 0);
  t.is(forwarder.status().state, 'connecting');
  const options = clients[0]!.options;
  t.false(options.clean, 'the broker keeps the session (commands queued while away)');
  t.is(options.maximumPacketSize, 65536 + 8192, 'commands up to MAX_COMMAND_BYTES fit');
  t.deepEqual(options.will, { topic: 'gateways/gw1/state', payload: Buffer.from('offline'), qos: 1, retain: true });

  clients[0]!.connack();
  const events = clients[0]!.events();
  t.deepEqual(
    events.map((p) => [p.topic, eventIdOf(p)]),
    [
      ['from/7/json/presence/create', 'inst:4'],
      ['from/8/json/presence/create', 'inst:3'],
    ],
  );
  t.is(events[0]!.opts.qos, 1);
  t.is(events[0]!.opts.properties?.contentType, 'application/json');
  t.deepEqual(clients[0]!.subscribed, ['to/+/json/+/+', 'to/+/pb']);
  const online = clients[0]!.published.find((p) => p.topic === 'gateways/gw1/state')!;
  t.is(online.payload, 'online');
  t.true(online.opts.retain);
});

test('the cursor passes an event with a PB form only after both of its PUBACKs', async (t) => {
  const { forwarder, source, clients } = setup();
  const [id] = source.append({ spot: '7', resource: 'presence', action: 'update', data: '{}', pb: new Uint8Array([1, 2]), timeReceived: 0 });
  forwarder.start();
  clients[0]!.connack();
  const events = clients[0]!.events();
  t.deepEqual(events.map((p) => p.topic), ['from/7/json/presence/update', 'from/7/pb']);
  t.deepEqual([...(events[1]!.payload as Buffer)], [1, 2]);
  t.is(eventIdOf(events[1]!), `inst:${id}`);
  clients[0]!.ackAll((p) => p.topic.endsWith('/update'));
  await tick();
  t.is(source.cursor('mqtt', '7'), 0);
  clients[0]!.ackAll((p) => p.topic.endsWith('/pb'));
  await tick();
  t.is(source.cursor('mqtt', '7'), id!);
  t.is(forwarder.status().acked, 1);
});

test('delivery times: each acknowledged event once, from its receipt to its last PUBACK; refused events not at all', async (t) => {
  let now = 10_000;
  const { forwarder, source, clients } = setup({ now: () => now });
  source.append(
    jsonEvent('7', 1, 'presence', 'create', 9_990),
    { spot: '7', resource: 'presence', action: 'update', data: '{}', pb: new Uint8Array([1]), timeReceived: 9_000 },
    jsonEvent('7', 3, 'presence', 'create', 9_995),
    // Received "after" it was acknowledged: the clock was set back in between.
    jsonEvent('7', 4, 'presence', 'create', 20_000),
  );
  forwarder.start();
  clients[0]!.connack();
  const [first, secondJson, secondPb, third, fourth] = clients[0]!.events();
  now = 10_020;
  first!.cb();
  secondJson!.cb();
  await tick();
  t.is(forwarder.status().delivery.count, 1, 'event 2 waits for its PB message');
  now = 10_500;
  secondPb!.cb();
  third!.cb(Object.assign(new Error('Publish error: Not authorized'), { code: 0x87 }));
  fourth!.cb();
  await tick();
  const d = forwarder.status().delivery;
  t.is(forwarder.status().acked, 4);
  t.is(d.count, 3);
  t.is(d.sumMs, 30 + 1500 + 0);
  t.is(d.maxMs, 1500);
  const upTo = (ms: number) => d.counts[d.boundsMs.indexOf(ms)];
  t.is(upTo(1), 1, 'the clock set back counts as 0 ms');
  t.is(upTo(50), 2);
  t.is(upTo(1000), 2);
  t.is(upTo(2000), 3);
});

test('publishes in flight never exceed the broker Receive Maximum, and refill as acks come', async (t) => {
  const { forwarder, source, clients } = setup({ maxInFlight: 1000 });
  source.append(...Array.from({ length: 50 }, (_, n) => jsonEvent('7', n)));
  forwarder.start();
  clients[0]!.connack({ receiveMaximum: 5 });
  t.is(clients[0]!.pending().length, 5, 'window of 5: the retained online message and 4 events');
  clients[0]!.ackAll((p) => p.topic.startsWith('from/'));
  await tick();
  t.is(clients[0]!.pending().length, 5);
  t.is(clients[0]!.events().length, 8, 'the online message still holds one slot');
  t.is(forwarder.status().inFlight, 5);
});

test('a broker Receive Maximum of 1: one message in flight at a time; an event with a PB form sends its PB after its JSON is acknowledged', async (t) => {
  const { forwarder, source, clients } = setup();
  const [plain, withPb] = source.append(jsonEvent('7', 1), { spot: '7', resource: 'presence', action: 'update', data: '{}', pb: new Uint8Array([9]), timeReceived: 0 });
  forwarder.start();
  const client = clients[0]!;
  client.connack({ receiveMaximum: 1 });
  const topics = (): string[] => client.pending().map((p) => p.topic);
  t.deepEqual(topics(), ['gateways/gw1/state'], 'online first, alone');
  const steps: string[][] = [];
  for (let i = 0; i < 4; i++) {
    client.ackAll();
    await tick();
    steps.push(topics());
  }
  t.deepEqual(steps, [['from/7/json/presence/create'], ['from/7/json/presence/update'], ['from/7/pb'], []]);
  t.is(source.cursor('mqtt', '7'), withPb!);
  t.true(plain! < withPb!);
  t.is(forwarder.status().acked, 2);
});

test('a lost connection: nothing published while down, reconnect after the backoff, replay from the cursor with the same event_id', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('7', 2), jsonEvent('7', 3));
  forwarder.start();
  clients[0]!.connack();
  clients[0]!.ackAll((p) => p.topic === 'from/7/json/presence/create' && eventIdOf(p) === 'inst:1');
  await tick();
  clients[0]!.emit('close');
  t.is(forwarder.status().state, 'disconnected');
  t.deepEqual(clients[0]!.endCalls, [true], 'the old client is abandoned');
  t.deepEqual(timers.delays(), [375], 'first backoff: half to all of 500 ms, random 0.5');
  source.append(jsonEvent('7', 4));
  await tick();
  t.is(clients.length, 1, 'no new client before the backoff');
  timers.fire(375);
  t.is(clients.length, 2);
  clients[1]!.connack();
  t.deepEqual(clients[1]!.events().map(eventIdOf), ['inst:2', 'inst:3', 'inst:4']);
  // Late acks of the old connection change nothing.
  clients[0]!.ackAll();
  await tick();
  t.is(source.cursor('mqtt', '7'), 1);
  t.is(forwarder.status().reconnects, 1);
});

test('reconnect delays grow while the broker stays away, and reset after a CONNACK', async (t) => {
  const { forwarder, clients, timers } = setup();
  forwarder.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    clients.at(-1)!.emit('error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' }));
    clients.at(-1)!.emit('close');
    delays.push(...timers.delays());
    timers.fire();
  }
  t.deepEqual(delays, [375, 750, 1500, 3000, 6000]);
  t.regex(forwarder.status().lastError!, /ECONNREFUSED/);
  clients.at(-1)!.connack();
  clients.at(-1)!.emit('close');
  t.deepEqual(timers.delays(), [375]);
});

test('a broker that refuses MQTT 5 gets MQTT 3.1.1 on the next attempt, without user properties', async (t) => {
  const { forwarder, source, clients, timers, warnings } = setup();
  source.append(jsonEvent('7', 1));
  forwarder.start();
  t.is(clients[0]!.options.protocolVersion, 5);
  clients[0]!.emit('error', Object.assign(new Error('Connection refused: Unacceptable protocol version'), { code: 1 }));
  t.regex(warnings.join('\n'), /refuses MQTT 5, using MQTT 3\.1\.1/);
  timers.fire();
  t.is(clients[1]!.options.protocolVersion, 4);
  clients[1]!.connack();
  t.deepEqual(clients[1]!.events()[0]!.opts, { qos: 1 });
  t.is(forwarder.status().protocolVersion, 4);
});

test('PUBACK errors: a permanent refusal skips the event, a transient one reconnects and resends', async (t) => {
  const { forwarder, source, clients, timers, warnings } = setup();
  source.append(jsonEvent('7', 1), jsonEvent('7', 2));
  forwarder.start();
  clients[0]!.connack();
  const [first, second] = clients[0]!.events();
  first!.cb(Object.assign(new Error('Publish error: Not authorized'), { code: 0x87 }));
  await tick();
  t.is(source.cursor('mqtt', '7'), 1);
  t.is(forwarder.status().refused, 1);
  t.regex(warnings.join('\n'), /spot 7: event 1 skipped: broker refused from\/7\/json\/presence\/create: Publish error: Not authorized/);
  second!.cb(Object.assign(new Error('Publish error: Quota exceeded'), { code: 0x97 }));
  t.is(forwarder.status().state, 'disconnected');
  timers.fire();
  clients[1]!.connack();
  t.deepEqual(clients[1]!.events().map(eventIdOf), ['inst:2']);
});

test('a failing store read is reported and retried, never thrown', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  source.append(jsonEvent('7', 1));
  source.failReads = true;
  forwarder.start();
  t.notThrows(() => clients[0]!.connack());
  t.regex(forwarder.status().lastError!, /reading the store failed: disk I\/O error/);
  t.deepEqual(timers.delays(), [1000]);
  source.failReads = false;
  timers.fire(1000);
  t.deepEqual(clients[0]!.events().map(eventIdOf), ['inst:1']);
});

test('a cursor that cannot be read for a new spot forces a clean replay instead of skipping its events', async (t) => {
  const { forwarder, source, clients, timers } = setup();
  forwarder.start();
  clients[0]!.connack();
  source.failCursorReads = true;
  source.append(jsonEvent('9', 1));
  t.is(forwarder.status().state, 'disconnected');
  t.regex(forwarder.status().lastError!, /reading the cursor of spot 9 failed: database is locked/);
  source.failCursorReads = false;
  timers.fire();
  clients[1]!.connack();
  t.deepEqual(clients[1]!.events().map(eventIdOf), ['inst:1']);
});

test('a command is acked to the broker only after onCommand has settled', async (t) => {
  let release!: () => void;
  const received: SpotCommand[] = [];
  const { forwarder, clients } = setup({
    onCommand: (command) => {
      received.push(command);
      return new Promise<void>((resolve) => (release = resolve));
    },
  });
  forwarder.start();
  clients[0]!.connack();
  let acked = false;
  const packet = { cmd: 'publish', topic: 'to/4711/json/config/update', payload: Buffer.from('{"send_hits":true}'), qos: 1, dup: false, retain: false } as const;
  clients[0]!.handleMessage(packet, () => (acked = true));
  await tick();
  t.deepEqual(received, [{ spot: '4711', resource: 'config', action: 'update', data: { send_hits: true }, encoding: 'json' }]);
  t.false(acked, 'not acked while the gateway has not queued it');
  release();
  await tick();
  t.true(acked);
  t.is(forwarder.status().commandsAccepted, 1);
});

test('a retained command is ignored with the reason: it would be applied again at every reconnect', async (t) => {
  const received: SpotCommand[] = [];
  const { forwarder, clients, warnings } = setup({ onCommand: (command) => received.push(command) });
  forwarder.start();
  clients[0]!.connack();
  let acked = false;
  const packet = { cmd: 'publish', topic: 'to/4711/json/config/update', payload: Buffer.from('{}'), qos: 1, dup: false, retain: true } as const;
  clients[0]!.handleMessage(packet, () => (acked = true));
  await tick();
  t.deepEqual(received, []);
  t.true(acked);
  t.regex(warnings.join('\n'), /to\/4711\/json\/config\/update: retained message; commands must not be retained/);
  t.is(forwarder.status().commandsRejected, 1);
});

test('stop(): waits for in-flight acks, saves cursors, retained offline, clean DISCONNECT', async (t) => {
  const { forwarder, source, clients } = setup();
  source.append(jsonEvent('7', 1));
  forwarder.start();
  clients[0]!.connack();
  const stopped = forwarder.stop();
  await tick();
  t.deepEqual(clients[0]!.endCalls, [], 'still waiting for the PUBACK');
  clients[0]!.ackAll((p) => p.topic.startsWith('from/'));
  await tick();
  t.is(source.cursor('mqtt', '7'), 1);
  const offline = clients[0]!.published.find((p) => p.payload === 'offline')!;
  t.true(offline.opts.retain);
  offline.cb();
  await stopped;
  t.deepEqual(clients[0]!.endCalls, [false], 'DISCONNECT, so the broker does not publish the will');
  t.is(forwarder.status().state, 'disconnected');
});

test('a gateway id that cannot be a topic level is refused at construction', (t) => {
  t.throws(() => setup({ gatewayId: 'a/b' }), { message: /gateway id "a\/b" cannot be a topic level/ });
  t.throws(() => setup({ topicPrefix: 'x/#' }), { message: /prefix/ });
});

test('an event stored before ingest refused its resource is skipped, counted and logged with the code point; the spot\'s next event goes out', async (t) => {
  const { forwarder, source, clients, warnings } = setup();
  const [bad] = source.append(jsonEvent('7', 1, 'a\u0001b', 'x'), jsonEvent('7', 2, 'door', 'open\ufffe'));
  const [good] = source.append(jsonEvent('7', 3));
  forwarder.start();
  clients[0]!.connack();
  t.deepEqual(clients[0]!.events().map((p) => p.topic), ['from/7/json/presence/create'], 'nothing published under a topic a broker refuses');
  t.is(forwarder.status().refused, 2);
  t.is(warnings[0], `mqtt: spot 7: event ${bad} skipped: resource "a\\u0001b" holds U+0001, a control character MQTT brokers refuse in a topic`);
  t.regex(warnings[1]!, /action "open\ufffe" holds U\+FFFE, a Unicode noncharacter MQTT brokers refuse in a topic$/);
  clients[0]!.ackAll();
  await tick();
  t.is(source.cursor('mqtt', '7'), good!);
});

test('commands.max_bytes sets the Maximum Packet Size in CONNECT; a payload over it plus the packet overhead is refused unread, a smaller one goes to the admission', async (t) => {
  const received: SpotCommand[] = [];
  const { forwarder, clients, warnings } = setup({ maxCommandBytes: 300, onCommand: (command) => received.push(command) });
  forwarder.start();
  t.is(clients[0]!.options.maximumPacketSize, 300 + 8192);
  clients[0]!.connack();
  const acks: string[] = [];
  const command = (payload: Buffer, name: string) =>
    clients[0]!.handleMessage({ topic: 'to/4711/json/config/update', payload, retain: false }, () => acks.push(name));
  command(Buffer.from(JSON.stringify({ pad: 'x'.repeat(8492 - 10) })), 'at the bound');
  command(Buffer.from(JSON.stringify({ pad: 'x'.repeat(8493 - 10) })), 'over it');
  await tick();
  t.deepEqual(acks.sort(), ['at the bound', 'over it'], 'both acknowledged: the refused one at once, the other once the admission took it');
  t.is(received.length, 1, 'the admission (onCommand) judges the one at the bound by commands.max_bytes');
  t.regex(warnings.join('\n'), /to\/4711\/json\/config\/update: payload of 8493 bytes is over the limit of 8492 bytes \(commands.max_bytes 300 plus 8192 for topic and properties\)/);
  t.is(forwarder.status().commandsRejected, 1);
});
