// What an acknowledgement's boot/seq name when the last message of a batch is malformed (docs/websocket.md, "Acknowledgement").
import test from 'ava';
import { createPbEncoder } from '../../gateway/src/protocol/index.js';
import { api, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

const events = (n: number, from = 0): ReturnType<typeof presence>[] => Array.from({ length: n }, (_, i) => presence(from + i));

/** A PB frame of two bytes that cannot be read (a truncated varint): one malformed message. */
const MALFORMED_FRAME = Buffer.from([0x02, 0xff, 0xff]);

/** The spot's rejected records once there are `n` (they are written with the commit's side work, up to 50 ms later). */
async function rejectedRecords(url: string, serial: number, n: number): Promise<Array<{ reason: string }>> {
  return waitFor(async () => {
    const { body } = await api<Array<{ reason: string }>>(url, `/api/rejected?spot=${serial}`);
    return body.length >= n ? body : undefined;
  }, 5000, `${n} rejected record(s) of spot ${serial}`);
}

test('spot-pb.v1, frames numbered by the spot, no numbering headers: a malformed last frame is named with the seq after the frame before it', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 61, { protocols: ['spot-pb.v1'] });
  t.teardown(() => spot.close());
  const encoder = createPbEncoder();
  const frames = events(3).map((e, i) => encoder.encode({ ...e, boot: 9, seq: 50 + i }));
  await spot.send(Buffer.concat([...frames, MALFORMED_FRAME]));
  t.deepEqual(await spot.waitAck(4), { events: 4, boot: 9, seq: 53 });
  // Two malformed frames in a row end the next message: one seq each.
  await spot.send(Buffer.concat([encoder.encode({ ...events(1, 3)[0]!, boot: 9, seq: 54 }), MALFORMED_FRAME, MALFORMED_FRAME]));
  t.deepEqual(await spot.waitAck(7), { events: 7, boot: 9, seq: 56 });
  t.is((await rejectedRecords(gw.url, 61, 2)).length, 2, 'each run of malformed frames kept once');
});

test('spot-pb.v1, frames numbered by the spot beside numbering headers: the frames win, for the malformed last frame too', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 62, { protocols: ['spot-pb.v1'], headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  const encoder = createPbEncoder();
  // A spot sending what its ring kept from an earlier boot: the frames carry boot 8, the headers the current boot.
  const frames = events(2).map((e, i) => encoder.encode({ ...e, boot: 8, seq: 700 + i }));
  await spot.send(Buffer.concat([...frames, MALFORMED_FRAME]));
  t.deepEqual(await spot.waitAck(3), { events: 3, boot: 8, seq: 702 });
});

test('spot-pb.v1, numbering from the headers only: a malformed frame first on the connection and last in a message take X-Spot-Seq + their index', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 63, { protocols: ['spot-pb.v1'], headers: { 'X-Spot-Boot': '4', 'X-Spot-Seq': '20' } });
  t.teardown(() => spot.close());
  await spot.send(MALFORMED_FRAME);
  t.deepEqual(await spot.waitAck(1), { events: 1, boot: 4, seq: 20 });
  const encoder = createPbEncoder();
  await spot.send(Buffer.concat([...events(2).map((e) => encoder.encode(e)), MALFORMED_FRAME]));
  t.deepEqual(await spot.waitAck(4), { events: 4, boot: 4, seq: 23 });
});

test('spot-json.v1: a malformed last message is named X-Spot-Seq + its index; without numbering headers the ack has none', async (t) => {
  const gw = await startTestGateway(t);
  const numbered = await WsSpot.open(gw.port, 64, { protocols: ['spot-json.v1'], headers: { 'X-Spot-Boot': '5', 'X-Spot-Seq': '30' } });
  t.teardown(() => numbered.close());
  await numbered.send(`${jsonText(events(2))}["presence"]\n\n["presence","update",7]\n\n`);
  t.deepEqual(await numbered.waitAck(4), { events: 4, boot: 5, seq: 33 });
  await numbered.send(`${jsonText(events(1, 2))}{"not":"an event"}\n\n`, false);
  t.deepEqual(await numbered.waitAck(6), { events: 6, boot: 5, seq: 35 });

  const bare = await WsSpot.open(gw.port, 65, { protocols: ['spot-json.v1'] });
  t.teardown(() => bare.close());
  await bare.send(`${jsonText(events(1))}["presence"]\n\n`);
  t.deepEqual(await bare.waitAck(2), { events: 2 });
});

test('spot-pb.v1: a frame refused for its numbering beyond the bound is named with the numbering it carried', async (t) => {
  const gw = await startTestGateway(t, { config: { auth: { numbering_max_ahead: 100 } } });
  const encoder = createPbEncoder();
  const first = await WsSpot.open(gw.port, 66, { protocols: ['spot-pb.v1'] });
  await first.send(encoder.encode({ ...events(1)[0]!, boot: 9, seq: 50 }));
  t.deepEqual(await first.waitAck(1), { events: 1, boot: 9, seq: 50 });
  first.close();
  await first.waitClose();
  // Reconnected: the bound now starts from the stored seq 50.
  const spot = await WsSpot.open(gw.port, 66, { protocols: ['spot-pb.v1'] });
  t.teardown(() => spot.close());
  const second = createPbEncoder();
  await spot.send(Buffer.concat([second.encode({ ...events(1, 1)[0]!, boot: 9, seq: 51 }), second.encode({ ...events(1, 2)[0]!, boot: 9, seq: 5000 })]));
  t.deepEqual(await spot.waitAck(2), { events: 2, boot: 9, seq: 5000 });
  const rejected = await rejectedRecords(gw.url, 66, 1);
  t.is(rejected.length, 1);
  t.regex(rejected[0]!.reason, /seq 5000 is more than auth.numbering_max_ahead \(100\) ahead/);
});
