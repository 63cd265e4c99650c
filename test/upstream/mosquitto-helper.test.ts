import test from 'ava';
import net from 'node:net';
import mqtt from 'mqtt';
import { startMosquitto } from '../helpers/mosquitto.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

test('mosquitto helper: a real broker that stops, restarts on the same port, and is killed', async (t) => {
  const broker = await startMosquitto({ t });
  t.true(broker.port > 0);
  t.is(broker.url, `mqtt://127.0.0.1:${broker.port}`);

  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  t.teardown(() => client.end(true));
  const received = new Promise<string>((resolve) =>
    client.on('message', (_topic, payload) => resolve(payload.toString())),
  );
  await client.subscribeAsync('helper/test', { qos: 1 });
  await client.publishAsync('helper/test', 'hello', { qos: 1 });
  t.is(await received, 'hello');
  client.end(true);

  await broker.stop();
  t.false(await canConnect(broker.port), 'stopped broker still accepts connections');
  await broker.restart();
  t.true(await canConnect(broker.port), 'restarted broker does not accept connections');
  await broker.kill();
  t.false(await canConnect(broker.port));
});
