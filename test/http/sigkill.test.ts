// Acknowledged = on disk: SIGKILL of the gateway child in the middle of posts loses no acknowledged event.
import test from 'ava';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, SpotConnection, spawnGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { firstSeen, idsBySpot, startConsumer } from '../upstream/consumer.js';
import { jsonText, presence } from './events.js';

/** Posts batches on one keep-alive connection until the gateway goes away; the acknowledged item codes go into `acked`. */
async function postUntilGone(port: number, serial: string, acked: string[]): Promise<string[]> {
  const conn = new SpotConnection(port);
  let n = 0;
  try {
    for (;;) {
      const events = Array.from({ length: 25 }, () => presence(Number(serial) * 1000000 + n++));
      await conn.startPost(serial, { headers: JSON_EVENTS });
      for (let i = 0; i < events.length; i += 5) await conn.chunk(jsonText(events.slice(i, i + 5)));
      await conn.endPost();
      const res = await conn.response(5000);
      if (res.status !== 200) return acked;
      acked.push(...events.map((e) => String(e.data.item_code)));
    }
  } catch {
    return acked;
  } finally {
    conn.close();
  }
}

// buffer.forward after-commit hands events to the broker before their fsync: a SIGKILL (unlike a
// power loss) loses nothing committed, and the same holds; the restart moves event ids on.
for (const forward of ['after-sync', 'after-commit']) {
test(`acknowledged events survive SIGKILL and reach the broker after restart, redeliveries with the same event_id (${forward})`, async (t) => {
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const dataDir = tempDir(t);
  const env = { SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_MQTT_URL: broker.url, SPOT_GATEWAY_LOG_LEVEL: 'warn', SPOT_GATEWAY_BUFFER_FORWARD: forward };
  const first = await spawnGateway(t, { env });
  const spots = ['61', '62', '63', '64'];
  const sofar = spots.map((): string[] => []);
  const posting = spots.map((serial, i) => postUntilGone(first.port, serial, sofar[i]!));
  // Killed in the middle of the traffic, once every spot had 20 posts (500 events) acknowledged.
  await waitFor(() => sofar.every((codes) => codes.length >= 500), 15000, () => `500 events acknowledged per spot (so far: ${sofar.map((c) => c.length).join(', ')})`);
  await first.kill('SIGKILL');
  const acked = await Promise.all(posting);
  t.true(acked.every((codes) => codes.length > 0), 'every spot had posts acknowledged before the kill');

  const killedAt = Date.now();
  const second = await spawnGateway(t, { env });
  const lastOf = (i: number) => acked[i]!.at(-1)!;
  await consumer.waitFor(
    (m) => spots.every((s, i) => m.some((x) => x.topic.startsWith(`from/${s}/json/`) && x.payload.toString().includes(lastOf(i)))),
    30000,
    'the last acknowledged event of every spot',
  );
  t.log(`restart and catch-up took ${Date.now() - killedAt} ms`);
  const payloadOf = new Map<string, string>();
  for (const m of consumer.messages) {
    const before = payloadOf.get(m.eventId!);
    if (before !== undefined) t.is(m.payload.toString(), before, `redelivery of ${m.eventId} carries the same event`);
    payloadOf.set(m.eventId!, m.payload.toString());
  }
  const codeOf = new Map<string, string>();
  for (const m of consumer.messages) {
    const match = /^from\/(\d+)\/json\//.exec(m.topic);
    if (match) codeOf.set(`${match[1]}:${m.eventId!.split(':').pop()}`, String(JSON.parse(m.payload.toString()).item_code));
  }
  const bySpot = idsBySpot(consumer.messages);
  spots.forEach((serial, i) => {
    const codes = firstSeen(bySpot.get(serial)!).map((id) => codeOf.get(`${serial}:${id}`));
    t.deepEqual(codes.slice(0, acked[i]!.length), acked[i], `spot ${serial}: acknowledged events all delivered, in order`);
  });
  // Everything the restarted gateway found on disk went upstream, and none of it was dropped by the cap.
  const status = await waitFor(async () => {
    const { body } = await api<{ buffer: { dropped: number }; upstreams: { mqtt: { lag: number } } }>(second.url, '/api/status');
    return body.upstreams.mqtt.lag === 0 ? body : undefined;
  }, 10000, 'the restarted gateway to have no upstream lag');
  t.is(status.buffer.dropped, 0);
  t.log(`acknowledged before SIGKILL: ${acked.map((a) => a.length).join(', ')}; messages ${consumer.messages.length}`);
  t.is(await second.kill('SIGTERM'), 0);
});
}
