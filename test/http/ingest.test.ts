// Spot posts over real sockets: chunking, encodings, many spots, numbering, rejects.
import test from 'ava';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, pbStream, presence, randomPieces, seeded, spotCreate } from './events.js';

interface ApiEvent {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

async function eventsOf(url: string, spot: number | string): Promise<ApiEvent[]> {
  const { body } = await api<ApiEvent[]>(url, `/api/events?spot=${spot}&limit=10000`);
  return body;
}

const triples = (events: Array<{ resource: string; action: string; data: Record<string, unknown> }>) =>
  events.map((e) => [e.resource, e.action, e.data]);

test('events split across chunks anywhere arrive whole and in order', async (t) => {
  const gw = await startTestGateway(t);
  const events = [spotCreate(4711), ...Array.from({ length: 30 }, (_, i) => presence(i))];
  const bytes = Buffer.from(jsonText(events));
  const oneByte = await postChunks(gw.port, 4711, randomPieces(bytes, 1, seeded(1)), { headers: JSON_EVENTS });
  t.is(oneByte.status, 200);
  const random = seeded(42);
  for (let round = 0; round < 5; round++) {
    const res = await postChunks(gw.port, 4711, randomPieces(bytes, 1 + round * 37, random), { headers: JSON_EVENTS });
    t.is(res.status, 200);
  }
  const stored = await eventsOf(gw.url, 4711);
  t.is(stored.length, events.length * 6);
  for (let round = 0; round < 6; round++) {
    t.deepEqual(triples(stored.slice(round * events.length, (round + 1) * events.length)), triples(events), `round ${round}`);
  }
});

test('many events in one chunk are all stored', async (t) => {
  const gw = await startTestGateway(t);
  const events = Array.from({ length: 800 }, (_, i) => presence(i));
  const res = await postChunks(gw.port, 17, [jsonText(events)], { headers: JSON_EVENTS });
  t.is(res.status, 200);
  t.is(res.body.length, 0, 'empty body when no command is queued');
  const stored = await eventsOf(gw.url, 17);
  t.deepEqual(triples(stored), triples(events));
  t.deepEqual(Object.keys(stored[0]!), ['id', 'spot', 'resource', 'action', 'data', 'time_received', 'forwarded']);
});

test('events are stored while the post is still open', async (t) => {
  const gw = await startTestGateway(t);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(5, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1), presence(2)]));
  const seen = await waitFor(async () => {
    const events = await eventsOf(gw.url, 5);
    return events.length === 2 ? events : undefined;
  }, 5000, 'the first events to be stored before the post ends');
  t.is(seen.length, 2);
  await conn.chunk(jsonText([presence(3)]));
  await conn.endPost();
  t.is((await conn.response()).status, 200);
  t.is((await eventsOf(gw.url, 5)).length, 3);
});

test('PB posts are decoded, split anywhere, with and without Content-Type', async (t) => {
  const gw = await startTestGateway(t);
  const events = [spotCreate(300), ...Array.from({ length: 40 }, (_, i) => presence(i))];
  const bytes = pbStream(events);
  const withType = await postChunks(gw.port, 300, randomPieces(bytes, 7, seeded(3)), { headers: PB_EVENTS });
  t.is(withType.status, 200);
  t.is(withType.headers['content-type'], 'application/x-intellifi-events-pb');
  const sniffed = await postChunks(gw.port, 301, randomPieces(bytes, 3, seeded(4)), { headers: {} });
  t.is(sniffed.status, 200);
  const jsonSniffed = await postChunks(gw.port, 302, randomPieces(Buffer.from(jsonText(events)), 5, seeded(5)), { headers: {} });
  t.is(jsonSniffed.status, 200);
  for (const serial of [300, 301, 302]) {
    const stored = await eventsOf(gw.url, serial);
    t.is(stored.length, events.length, `spot ${serial}`);
    t.deepEqual(stored.map((e) => e.data.item_code), events.map((e) => e.data.item_code), `spot ${serial}`);
    t.deepEqual(stored.map((e) => e.data.proximity), events.map((e) => e.data.proximity), `spot ${serial}`);
  }
});

test('many spots posting at once each keep their events in order', async (t) => {
  const gw = await startTestGateway(t);
  const spots = Array.from({ length: 40 }, (_, i) => 1000 + i);
  const perSpot = 60;
  await Promise.all(
    spots.map(async (serial, n) => {
      const events = Array.from({ length: perSpot }, (_, i) => presence(serial * 1000 + i));
      const random = seeded(serial);
      for (const half of [events.slice(0, perSpot / 2), events.slice(perSpot / 2)]) {
        const res = await postChunks(gw.port, serial, randomPieces(Buffer.from(n % 2 ? jsonText(half) : pbStream(half)), 200, random), {
          headers: n % 2 ? JSON_EVENTS : PB_EVENTS,
        });
        if (res.status !== 200) throw new Error(`spot ${serial}: ${res.status} ${res.body.toString()}`);
      }
    }),
  );
  for (const serial of spots) {
    const stored = await eventsOf(gw.url, serial);
    t.deepEqual(
      stored.map((e) => e.data.item_code),
      Array.from({ length: perSpot }, (_, i) => presence(serial * 1000 + i).data.item_code),
      `spot ${serial}`,
    );
  }
  const { body: spotList } = await api<Array<{ serial: string; posts: number; events: number; online: boolean }>>(gw.url, '/api/spots');
  t.is(spotList.length, spots.length);
  t.true(spotList.every((s) => s.posts === 2 && s.events === perSpot && s.online));
});

