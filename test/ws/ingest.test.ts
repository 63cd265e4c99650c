// Spot WebSocket (docs/websocket.md): events stored and acknowledged after commit, commands pushed as they are queued.
import test from 'ava';
import { createPbDecoder } from '../../gateway/src/protocol/index.js';
import { api, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, pbStream, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

type Listed = Array<{ id: number; spot: string; data: { item_code: string } }>;
type ApiCommand = { id: number; state: string };

const events = (n: number, from = 0): ReturnType<typeof presence>[] => Array.from({ length: n }, (_, i) => presence(from + i));

async function stored(url: string, serial: number): Promise<Listed> {
  return (await api<Listed>(url, `/api/events?spot=${serial}&limit=10000`)).body;
}

test('spot-json.v1: several events per message are stored and acknowledged with their numbering, never before the commit', async (t) => {
  const gw = await startTestGateway(t);
  let committedEvents = 0;
  gw.running.store.onAppended((spot, _lastId, appended) => {
    if (spot === '31') committedEvents += appended?.length ?? 0;
  });
  const spot = await WsSpot.open(gw.port, 31, { protocols: ['spot-json.v1'], headers: { 'X-Spot-Boot': '7', 'X-Spot-Seq': '100' } });
  t.teardown(() => spot.close());
  t.is(spot.protocol, 'spot-json.v1');
  const seenAtAck: number[] = [];
  spot.ws.on('message', (_data, isBinary) => {
    if (!isBinary) seenAtAck.push(committedEvents);
  });
  await spot.send(jsonText(events(3)));
  t.deepEqual(await spot.waitAck(3), { events: 3, boot: 7, seq: 102 });
  await spot.send(jsonText(events(2, 3)), false);
  t.deepEqual(await spot.waitAck(5), { events: 5, boot: 7, seq: 104 });
  t.deepEqual(seenAtAck, [3, 5], 'each ack came after its events were committed');
  const list = await stored(gw.url, 31);
  t.deepEqual(list.map((e) => e.data.item_code), events(5).map((e) => e.data.item_code));
});

test('spot-pb.v1: preferred in the spot order, events stored; the send-layer state lasts for the connection', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 32, { protocols: ['spot-pb.v1', 'spot-json.v1'], headers: { 'X-Spot-Boot': '2', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  t.is(spot.protocol, 'spot-pb.v1');
  // One stream cut into messages at frame bounds: later frames lean on the state of earlier ones.
  const all = events(6);
  const stream = pbStream(all);
  const frames = [...createPbDecoder().push(stream)];
  t.is(frames.length, 6);
  const cut = frames[2]!.kind === 'event' ? frames[2]!.event.offset : 0;
  t.true(cut > 0);
  await spot.send(stream.subarray(0, cut));
  await spot.send(stream.subarray(cut));
  t.deepEqual(await spot.waitAck(6), { events: 6, boot: 2, seq: 6 });
  t.deepEqual((await stored(gw.url, 32)).map((e) => e.data.item_code), all.map((e) => e.data.item_code));
});

test('a command queued while the spot is connected reaches it at once in its encoding and is marked delivered; commands waiting at connect go at the upgrade', async (t) => {
  const gw = await startTestGateway(t);
  const waiting = await api<ApiCommand>(gw.url, '/api/spots/33/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 20 } } });
  t.is(waiting.status, 202);
  const spot = await WsSpot.open(gw.port, 33, { protocols: ['spot-pb.v1'] });
  t.teardown(() => spot.close());
  const [first] = await spot.waitBinary(1);
  const items = createPbDecoder().push(first!);
  t.is(items.length, 1);
  t.true(items[0]!.kind === 'event' && items[0]!.event.data.rfid_power_dbm === 20);

  const json = await WsSpot.open(gw.port, 34, { protocols: ['spot-json.v1'] });
  t.teardown(() => json.close());
  const queued = await api<ApiCommand>(gw.url, '/api/spots/34/commands', { body: { resource: 'config', action: 'update', data: { send_hits: true } } });
  t.is(queued.status, 202);
  const [pushed] = await json.waitBinary(1);
  t.is(pushed!.toString(), '["config","update",{"send_hits":true}]\n\n');
  for (const serial of [33, 34]) {
    await waitFor(
      async () => (await api<ApiCommand[]>(gw.url, `/api/spots/${serial}/commands`)).body.every((c) => c.state === 'delivered'),
      5000,
      `the command of spot ${serial} to be marked delivered`,
    );
  }
  t.is(spot.binary.length, 1, 'sent once');
  t.is(json.binary.length, 1, 'sent once');
});
