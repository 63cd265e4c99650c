// Gateway and spot state messages go through the window like events: never past the broker's
// Receive Maximum, at most half of it, queued one per spot while it is full, and events keep
// flowing during a burst of them (docs/mqtt.md, "Spot online/offline").
import test from 'ava';
import type { MqttForwarderOptions } from '../../gateway/src/upstream/index.js';
import { DEFAULT_STATE_QUEUE_LIMIT } from '../../gateway/src/upstream/state-outbox.js';
import { eventIdOf, scriptedForwarder, tick, type FakeClient } from './fake-client.js';
import { jsonEvent, MemorySource } from './fake-source.js';

function setup(extra: Partial<MqttForwarderOptions> = {}) {
  const source = new MemorySource('inst');
  const { forwarder, clients, timers } = scriptedForwarder(source, extra);
  forwarder.start();
  return { forwarder, source, timers, client: (): FakeClient => clients.at(-1)! };
}

const isState = (topic: string): boolean => topic.startsWith('spots/') || topic.startsWith('gateways/');
const states = (c: FakeClient): string[] => c.published.filter((p) => topic(p).startsWith('spots/')).map(topic);
const topic = (p: { topic: string }): string => p.topic;

test('state messages never take the broker past its Receive Maximum; events and states all go out', async (t) => {
  const { forwarder, source, client } = setup();
  client().connack({ receiveMaximum: 4 });
  for (let i = 0; i < 100; i++) forwarder.publishSpotState(String(1000 + i), 'connected');
  for (let i = 0; i < 50; i++) source.append(jsonEvent(String(i % 5), i));
  let most = 0;
  // The broker acks one message at a time, oldest first, until nothing is left.
  for (let round = 0; round < 2000; round++) {
    await tick();
    most = Math.max(most, client().pending().length);
    const next = client().pending()[0];
    if (!next) break;
    next.acked = true;
    next.cb();
  }
  t.true(most <= 4, `at most 4 unacknowledged, saw ${most}`);
  t.is(states(client()).length, 100, 'every spot state went out');
  t.is(client().events().length, 50);
  t.is(forwarder.status().lagEvents, 0);
  t.is(forwarder.status().spotStatesQueued, 0);
});

test('a burst of 10,000 spot-state changes does not hold events back: events get slots while states are queued', async (t) => {
  const { forwarder, source, client } = setup();
  client().connack({ receiveMaximum: 20 });
  for (let i = 0; i < 10_000; i++) forwarder.publishSpotState(String(100000 + i), i % 2 === 0 ? 'connected' : 'disconnected');
  for (let i = 0; i < 200; i++) source.append(jsonEvent(String(i % 10), i));
  await tick();
  t.true(client().pending().length <= 20);
  t.true(client().events().length >= 10, `events have half the window at least: ${client().events().length} in flight`);
  // The broker acks whatever is in flight, round after round: the events are done long before the states.
  let rounds = 0;
  while (forwarder.status().lagEvents !== 0 && rounds < 1000) {
    client().ackAll();
    await tick();
    rounds++;
    t.true(client().pending().length <= 20);
  }
  t.is(forwarder.status().lagEvents, 0);
  t.true(forwarder.status().spotStatesQueued > 5000, `most states still wait: ${forwarder.status().spotStatesQueued}`);
  const ids = client().events().map((p) => Number(String(eventIdOf(p)).split(':')[1]));
  t.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'every event once');
  // And then the states drain too: nothing is left queued with the window empty.
  for (let round = 0; round < 2000 && forwarder.status().spotStatesQueued > 0; round++) {
    client().ackAll();
    await tick();
  }
  client().ackAll();
  await tick();
  t.is(forwarder.status().spotStatesQueued, 0);
  t.is(states(client()).length, 10_000);
  t.is(forwarder.status().inFlight, 0);
});

test('queued state messages are one per spot, the latest; a pair that never went out collapses to it and is counted', async (t) => {
  const { forwarder, client } = setup();
  client().connack({ receiveMaximum: 2 });
  await tick();
  client().ackAll();
  // One spot state fills the state half of this small window.
  forwarder.publishSpotState('1', 'connected');
  await tick();
  t.is(client().pending().length, 1);
  forwarder.publishSpotState('2', 'connected');
  forwarder.publishSpotState('2', 'disconnected');
  forwarder.publishSpotState('3', 'connected');
  t.is(forwarder.status().spotStatesQueued, 2, 'spots 2 and 3 wait, one message each');
  t.is(forwarder.status().spotStatesDropped, 1, 'the connected of spot 2, replaced before it went out');
  for (let round = 0; round < 20 && client().pending().length > 0; round++) {
    client().ackAll();
    await tick();
  }
  t.deepEqual(states(client()), ['spots/1/connected', 'spots/2/disconnected', 'spots/3/connected']);
});

test('the state queue is bounded: beyond its limit the oldest waiting message is dropped and counted', async (t) => {
  const { forwarder, client } = setup();
  client().connack({ receiveMaximum: 2 });
  await tick();
  const burst = DEFAULT_STATE_QUEUE_LIMIT + 500;
  for (let i = 0; i < burst; i++) forwarder.publishSpotState(String(i), 'connected');
  const { spotStatesQueued, spotStatesDropped } = forwarder.status();
  t.is(spotStatesQueued, DEFAULT_STATE_QUEUE_LIMIT);
  t.is(spotStatesQueued + spotStatesDropped + client().pending().filter((p) => isState(p.topic) && p.topic.startsWith('spots/')).length, burst, 'every state is queued, in flight or counted');
});

test('state messages waiting when the connection drops are dropped and counted; the next connection starts with online', async (t) => {
  const { forwarder, client, timers } = setup();
  client().connack({ receiveMaximum: 2 });
  for (let i = 0; i < 10; i++) forwarder.publishSpotState(String(i), 'connected');
  await tick();
  const queued = forwarder.status().spotStatesQueued;
  t.true(queued > 0);
  const dropped = forwarder.status().spotStatesDropped;
  client().emit('close');
  t.is(forwarder.status().spotStatesQueued, 0);
  t.is(forwarder.status().spotStatesDropped, dropped + queued);
  timers.fire();
  client().connack({ receiveMaximum: 2 });
  forwarder.publishSpotState('11', 'connected');
  await tick();
  t.deepEqual(client().published.map(topic), ['gateways/gw1/state'], 'online first; the spot state waits for half the window');
  client().ackAll();
  await tick();
  t.deepEqual(client().published.map(topic), ['gateways/gw1/state', 'spots/11/connected']);
});