test('malformed events are kept in rejected and the valid ones around them are stored', async (t) => {
  const gw = await startTestGateway(t);
  const text =
    jsonText([presence(1)]) +
    '["presence","create",{"item_code": oops}]\n\n' +
    jsonText([presence(2)]) +
    '["only","two"]\n\n' +
    jsonText([presence(3)]);
  const res = await postChunks(gw.port, 77, randomPieces(Buffer.from(text), 11, seeded(7)), { headers: JSON_EVENTS });
  t.is(res.status, 200);
  t.deepEqual((await eventsOf(gw.url, 77)).map((e) => e.data.item_code), [1, 2, 3].map((i) => presence(i).data.item_code));
  const { body: rejected } = await api<Array<{ spot: string; reason: string; rawText: string }>>(gw.url, '/api/rejected?spot=77');
  t.is(rejected.length, 2);
  t.true(rejected.every((r) => r.spot === '77' && r.reason.length > 0));
  t.true(rejected.some((r) => r.rawText.includes('oops') && /JSON/i.test(r.reason)), JSON.stringify(rejected));
  const { body: spot } = await api<{ rejected: number }>(gw.url, '/api/spots/77');
  t.is(spot.rejected, 2);
});

test('registry keeps firmware version, spot create and config as last reported', async (t) => {
  const gw = await startTestGateway(t);
  const events = [
    spotCreate(88),
    { resource: 'config', action: 'create', data: { rfid_power_dbm: 27, send_hits: false, vendor_key: 'x' } },
    { resource: 'config', action: 'update', data: { rfid_power_dbm: 20 } },
  ];
  const res = await postChunks(gw.port, 88, [jsonText(events)], { headers: { ...JSON_EVENTS, 'User-Agent': 'spot/2.3.1' } });
  t.is(res.status, 200);
  const { body: spot } = await api<Record<string, unknown>>(gw.url, '/api/spots/88');
  t.is(spot.firmwareVersion, '2.3.1');
  t.deepEqual(spot.spotCreate, spotCreate(88).data);
  t.deepEqual(spot.configCreate, events[1]!.data);
  t.deepEqual(spot.config, { rfid_power_dbm: 20, send_hits: false, vendor_key: 'x' });
});

test('a retransmitted post with X-Spot-Boot/Seq is not stored twice', async (t) => {
  const gw = await startTestGateway(t);
  const first = Array.from({ length: 10 }, (_, i) => presence(i));
  const numbered = (seq: number) => ({ ...JSON_EVENTS, 'X-Spot-Boot': '12', 'X-Spot-Seq': String(seq) });
  t.is((await postChunks(gw.port, 55, [jsonText(first)], { headers: numbered(1) })).status, 200);
  // The spot got no 200 (say), so it sends events 1..10 again plus 11..15.
  const again = [...first, ...Array.from({ length: 5 }, (_, i) => presence(10 + i))];
  t.is((await postChunks(gw.port, 55, [jsonText(again)], { headers: numbered(1) })).status, 200);
  const stored = await eventsOf(gw.url, 55);
  t.deepEqual(stored.map((e) => e.data.item_code), again.map((e) => e.data.item_code));
  const { body: spot } = await api<{ duplicates: number; events: number }>(gw.url, '/api/spots/55');
  t.is(spot.duplicates, 10);
  t.is(spot.events, 15);
  // A new boot starts a fresh count: seq 1 again is new.
  t.is((await postChunks(gw.port, 55, [jsonText([presence(99)])], { headers: { ...JSON_EVENTS, 'X-Spot-Boot': '13', 'X-Spot-Seq': '1' } })).status, 200);
  t.is((await eventsOf(gw.url, 55)).length, 16);
});

test('bad numbering headers are refused with the reason', async (t) => {
  const gw = await startTestGateway(t);
  const res = await postChunks(gw.port, 56, [jsonText([presence(1)])], { headers: { ...JSON_EVENTS, 'X-Spot-Boot': 'x', 'X-Spot-Seq': '1' } });
  t.is(res.status, 400);
  t.regex(JSON.parse(res.body.toString()).reason, /X-Spot-Boot/);
  t.is((await eventsOf(gw.url, 56)).length, 0);
});

test('a plain Content-Length post without the trailing slash works too', async (t) => {
  const gw = await startTestGateway(t);
  const res = await fetch(`${gw.url}/api/spots/90/events?x=1`, {
    method: 'POST',
    headers: { 'content-type': 'text/x-intellifi-events', 'user-agent': 'spot/3.0.0' },
    body: jsonText([presence(1), presence(2)]),
    signal: AbortSignal.timeout(5000),
  });
  t.is(res.status, 200);
  t.is((await res.text()).length, 0);
  t.is((await eventsOf(gw.url, 90)).length, 2);
  const get = await fetch(`${gw.url}/api/spots/90/events/`, { signal: AbortSignal.timeout(5000) });
  t.is(get.status, 405);
});
