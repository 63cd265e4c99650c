// Events whose resource or action a broker would refuse in a topic are refused at ingest and never wedge the upstream.
import test from 'ava';
import { createPbEncoder, type SpotEventBody } from '../../gateway/src/protocol/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { startConsumer } from '../upstream/consumer.js';
import { presence } from './events.js';

const CONTROL = 'a control character MQTT brokers refuse in a topic';
const NONCHARACTER = 'a Unicode noncharacter MQTT brokers refuse in a topic';

/** One event of each class a broker refuses in a topic, with the reason /api/rejected must give. */
const BAD: Array<[SpotEventBody, string]> = [
  [{ resource: 'a\u0001b', action: 'x', data: {} }, `resource holds U+0001, ${CONTROL}`],
  [{ resource: 'presence', action: 'up\u0000', data: {} }, `action holds U+0000, ${CONTROL}`],
  [{ resource: 'presence', action: 'up\u0085', data: {} }, `action holds U+0085, ${CONTROL}`],
  [{ resource: 'door\u007f', action: 'open', data: {} }, `resource holds U+007F, ${CONTROL}`],
  [{ resource: 'door\ufdd0', action: 'open', data: {} }, `resource holds U+FDD0, ${NONCHARACTER}`],
  [{ resource: 'door', action: 'open\u{10ffff}', data: {} }, `action holds U+10FFFF, ${NONCHARACTER}`],
  [{ resource: 'door\ud800', action: 'open', data: {} }, 'resource holds U+D800, an unpaired surrogate, which has no UTF-8 form'],
  [{ resource: 'a/b', action: 'x', data: {} }, 'resource holds "/", the MQTT topic level separator'],
  [{ resource: 'door', action: '#', data: {} }, 'action holds "#", an MQTT wildcard'],
];

/** A valid event, then one bad event, and so on: valid ones on both sides of every bad one. */
function interleaved(first: number, bad: SpotEventBody[]): { events: SpotEventBody[]; valid: SpotEventBody[] } {
  const valid = Array.from({ length: bad.length + 1 }, (_, i) => presence(first + i));
  const events = valid.flatMap((v, i) => (i < bad.length ? [v, bad[i]!] : [v]));
  return { events, valid };
}

/** No lone surrogates (String#isWellFormed, ES2024). */
function wellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

type Rejected = { spot: string; reason: string; offset: number };

test('a post mixing valid events with ones a broker would refuse in a topic: 200, the bad ones in /api/rejected with the reason, every valid one reaches a subscriber', async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });

  // JSON, as a spot writes it: JSON.stringify escapes controls below U+0020 and lone surrogates as \u sequences.
  const json = interleaved(0, BAD.map(([e]) => e));
  const jsonBody = json.events.map((e) => `${JSON.stringify([e.resource, e.action, e.data])}\n\n`).join('');
  t.true(jsonBody.includes('["a\\u0001b","x",{}]\n\n'), 'the 22-byte event of the report, as sent');
  t.is((await postChunks(gw.port, 31, [jsonBody], { headers: JSON_EVENTS })).status, 200);

  // PB carries an unknown resource/action as a GenericEvent; a lone surrogate has no UTF-8 form, so PB cannot carry it.
  const pbBad = BAD.map(([e]) => e).filter((e) => wellFormed(e.resource) && wellFormed(e.action));
  const pb = interleaved(100, pbBad);
  const encoder = createPbEncoder();
  t.is((await postChunks(gw.port, 32, [Buffer.concat(pb.events.map((e) => encoder.encode(e)))], { headers: PB_EVENTS })).status, 200);

  const other = [presence(200), presence(201)];
  t.is((await postChunks(gw.port, 33, [other.map((e) => `${JSON.stringify([e.resource, e.action, e.data])}\n\n`).join('')], { headers: JSON_EVENTS })).status, 200);

  const codes = (spot: number, form: 'json' | 'pb', messages = consumer.messages): unknown[] =>
    messages.filter((m) => m.topic.startsWith(`from/${spot}/${form}`)).map((m) => (form === 'json' ? JSON.parse(m.payload.toString()).item_code : m.topic));
  await consumer.waitFor(
    (m) => codes(31, 'json', m).length >= json.valid.length && codes(32, 'json', m).length >= pb.valid.length && codes(32, 'pb', m).length >= pb.valid.length && codes(33, 'json', m).length >= other.length,
    10000,
    'every valid event of the three spots, also those after the refused ones',
  );
  t.deepEqual(codes(31, 'json'), json.valid.map((e) => e.data['item_code']), 'spot 31: every valid event, in order');
  t.deepEqual(codes(32, 'json'), pb.valid.map((e) => e.data['item_code']), 'spot 32 (PB): every valid event, in order');
  t.deepEqual(codes(33, 'json'), other.map((e) => e.data['item_code']), 'spot 33: unaffected');
  t.true(consumer.messages.every((m) => /^from\/3[123]\/(json\/presence\/(create|update)|pb)$/.test(m.topic)), 'nothing else was published');

  // Rejected messages are written with a group commit that may follow the post's answer.
  const rejected = (spot: number, count: number): Promise<string[]> =>
    waitFor(
      async () => {
        const rows = (await api<Rejected[]>(gw.url, `/api/rejected?spot=${spot}&limit=100`)).body;
        return rows.length >= count && rows.sort((a, b) => a.offset - b.offset).map((r) => r.reason);
      },
      5000,
      `the rejected messages of spot ${spot}`,
    );
  t.deepEqual(await rejected(31, BAD.length), BAD.map(([, reason]) => reason));
  t.deepEqual(
    await rejected(32, pbBad.length),
    BAD.filter(([e]) => pbBad.includes(e)).map(([, reason]) => `malformed frame: ${reason}`),
  );
  const { body: status } = await api<{ upstreams: { mqtt: { reconnects: number; refused: number; state: string } } }>(gw.url, '/api/status');
  t.like(status.upstreams.mqtt, { state: 'connected', reconnects: 0, refused: 0 }, 'the broker never dropped the gateway');
});
