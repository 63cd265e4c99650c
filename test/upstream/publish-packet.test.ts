import test from 'ava';
// mqtt-packet is mqtt.js's own parser: the reference for what a broker reads.
import mqttPacket from 'mqtt-packet';
import { PacketIds } from '../../gateway/src/upstream/mqtt-wire/packet-ids.js';
import { RawChannel, type PublishDone, type RawSink } from '../../gateway/src/upstream/publish-channel.js';
import { encodePublish, publishSize } from '../../gateway/src/upstream/mqtt-wire/publish-packet.js';

/** The connection's side of the raw channel, recording writes and what awaits a PUBACK. */
class Sink implements RawSink {
  readonly ids = new PacketIds();
  readonly waiting = new Map<number, PublishDone>();
  readonly writes: Buffer[] = [];
  track(done: PublishDone): number {
    const id = this.ids.allocate()!;
    this.waiting.set(id, done);
    return id;
  }
  untrack(id: number): void {
    this.waiting.delete(id);
    this.ids.deallocate(id);
  }
  write(chunk: Buffer): void {
    this.writes.push(chunk);
  }
}

function parse(bytes: Buffer, protocolVersion: 4 | 5): mqttPacket.IPublishPacket {
  const parser = mqttPacket.parser({ protocolVersion });
  const packets: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (e) => errors.push(e));
  parser.parse(bytes);
  if (errors.length > 0 || packets.length !== 1) throw new Error(`parse: ${errors.join(', ')} (${packets.length} packets)`);
  return packets[0] as mqttPacket.IPublishPacket;
}

test('a 3.1.1 QoS 1 PUBLISH, byte for byte', (t) => {
  const bytes = encodePublish({ topic: 'a/b', payload: 'hi', packetId: 258 });
  t.deepEqual([...bytes], [0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 0x68, 0x69]);
  t.is(publishSize({ topic: 'a/b', payload: 'hi', packetId: 258 }), bytes.length);
});

test('MQTT 5 packets parse back with topic, id, payload, event_id and content type, at every length size', (t) => {
  for (const size of [0, 100, 200, 20_000, 3_000_000]) {
    const payload = 'é'.repeat(size / 2) + (size % 2 ? 'x' : '');
    const fields = {
      topic: 'site/from/4711/json/presence/create',
      payload,
      packetId: 65535,
      v5: { eventId: 'c0ffee:123456789', contentType: 'application/json' },
    };
    const bytes = encodePublish(fields);
    t.is(bytes.length, publishSize(fields));
    const p = parse(bytes, 5);
    t.is(p.topic, fields.topic);
    t.is(p.qos, 1);
    t.false(p.retain);
    t.is(p.messageId, 65535);
    t.is(p.payload.toString(), payload);
    t.deepEqual(p.properties?.userProperties, { event_id: 'c0ffee:123456789' });
    t.is(p.properties?.contentType, 'application/json');
  }
});

test('binary payloads (PB frames) are carried unchanged', (t) => {
  const frame = new Uint8Array([0, 1, 2, 0xff, 0x80]);
  const p = parse(encodePublish({ topic: 'from/1/pb', payload: frame, packetId: 7 }), 4);
  t.deepEqual([...(p.payload as Buffer)], [...frame]);
});

test('packet ids: never one in use, wrap around', (t) => {
  const ids = new PacketIds();
  t.is(ids.allocate(), 1);
  t.is(ids.allocate(), 2);
  ids.deallocate(2);
  ids.deallocate(2);
  t.is(ids.inUse, 1, 'freeing an id twice counts once');
  for (let i = 0; i < 65535 - 2; i++) ids.allocate();
  t.is(ids.inUse, 65534);
  t.is(ids.allocate(), 2, 'wraps to the freed id');
  t.is(ids.allocate(), null, 'all 65535 in use');
});

test('raw channel: one write per flush, a packet over the broker maximum refused at once without an id', (t) => {
  const sink = new Sink();
  const channel = new RawChannel(sink, 5, 200);
  const results: Array<string> = [];
  const done = (name: string) => (err?: Error) => results.push(`${name}:${err ? (err as Error & { code: number }).code : 'ok'}`);
  channel.publish('from/1/json/hit/create', '{}', 'i:1', 'application/json', done('a'));
  channel.publish('from/1/json/hit/create', '{}', 'i:2', 'application/json', done('b'));
  channel.publish('from/1/json/hit/create', 'x'.repeat(300), 'i:3', 'application/json', done('big'));
  t.deepEqual(results, ['big:149'], 'over the broker maximum packet size: refused at once');
  t.is(sink.writes.length, 0);
  channel.flush();
  t.is(sink.writes.length, 1, 'both packets in one write');
  t.deepEqual([...sink.waiting.keys()], [1, 2]);
  channel.flush();
  t.is(sink.writes.length, 1, 'nothing new: no write');
});

test('raw channel: thousands of packets across slab boundaries and packets too big for a slab arrive whole and in order', (t) => {
  const sink = new Sink();
  const writes = sink.writes;
  const channel = new RawChannel(sink, 5, undefined);
  const sent: string[] = [];
  const sizes = [10, 200, 3000, 70_000, 300_000];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2000; i++) {
      const payload = `${round}/${i}:` + 'é'.repeat(sizes[(i * 7) % sizes.length]! / (i % 97 === 0 ? 1 : 100));
      sent.push(payload);
      channel.publish(`from/${i % 5}/json/hit/create`, payload, `inst:${sent.length}`, 'application/json', () => {});
    }
    channel.flush();
  }
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const got: mqttPacket.IPublishPacket[] = [];
  parser.on('packet', (p) => got.push(p as mqttPacket.IPublishPacket));
  for (const w of writes) parser.parse(Buffer.from(w)); // the socket owns each chunk: copy as a socket would send it
  t.is(got.length, sent.length);
  t.deepEqual(
    got.map((p) => p.payload.toString()),
    sent,
  );
  t.deepEqual(
    got.slice(0, 3).map((p) => p.properties?.userProperties?.event_id),
    ['inst:1', 'inst:2', 'inst:3'],
  );
});
