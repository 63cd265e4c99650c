// limits.spot_events_per_s: a spot over its rate is read more slowly and loses nothing, while another
// spot posting at the same time is served at once (docs/limits.md).
import test from 'ava';
import { api, JSON_EVENTS, postChunks, SpotConnection, startTestGateway, waitFor } from '../helpers/gateway.js';
import { metric } from '../helpers/raw-client.js';
import { jsonText, presence } from './events.js';

type Stored = Array<{ data: { item_code: string } }>;

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const codes = (ids: number[]): string[] => ids.map((i) => presence(i).data.item_code as string);

async function storedCodes(url: string, spot: number): Promise<string[]> {
  const { body } = await api<Stored>(url, `/api/events?spot=${spot}&limit=1000`);
  return body.map((e) => e.data.item_code);
}

test('a spot over its rate has its post read more slowly and every event stored; another spot posting meanwhile is answered first, whole', async (t) => {
  // 10 events a second, bursts of 10: spot 501's 100 events take at least 9 s to be read.
  const gw = await startTestGateway(t, { config: { limits: { spot_events_per_s: 10, spot_events_burst: 10 } } });
  const busy = new SpotConnection(gw.port);
  t.teardown(() => busy.close());
  await busy.startPost(501, { headers: { ...JSON_EVENTS, 'X-Spot-Boot': '1', 'X-Spot-Seq': '1' } });
  for (let chunk = 0; chunk < 10; chunk++) await busy.chunk(jsonText(range(chunk * 10, 10).map(presence)));
  await busy.endPost();
  let busyAnswered = false;
  const busyResponse = busy.response(60000).then((r) => {
    busyAnswered = true;
    return r;
  });
  await waitFor(async () => (metric((await api<string>(gw.url, '/metrics')).body, 'spot_gateway_spot_rate_pauses_total') ?? 0) >= 1, 10000, "spot 501's post paused");

  const other = await postChunks(gw.port, 502, [jsonText(range(1000, 10).map(presence))], { headers: JSON_EVENTS });
  t.is(other.status, 200);
  t.deepEqual(await storedCodes(gw.url, 502), codes(range(1000, 10)), 'the other spot: every event stored when it is answered');
  t.false(busyAnswered, 'the spot over its rate is still being read');
  t.true((await storedCodes(gw.url, 501)).length < 100);

  const answer = await busyResponse;
  t.is(answer.status, 200);
  t.deepEqual(await storedCodes(gw.url, 501), codes(range(0, 100)), 'nothing lost, in order');
  const { body: status } = await api<{ ingest: { postsCut: number } }>(gw.url, '/api/status');
  t.is(status.ingest.postsCut, 0, 'the pauses never count as the spot falling silent');
});

test('limits.spot_events_per_s 0: no pause however many events a spot sends', async (t) => {
  const gw = await startTestGateway(t, { config: { limits: { spot_events_per_s: 0, spot_events_burst: 1 } } });
  const res = await postChunks(gw.port, 503, range(0, 5).map((c) => jsonText(range(c * 50, 50).map(presence))), { headers: JSON_EVENTS });
  t.is(res.status, 200);
  t.is((await storedCodes(gw.url, 503)).length, 250);
  t.is(metric((await api<string>(gw.url, '/metrics')).body, 'spot_gateway_spot_rate_pauses_total'), 0);
});
