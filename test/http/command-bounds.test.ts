// Commands are bounded: one command, a spot's queue (count and bytes), one reply, one page of the listing.
import test from 'ava';
import { createPbDecoder } from '../../gateway/src/protocol/index.js';
import { api, JSON_EVENTS, PB_EVENTS, SpotConnection, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

interface ApiCommand {
  id: number;
  state: string;
  data: Record<string, unknown>;
  size: number;
}
type ApiError = { error: string; reason: string };

/** A valid config update whose JSON message ["config","update",{...}] is exactly `bytes` long. */
function commandOf(bytes: number, tag: string): { resource: string; action: string; data: Record<string, unknown> } {
  const data = { control_schema: { n: tag, pad: '' } };
  const pad = bytes - Buffer.byteLength(JSON.stringify(['config', 'update', data]));
  if (pad < 0) throw new Error(`a command of ${bytes} bytes cannot hold tag ${tag}`);
  data.control_schema.pad = 'x'.repeat(pad);
  return { resource: 'config', action: 'update', data };
}

async function queue(gw: TestGateway, serial: number, body: unknown): Promise<{ status: number; body: ApiError & { id: number } }> {
  return api<ApiError & { id: number }>(gw.url, `/api/spots/${serial}/commands`, { body });
}

/** One post of one event on `conn`; the response. */
async function post(conn: SpotConnection, serial: number, n: number, headers = JSON_EVENTS) {
  const res = await conn.post(serial, jsonText([presence(n)]), { headers });
  if (res.status !== 200) throw new Error(`post ${n}: ${res.status} ${res.body.toString()}`);
  return res;
}

/** The tags of the commands in a JSON reply body, in order. */
function tagsIn(body: Buffer): string[] {
  return body
    .toString()
    .split('\n\n')
    .filter((part) => part.length > 0)
    .map((part) => ((JSON.parse(part) as [string, string, { control_schema: { n: string } }])[2].control_schema.n));
}

test('a command over commands.max_bytes is refused 413 naming its size and the limit, and is not queued', async (t) => {
  const gw = await startTestGateway(t);
  const huge = await queue(gw, 5, { resource: 'config', action: 'update', data: { hostname: 'h'.repeat(100_000) } });
  t.is(huge.status, 413);
  t.is(huge.body.error, 'payload too large');
  t.is(huge.body.reason, "spot 5: command of 100035 bytes is over the limit of 65536 bytes (commands.max_bytes, a spot's message limit)");

  const small = await startTestGateway(t, { config: { commands: { max_bytes: 256 } } });
  const valid = await queue(small, 5, commandOf(257, 'a'));
  t.is(valid.status, 413, 'a valid command is refused by its size too');
  t.regex(valid.body.reason, /^spot 5: command of 257 bytes is over the limit of 256 bytes/);
  t.is((await queue(small, 5, commandOf(256, 'b'))).status, 202, 'exactly at the limit is accepted');
  const { body: listed } = await api<ApiCommand[]>(small.url, '/api/spots/5/commands');
  t.deepEqual(listed.map((c) => [(c.data.control_schema as { n: string }).n, c.size]), [['b', 256]]);
  t.is((await api<ApiCommand[]>(gw.url, '/api/spots/5/commands')).body.length, 0);
});

test("a spot's queue full by count answers 429 with the reason; the spot's posts make room; other spots are not affected", async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_queued_per_spot: 3 } } });
  const command = { resource: 'config', action: 'update', data: { rfid_power_dbm: 20 } };
  for (let i = 0; i < 3; i++) t.is((await queue(gw, 6, command)).status, 202);
  const full = await queue(gw, 6, command);
  t.is(full.status, 429);
  t.is(full.body.error, 'too many requests');
  t.is(full.body.reason, 'spot 6: queue full: 3 commands waiting, the limit (commands.max_queued_per_spot); they leave as the spot posts or expire');
  t.is((await queue(gw, 7, command)).status, 202, 'another spot has its own queue');
  const { body: listed } = await api<ApiCommand[]>(gw.url, '/api/spots/6/commands');
  t.is(listed.length, 3, 'the refused command was not queued');

  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await post(conn, 6, 1);
  // Marked delivered once the reply is written out.
  await waitFor(async () => (await api<ApiCommand[]>(gw.url, '/api/spots/6/commands')).body.every((c) => c.state === 'delivered'), 5000, 'the 3 commands to be delivered');
  t.is((await queue(gw, 6, command)).status, 202, 'room again once the queued commands were delivered');
});

test("a spot's queue full by bytes answers 429 naming the bytes waiting and the limit", async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_bytes: 256, max_queued_bytes_per_spot: 1000 } } });
  for (let i = 0; i < 4; i++) t.is((await queue(gw, 8, commandOf(250, `c${i}`))).status, 202, `command ${i}: 4 x 250 = 1000 bytes fit`);
  const full = await queue(gw, 8, commandOf(250, 'c4'));
  t.is(full.status, 429);
  t.is(full.body.reason, "spot 8: queue full: 1000 bytes of commands waiting, and this one's 250 would pass the limit of 1000 bytes (commands.max_queued_bytes_per_spot)");
  t.is((await api<ApiCommand[]>(gw.url, '/api/spots/8/commands')).body.length, 4);
});

