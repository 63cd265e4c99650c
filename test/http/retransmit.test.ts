// A spot retransmitting a post it got no 200 for: every event reaches the broker once, the retransmissions are counted.
import test from 'ava';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { startConsumer, type Received } from '../upstream/consumer.js';
import { jsonText, pbStream, presence } from './events.js';

interface Status {
  ingest: { eventsStored: number };
  upstreams: { mqtt: { lag: number; state: string } };
}

/** item_code -> how many messages carried it, from the JSON topics of one spot. */
function countByCode(messages: Received[], serial: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (!m.topic.startsWith(`from/${serial}/json/`)) continue;
    const code = String(JSON.parse(m.payload.toString()).item_code);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return counts;
}

for (const encoding of ['json', 'pb'] as const) {
  test(`${encoding}: a post cut after part of it was committed, then sent again whole with the same numbering: each event upstream once`, async (t) => {
    const broker = await startMosquitto({ t });
    const consumer = await startConsumer(broker.url, ['from/#'], t);
    const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
    const serial = encoding === 'json' ? '81' : '82';
    const events = Array.from({ length: 40 }, (_, i) => presence(Number(serial) * 1000 + i));
    const headers = { ...(encoding === 'json' ? JSON_EVENTS : PB_EVENTS), 'X-Spot-Boot': '7', 'X-Spot-Seq': '101' };
    const body = (list: typeof events) => (encoding === 'json' ? Buffer.from(jsonText(list)) : pbStream(list));

    // First attempt: half of the events arrive and are committed, then the connection drops before the end.
    const cut = new SpotConnection(gw.port);
    t.teardown(() => cut.close());
    await cut.startPost(serial, { headers });
    for (let i = 0; i < 20; i += 5) await cut.chunk(body(events.slice(i, i + 5)));
    await waitFor(async () => (await api<Status>(gw.url, '/api/status')).body.ingest.eventsStored === 20 || undefined, 10000, 'the first 20 events to be committed');
    cut.close();
    await cut.closedByServer(5000);

    // The spot got no 200, so it sends the whole post again, on a new connection, numbered as before.
    const again = await postChunks(gw.port, serial, [body(events)], { headers });
    t.is(again.status, 200);

    const codes = events.map((e) => String(e.data.item_code));
    await consumer.waitFor((m) => countByCode(m, serial).size === codes.length, 15000, `all ${codes.length} events of spot ${serial}`);
    await waitFor(async () => (await api<Status>(gw.url, '/api/status')).body.upstreams.mqtt.lag === 0 || undefined, 10000, 'the upstream to have no lag');
    const counts = countByCode(consumer.messages, serial);
    t.deepEqual(
      codes.filter((c) => counts.get(c) !== 1),
      [],
      'every event arrived exactly once',
    );
    t.deepEqual(
      consumer.messages.filter((m) => m.topic.startsWith(`from/${serial}/json/`)).map((m) => String(JSON.parse(m.payload.toString()).item_code)),
      codes,
      'in the order the spot numbered them',
    );
    const { body: spot } = await api<{ events: number; duplicates: number }>(gw.url, `/api/spots/${serial}`);
    t.is(spot.duplicates, 20, 'the 20 events committed before the cut were recognised as retransmissions');
    t.is(spot.events, 40);
    const { body: status } = await api<{ ingest: { duplicates: number; eventsStored: number } }>(gw.url, '/api/status');
    t.deepEqual([status.ingest.duplicates, status.ingest.eventsStored], [20, 40]);
  });
}
