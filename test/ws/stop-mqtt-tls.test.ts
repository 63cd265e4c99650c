// Spot WebSocket: a gateway stop closes with 1001 after acknowledging what it committed; events go upstream like posted ones; TLS.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { api, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { makeCerts } from '../helpers/tls-certs.js';
import { jsonText, pbStream, presence } from '../http/events.js';
import { startConsumer } from '../upstream/consumer.js';
import { WsSpot } from './ws-spot.js';

const events = (n: number, from = 0): ReturnType<typeof presence>[] => Array.from({ length: n }, (_, i) => presence(from + i));

test('gateway stop: the spot gets the ack of everything committed, then 1001; every acknowledged event is in the buffer after a restart', async (t) => {
  const dataDir = tempDir(t);
  const gw = await startTestGateway(t, { dataDir });
  const spot = await WsSpot.open(gw.port, 61, { headers: { 'X-Spot-Boot': '5', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  const sending = Promise.all(Array.from({ length: 40 }, (_, m) => spot.send(jsonText(events(10, m * 10))).catch(() => undefined)));
  await spot.waitAck(1);
  const stopped = gw.stop();
  t.is(await spot.waitClose(), 1001);
  t.is(spot.closeReason, 'gateway stopping');
  await stopped;
  await sending;
  const last = spot.acks.at(-1)!;
  t.true(last.events >= 10 && last.events % 10 === 0, JSON.stringify(last));
  t.is(last.seq, last.events, 'seq = X-Spot-Seq + events - 1');

  const again = await startTestGateway(t, { dataDir });
  const { body: stored } = await api<unknown[]>(again.url, '/api/events?spot=61&limit=10000');
  t.true(stored.length >= last.events, `${stored.length} stored, ${last.events} acknowledged`);
});

test('events sent over WebSocket reach Mosquitto as posted ones do, JSON and PB', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['site1/from/#'], t);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url, topic_prefix: 'site1' } } });
  const json = await WsSpot.open(gw.port, 62);
  t.teardown(() => json.close());
  const pb = await WsSpot.open(gw.port, 63, { protocols: ['spot-pb.v1'] });
  t.teardown(() => pb.close());
  const sent = events(12);
  await json.send(jsonText(sent.slice(0, 5)));
  await json.send(jsonText(sent.slice(5)));
  await pb.send(pbStream(events(4, 50)));
  await consumer.waitFor(
    (m) => m.filter((x) => x.topic.startsWith('site1/from/62/json/')).length >= 12 && m.filter((x) => x.topic === 'site1/from/63/pb').length >= 4,
    10000,
    '12 JSON events of spot 62 and 4 PB events of spot 63',
  );
  const of62 = consumer.messages.filter((m) => m.topic.startsWith('site1/from/62/json/'));
  t.deepEqual(of62.map((m) => JSON.parse(m.payload.toString()).item_code), sent.map((e) => e.data.item_code));
  t.deepEqual(of62.map((m) => m.topic), sent.map((e) => `site1/from/62/json/presence/${e.action}`));
  t.true(of62.every((m) => m.eventId?.startsWith(`${gw.running.store.instanceId}:`)));
  await waitFor(async () => (await api<Array<{ forwarded: { mqtt: boolean } }>>(gw.url, '/api/events?spot=62')).body.every((e) => e.forwarded.mqtt), 5000, 'events marked forwarded');
});

test('with TLS on: wss:// on http.port and ws:// on http.plain_port, both stored and acknowledged', async (t) => {
  const certs = makeCerts(t);
  const gw = await startTestGateway(t, { config: { http: { tls_cert_file: certs.serverCert, tls_key_file: certs.serverKey, plain_port: 0 } } });
  const plainPort = gw.running.plainPort;
  if (plainPort === null) return t.fail('no plain listener');
  const secure = await WsSpot.open(gw.port, 64, { ca: readFileSync(certs.caCert, 'utf8') });
  t.teardown(() => secure.close());
  const plain = await WsSpot.open(plainPort, 65);
  t.teardown(() => plain.close());
  await secure.send(jsonText(events(2)));
  await plain.send(jsonText(events(3)));
  t.is((await secure.waitAck(2)).events, 2);
  t.is((await plain.waitAck(3)).events, 3);
});
