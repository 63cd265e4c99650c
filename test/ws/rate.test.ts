// limits.spot_events_per_s over WebSocket: a spot over its rate is read more slowly, loses nothing and
// is not closed, while another spot is served at once (docs/limits.md, docs/websocket.md).
import test from 'ava';
import { api, JSON_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { metric } from '../helpers/raw-client.js';
import { jsonText, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const codes = (ids: number[]): string[] => ids.map((i) => presence(i).data.item_code as string);

async function storedCodes(url: string, spot: number): Promise<string[]> {
  return (await api<Array<{ data: { item_code: string } }>>(url, `/api/events?spot=${spot}&limit=1000`)).body.map((e) => e.data.item_code);
}

test('a WebSocket spot over its rate is read more slowly: acknowledged in the end, nothing lost, not closed; another spot is served meanwhile', async (t) => {
  // 10 events a second, bursts of 10: 60 events take at least 5 s to be read.
  const gw = await startTestGateway(t, { config: { limits: { spot_events_per_s: 10, spot_events_burst: 10 } } });
  const spot = await WsSpot.open(gw.port, 601, { headers: { 'X-Spot-Boot': '3', 'X-Spot-Seq': '1' } });
  t.teardown(() => spot.close());
  for (let m = 0; m < 6; m++) await spot.send(jsonText(range(m * 10, 10).map(presence)));
  await waitFor(async () => (metric((await api<string>(gw.url, '/metrics')).body, 'spot_gateway_spot_rate_pauses_total') ?? 0) >= 1, 10000, "spot 601's WebSocket paused");

  const other = await postChunks(gw.port, 602, [jsonText(range(1000, 10).map(presence))], { headers: JSON_EVENTS });
  t.is(other.status, 200);
  t.deepEqual(await storedCodes(gw.url, 602), codes(range(1000, 10)), 'the other spot: every event stored when it is answered');
  t.true(Math.max(0, ...spot.acks.map((a) => a.events)) < 60, 'the spot over its rate is still being read');

  t.deepEqual(await spot.waitAck(60, 30000), { events: 60, boot: 3, seq: 60 });
  t.deepEqual(await storedCodes(gw.url, 601), codes(range(0, 60)), 'nothing lost, in order');
  t.is(spot.closeCode, null, 'the connection stays open');
});
