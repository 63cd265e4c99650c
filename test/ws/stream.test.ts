// Spot WebSocket streams: incomplete tails, reconnects, replacement, limits, silence (docs/websocket.md).
import test from 'ava';
import { api, startTestGateway, waitFor } from '../helpers/gateway.js';
import { metricValue } from '../auth/http.js';
import { jsonText, pbStream, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

type Listed = Array<{ id: number; data: { item_code: string } }>;

const events = (n: number, from = 0): ReturnType<typeof presence>[] => Array.from({ length: n }, (_, i) => presence(from + i));

async function storedCount(url: string, serial: number): Promise<number> {
  return (await api<Listed>(url, `/api/events?spot=${serial}&limit=10000`)).body.length;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

test('a message whose last event is incomplete: that tail is rejected, counted in the ack, and the next message decodes', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 51, { headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': '10' } });
  t.teardown(() => spot.close());
  const whole = jsonText(events(2));
  await spot.send(`${whole}["presence","update",{"item_code":"e28`);
  t.deepEqual(await spot.waitAck(3), { events: 3, boot: 1, seq: 12 });
  // A message of blank lines only carries no event: nothing to acknowledge for it.
  await spot.send('\n\n \n');
  await spot.send(jsonText(events(1, 2)));
  t.deepEqual(await spot.waitAck(4), { events: 4, boot: 1, seq: 13 });
  t.deepEqual(spot.acks.map((a) => a.events), [3, 4]);
  t.is(await storedCount(gw.url, 51), 3);
  const { body: rejected } = await api<Array<{ reason: string }>>(gw.url, '/api/rejected?spot=51');
  t.is(rejected.length, 1);
  t.regex(rejected[0]!.reason, /truncated: the WebSocket message ended inside a message/);
});

test('reconnecting with the oldest unacknowledged seq: what was committed is dropped as duplicates, nothing lost', async (t) => {
  const gw = await startTestGateway(t);
  const first = await WsSpot.open(gw.port, 52, { protocols: ['spot-pb.v1'], headers: { 'X-Spot-Boot': '3', 'X-Spot-Seq': '1' } });
  await first.send(pbStream(events(5)));
  t.deepEqual(await first.waitAck(5), { events: 5, boot: 3, seq: 5 });
  await first.send(pbStream(events(3, 5)));
  // Committed, and the connection lost before the spot read the ack.
  await waitFor(async () => (await storedCount(gw.url, 52)) === 8, 5000, 'all 8 events stored');
  first.close();
  const again = await WsSpot.open(gw.port, 52, { protocols: ['spot-pb.v1'], headers: { 'X-Spot-Boot': '3', 'X-Spot-Seq': '6' } });
  t.teardown(() => again.close());
  await again.send(pbStream(events(4, 5)));
  t.deepEqual(await again.waitAck(4), { events: 4, boot: 3, seq: 9 });
  const list = (await api<Listed>(gw.url, '/api/events?spot=52&limit=100')).body;
  t.deepEqual(list.map((e) => e.data.item_code), events(9).map((e) => e.data.item_code));
  t.is(metricValue(await metrics(gw.url), 'spot_gateway_duplicates_total'), 3);
});

test('a second connection of the same serial replaces the first: 4001 after the first one acknowledged what it committed', async (t) => {
  const gw = await startTestGateway(t);
  const first = await WsSpot.open(gw.port, 53);
  t.teardown(() => first.close());
  await first.send(jsonText(events(3)));
  await waitFor(async () => (await storedCount(gw.url, 53)) === 3, 5000, '3 events stored');
  const second = await WsSpot.open(gw.port, 53);
  t.teardown(() => second.close());
  t.is(await first.waitClose(), 4001);
  t.is(first.closeReason, 'replaced by a newer connection');
  t.is(first.acks.at(-1)?.events, 3, 'acknowledged before the close');
  await second.send(jsonText(events(1, 3)));
  t.is((await second.waitAck(1)).events, 1);
  t.is(second.ws.readyState, second.ws.OPEN);
  t.is(metricValue(await metrics(gw.url), 'spot_gateway_ws_connections'), 1);
});

test('a message over http.ws_max_message_bytes closes with 1009; a text message under spot-pb.v1 with 1003 and an error', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { ws_max_message_bytes: 1024 } } });
  const big = await WsSpot.open(gw.port, 54);
  t.teardown(() => big.close());
  await big.send(jsonText(events(20)));
  t.is(await big.waitClose(), 1009);
  const pb = await WsSpot.open(gw.port, 55, { protocols: ['spot-pb.v1'] });
  t.teardown(() => pb.close());
  await pb.send(jsonText(events(1)), false);
  t.is(await pb.waitClose(), 1003);
  t.regex(pb.errors[0]?.reason ?? '', /text message under spot-pb\.v1/);
  t.is(await storedCount(gw.url, 55), 0);
});