test('a reply never carries more than commands.max_reply_bytes; the other commands arrive in the next posts, in order, once each', async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_bytes: 256, max_reply_bytes: 600 } } });
  const tags = Array.from({ length: 7 }, (_, i) => `c${i}`);
  for (const tag of tags) t.is((await queue(gw, 9, commandOf(250, tag))).status, 202);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const received: string[][] = [];
  for (let n = 1; n <= 6 && received.flat().length < tags.length; n++) {
    const res = await post(conn, 9, n);
    t.true(res.body.length <= 600, `reply ${n} is ${res.body.length} bytes`);
    received.push(tagsIn(res.body));
  }
  // 250 bytes + the blank line each: two fit in 600 bytes, a third would not.
  t.deepEqual(received, [['c0', 'c1'], ['c2', 'c3'], ['c4', 'c5'], ['c6']]);
  t.is((await post(conn, 9, 7)).body.length, 0, 'nothing is sent twice');
});

test('a PB reply is bounded the same way and keeps the order', async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_bytes: 256, max_reply_bytes: 600 } } });
  for (let i = 0; i < 5; i++) t.is((await queue(gw, 10, commandOf(250, `p${i}`))).status, 202);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const received: string[] = [];
  for (let n = 1; n <= 5 && received.length < 5; n++) {
    const res = await conn.post(10, Buffer.alloc(0), { headers: PB_EVENTS });
    t.is(res.status, 200);
    t.true(res.body.length <= 600, `reply ${n} is ${res.body.length} bytes`);
    const items = [...createPbDecoder().push(res.body)];
    t.true(items.length >= 1, `reply ${n} carries at least one command`);
    for (const item of items) if (item.kind === 'event') received.push((item.event.data.control_schema as { n: string }).n);
  }
  t.deepEqual(received, ['p0', 'p1', 'p2', 'p3', 'p4']);
});

test('a command queued larger than any reply may be is failed, not sent, and does not hold up the ones after it', async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_bytes: 256, max_reply_bytes: 600 } } });
  // As an older gateway without the bound could have queued it.
  const big = await gw.running.store.commands.enqueue('11', { resource: 'config', action: 'update', data: JSON.stringify({ control_schema: { n: 'big', pad: 'x'.repeat(5000) } }), source: 'api' });
  t.is((await queue(gw, 11, commandOf(250, 'after'))).status, 202);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const res = await post(conn, 11, 1);
  t.deepEqual(tagsIn(res.body), ['after']);
  t.is(gw.running.store.commands.get(big.id)?.state, 'failed');
  const { body: status } = await api<{ ingest: { commandsFailed: number } }>(gw.url, '/api/status');
  t.is(status.ingest.commandsFailed, 1);
});

test('the listing pages through every command with after (id order) and with before (newest first); a page is bounded', async (t) => {
  const gw = await startTestGateway(t);
  const ids: number[] = [];
  for (let i = 0; i < 25; i++) ids.push((await queue(gw, 12, { resource: 'brain_sense', action: 'update', data: { bs1: i } })).body.id);

  const up: number[] = [];
  const pages: number[] = [];
  for (let after = 0; ; ) {
    const { status, body } = await api<ApiCommand[]>(gw.url, `/api/spots/12/commands?limit=10&after=${after}`);
    t.is(status, 200);
    if (body.length === 0) break;
    pages.push(body.length);
    up.push(...body.map((c) => c.id));
    after = body[body.length - 1]!.id;
    if (pages.length > 5) break;
  }
  t.deepEqual(pages, [10, 10, 5]);
  t.deepEqual(up, ids, 'every command once, in id order');

  const down: number[] = [];
  for (let before: number | null = null; ; ) {
    const { body }: { body: ApiCommand[] } = await api<ApiCommand[]>(gw.url, `/api/spots/12/commands?limit=10${before === null ? '' : `&before=${before}`}`);
    if (body.length === 0 || down.length > 30) break;
    down.push(...body.map((c) => c.id));
    before = body[body.length - 1]!.id;
  }
  t.deepEqual(down, [...ids].reverse(), 'newest first without a cursor, then down with before');

  const tooMany = await api<ApiError>(gw.url, '/api/spots/12/commands?limit=1001');
  t.is(tooMany.status, 400);
  t.is(tooMany.body.reason, 'limit 1001 is out of range 1..1000');
  const both = await api<ApiError>(gw.url, '/api/spots/12/commands?after=1&before=9');
  t.is(both.status, 400);
  t.regex(both.body.reason, /^after and before: give one of them/);
});

test('connections beyond http.max_connections are closed at once, so open posts and their replies are bounded', async (t) => {
  const gw = await startTestGateway(t, { config: { http: { max_connections: 2 } } });
  const open = [new SpotConnection(gw.port), new SpotConnection(gw.port)];
  t.teardown(() => open.forEach((c) => c.close()));
  for (const [i, conn] of open.entries()) await conn.startPost(20 + i, { headers: JSON_EVENTS });
  const third = new SpotConnection(gw.port);
  t.teardown(() => third.close());
  await third.closedByServer(5000);
  for (const [i, conn] of open.entries()) {
    await conn.chunk(jsonText([presence(i)]));
    await conn.endPost();
    t.is((await conn.response()).status, 200, `post ${i} on an admitted connection`);
  }
});
