// With the broker up and no new input, the forwarder drains to lag 0: no freed window slot and no
// stored event may be left without a pump to use it (docs/mqtt.md, "Nothing left behind").
import test from 'ava';
import { MqttForwarder, type MqttForwarderOptions } from '../../gateway/src/upstream/index.js';
import { eventIdOf, fakeFactory, FakeTimers, tick } from './fake-client.js';
import { jsonEvent, MemorySource } from './fake-source.js';

function setup(extra: Partial<MqttForwarderOptions> = {}, source = new MemorySource('inst')) {
  const { factory, clients } = fakeFactory();
  const timers = new FakeTimers();
  const forwarder = new MqttForwarder({
    url: 'mqtt://broker.test',
    gatewayId: 'gw1',
    source,
    clientFactory: factory,
    timers,
    random: () => 0.5,
    ...extra,
  });
  return { forwarder, source, clients, timers };
}

test('events waiting behind a window full of spot-state messages go out when those messages are acked', async (t) => {
  const { forwarder, source, clients } = setup();
  forwarder.start();
  const client = clients[0]!;
  client.connack({ receiveMaximum: 4 });
  // Many spots come online at once: their connected messages take every slot (and more).
  for (const spot of ['1', '2', '3', '4', '5']) forwarder.publishSpotState(spot, 'connected');
  source.append(jsonEvent('1', 1), jsonEvent('2', 2), jsonEvent('3', 3));
  await tick();
  t.deepEqual(client.events(), [], 'no room while the state messages are in flight');
  client.ackAll();
  await tick();
  t.deepEqual(client.events().map(eventIdOf), ['inst:1', 'inst:2', 'inst:3']);
  client.ackAll();
  await tick();
  t.is(forwarder.status().lagEvents, 0);
  t.is(forwarder.status().inFlight, 0);
});