test('a silent connection is pinged and stays open while it answers; one that does not answer is closed', async (t) => {
  // 2 s: a ping after 1 s of silence, the close after 2 s; a pong has a second to come back, which a loaded test machine needs.
  const gw = await startTestGateway(t, { config: { http: { idle_timeout_ms: 2000 }, spots: { offline_after_s: 0.5 } } });
  const answering = await WsSpot.open(gw.port, 56);
  t.teardown(() => answering.close());
  let pings = 0;
  answering.ws.on('ping', () => pings++);
  const mute = await WsSpot.open(gw.port, 57, { autoPong: false });
  t.teardown(() => mute.close());
  t.is(await mute.waitClose(15000), 1006, 'cut without a close handshake');
  await waitFor(() => pings >= 4, 20000, () => `4 pings (got ${pings}, state ${answering.ws.readyState} close ${answering.closeCode})`);
  t.is(answering.ws.readyState, answering.ws.OPEN);
  // Online all along though silent for longer than spots.offline_after_s.
  const { body: spots } = await api<Array<{ serial: string; online: boolean }>>(gw.url, '/api/spots');
  t.true(spots.find((s) => s.serial === '56')?.online);
});

test('a message over a decoding slice (100 events) is stored whole and acknowledged; the counters and gauge show the connection', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 58, { headers: { 'X-Spot-Boot': '4', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  const text = jsonText(events(100));
  t.true(text.length > 8192);
  await spot.send(text);
  await spot.send(jsonText(events(1, 100)));
  t.deepEqual(await spot.waitAck(101), { events: 101, boot: 4, seq: 101 });
  t.is(await storedCount(gw.url, 58), 101);
  const text2 = await metrics(gw.url);
  t.is(metricValue(text2, 'spot_gateway_ws_connections'), 1);
  t.is(metricValue(text2, 'spot_gateway_ws_messages_total'), 2);
  t.true((metricValue(text2, 'spot_gateway_ws_acks_total') ?? 0) >= 1);
  spot.ws.close(1000);
  t.is(await spot.waitClose(), 1000);
  await waitFor(async () => metricValue(await metrics(gw.url), 'spot_gateway_ws_connections') === 0, 5000, 'the gauge back to 0');
  const { body: spots } = await api<Array<{ serial: string; events: number; posts: number }>>(gw.url, '/api/spots');
  const entry = spots.find((s) => s.serial === '58');
  t.is(entry?.events, 101);
  t.is(entry?.posts, 1);
});

test('a burst of messages past the bounds of uncommitted events: reading pauses and resumes, everything stored and acknowledged once', async (t) => {
  const gw = await startTestGateway(t);
  const spots = await Promise.all([59, 60].map((serial) => WsSpot.open(gw.port, serial, { headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' } })));
  t.teardown(() => spots.forEach((s) => s.close()));
  // 2 x 40 messages of 60 events sent at once: over 2000 uncommitted events and 16 appends per stream.
  await Promise.all(spots.map((spot) => Promise.all(Array.from({ length: 40 }, (_, m) => spot.send(jsonText(events(60, m * 60)))))));
  for (const [i, spot] of spots.entries()) {
    t.deepEqual(await spot.waitAck(2400, 20_000), { events: 2400, boot: 1, seq: 2400 });
    t.is(await storedCount(gw.url, 59 + i), 2400);
  }
  t.is(metricValue(await metrics(gw.url), 'spot_gateway_duplicates_total'), 0);
});
