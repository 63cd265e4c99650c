// A post full of garbage over a real socket: it costs one record, keeps its events, and starves no other spot.
import test from 'ava';
import { createPbEncoder } from '../../gateway/src/protocol/index.js';
import { api, JSON_EVENTS, PB_EVENTS, postChunks, SpotConnection, startTestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

const PIECE = 64 * 1024;
const GARBAGE = 4 * 1024 * 1024;

interface ApiEvent {
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

test('a post of 4 MB garbage does not hold off a small post from another spot, and keeps the events around it', async (t) => {
  const gw = await startTestGateway(t);
  const big = new SpotConnection(gw.port);
  t.teardown(() => big.close());
  const encoder = createPbEncoder();
  await big.startPost(500, { headers: PB_EVENTS });
  await big.chunk(encoder.encode(presence(1)));

  // Zero bytes as PB: an empty frame per byte. The last piece waits for the small post's answer,
  // so the big post is still being read when the small one is answered.
  let smallAnswered: () => void = () => {};
  const answered = new Promise<void>((resolve) => (smallAnswered = resolve));
  const zeros = new Uint8Array(PIECE);
  const sending = (async () => {
    for (let sent = 0; sent < GARBAGE - PIECE; sent += PIECE) await big.chunk(zeros);
    await answered;
    await big.chunk(zeros);
    await big.chunk(encoder.encode(presence(3)));
    await big.endPost();
  })();

  const small = await postChunks(gw.port, 501, [jsonText([presence(2)])], { headers: JSON_EVENTS, timeoutMs: 30000 });
  smallAnswered();
  t.is(small.status, 200, 'the small post is answered while the big one is still being read');
  await sending;
  const res = await big.response(60000);
  t.is(res.status, 200);

  const { body: stored } = await api<ApiEvent[]>(gw.url, '/api/events?spot=500&limit=100');
  t.deepEqual(
    stored.map((e) => e.data['item_code']),
    [presence(1), presence(3)].map((e) => e.data['item_code']),
    'the event before the garbage and the one after it are stored',
  );
  const { body: spot } = await api<{ rejected: number; events: number }>(gw.url, '/api/spots/500');
  t.is(spot.rejected, GARBAGE, 'every empty frame is counted');
  const { body: rejected } = await api<Array<{ reason: string; rawBase64: string }>>(gw.url, '/api/rejected?spot=500&limit=1000');
  t.is(rejected.length, 1, 'the run of 4 MB garbage is one record');
  t.is(rejected[0]!.reason, `malformed frame: frame holds no event (first of ${GARBAGE} malformed messages in a row)`);
  t.is(Buffer.from(rejected[0]!.rawBase64, 'base64').length, 1024);
});
