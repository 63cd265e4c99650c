// Spot WebSocket when things go wrong: a full buffer (1011), a spot that does not answer the close of a stop.
import test from 'ava';
import { api, startTestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

const events = (n: number, from = 0): ReturnType<typeof presence>[] => Array.from({ length: n }, (_, i) => presence(from + i));

test('a full buffer under policy reject: an error naming it, then 1011; nothing past the last ack is acknowledged', async (t) => {
  const gw = await startTestGateway(t, { config: { buffer: { max_mb: 0.3, policy: 'reject' } } });
  const spot = await WsSpot.open(gw.port, 71, { headers: { 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  for (let m = 0; m < 60 && spot.closeCode === null; m++) {
    await spot.send(jsonText(events(100, m * 100))).catch(() => undefined);
    await Promise.race([spot.waitAck((m + 1) * 100).catch(() => undefined), spot.closed]);
  }
  t.is(await spot.waitClose(), 1011);
  t.is(spot.closeReason, 'store unavailable');
  t.is(spot.errors[0]?.error, 'store unavailable');
  t.regex(spot.errors[0]?.reason ?? '', /^spot 71: .*full/);
  const acked = spot.acks.at(-1)?.events ?? 0;
  const { body: stored } = await api<unknown[]>(gw.url, '/api/events?spot=71&limit=10000');
  t.true(stored.length >= acked, `${stored.length} stored, ${acked} acknowledged`);
});

test('a spot that does not read the close of a stop is cut when the grace runs out', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, 72);
  t.teardown(() => spot.close());
  await spot.send(jsonText(events(2)));
  await spot.waitAck(2);
  spot.ws.pause();
  const started = performance.now();
  await gw.stop();
  t.true(performance.now() - started >= 1900, 'the stop waited for the grace');
  // The close frame was sent before the cut: the spot reads it once it reads again.
  spot.ws.resume();
  t.is(await spot.waitClose(), 1001);
});
