// Two posts of one spot at the same time: each command goes out in exactly one reply (docs/api.md, "One reply at a time").
import test from 'ava';
import { CommandLeases } from '../../gateway/src/ingest/index.js';
import { WsSpot } from '../ws/ws-spot.js';
import { api, JSON_EVENTS, SpotConnection, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from './events.js';

interface ApiCommand {
  id: number;
  state: string;
}

// Ten commands of ~0.9 MB each: a reply of ~9 MB does not fit in the loopback socket buffers of a spot that
// does not read (a few MB), so the reply stays being written until the spot reads it.
const COMMANDS = 10;
const BIG_REPLIES = { commands: { max_reply_bytes: 16 * 1024 * 1024 } };

/** Straight into the store: commands this large are what keeps a reply in the writing (command-failed.test.ts). */
async function queueBigCommands(gw: TestGateway, serial: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const data = JSON.stringify({ control_schema: { note: `command ${i} `.padEnd(900_000, 'x') } });
    ids.push((await gw.running.store.commands.enqueue(String(serial), { resource: 'config', action: 'update', data, source: 'api' })).id);
  }
  return ids;
}

/** The commands in a JSON reply, by the note each carries. */
function notes(body: Buffer): string[] {
  return body
    .toString()
    .split('\n\n')
    .filter((part) => part.length > 0)
    .map((part) => (JSON.parse(part) as [string, string, { control_schema?: { note: string }; rfid_power_dbm?: number }])[2])
    .map((data) => (data.control_schema ? /^command \d+/.exec(data.control_schema.note)![0] : String(data.rfid_power_dbm)));
}

async function states(gw: TestGateway, serial: number): Promise<string[]> {
  const all: ApiCommand[] = [];
  for (let after = 0; ; ) {
    const page = (await api<ApiCommand[]>(gw.url, `/api/spots/${serial}/commands?after=${after}`)).body;
    if (page.length === 0) return all.map((c) => c.state);
    all.push(...page);
    after = page[page.length - 1]!.id;
  }
}

/** A chunked post whose body has started: one event sent, the end not yet. */
async function openPost(t: { teardown(fn: () => unknown): void }, gw: TestGateway, serial: number, n: number, paused = false): Promise<SpotConnection> {
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  if (paused) conn.socket.pause();
  await conn.startPost(serial, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(n)]));
  return conn;
}

async function answered(gw: TestGateway, serial: number, posts: number): Promise<void> {
  // The post is counted in the registry in the same tick as the reply is written (ingest-route.ts).
  await waitFor(async () => (await api<{ posts: number }>(gw.url, `/api/spots/${serial}`)).body.posts === posts || undefined, 10000, `post ${posts} to be answered`);
}

test('while a reply carrying a spot\'s commands is being written, a concurrent post of that spot carries none of them; the first delivers them once', async (t) => {
  const gw = await startTestGateway(t, { config: BIG_REPLIES });
  await queueBigCommands(gw, 81);
  const slow = await openPost(t, gw, 81, 1, true);
  const quick = await openPost(t, gw, 81, 2);
  await slow.endPost();
  await answered(gw, 81, 1);
  await quick.endPost();
  const second = await quick.response();
  t.is(second.status, 200);
  t.is(second.body.length, 0, 'the commands are in the reply being written, not in this one');

  slow.socket.resume();
  const first = await slow.response(30000);
  t.is(first.status, 200);
  t.deepEqual(notes(first.body), Array.from({ length: COMMANDS }, (_, i) => `command ${i}`));
  const delivered = await waitFor(async () => {
    const list = await states(gw, 81);
    return list.every((s) => s === 'delivered') ? list : undefined;
  }, 10000, 'the commands to be marked delivered');
  t.is(delivered.length, COMMANDS);
  const after = await quick.post(81, jsonText([presence(3)]), { headers: JSON_EVENTS });
  t.is(after.body.length, 0, 'not sent again');
});

test('a reply cut off gives its commands back: the next post carries them all, in order', async (t) => {
  const gw = await startTestGateway(t, { config: BIG_REPLIES });
  await queueBigCommands(gw, 82);
  const slow = await openPost(t, gw, 82, 1, true);
  await slow.endPost();
  await answered(gw, 82, 1);
  slow.close();
  await waitFor(async () => (await api<{ ingest: { commandRepliesCut: number } }>(gw.url, '/api/status')).body.ingest.commandRepliesCut === 1 || undefined, 10000, 'the cut reply to be counted');
  const next = await openPost(t, gw, 82, 2);
  await next.endPost();
  const reply = await next.response(30000);
  t.deepEqual(notes(reply.body), Array.from({ length: COMMANDS }, (_, i) => `command ${i}`));
});

test('a WebSocket of the spot waits behind a post\'s reply holding the commands; a command queued meanwhile reaches it once that reply is written', async (t) => {
  // Room in the spot's queue for one more command beside the ten big ones.
  const gw = await startTestGateway(t, { config: { commands: { ...BIG_REPLIES.commands, max_queued_bytes_per_spot: 16 * 1024 * 1024 } } });
  await queueBigCommands(gw, 84);
  const slow = await openPost(t, gw, 84, 1, true);
  await slow.endPost();
  await answered(gw, 84, 1);
  const spot = await WsSpot.open(gw.port, 84);
  t.teardown(() => spot.close());
  const queued = await api<{ id: number }>(gw.url, '/api/spots/84/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 7 } } });
  t.is(queued.status, 202);
  // The signal of that command ran before the 202 was answered: a message sent then would be in by a later round trip.
  await spot.send(jsonText([presence(2)]));
  await spot.waitAck(1);
  t.is(spot.binary.length, 0, 'nothing while the post\'s reply holds the spot\'s commands');

  slow.socket.resume();
  const first = await slow.response(30000);
  t.is(notes(first.body).length, COMMANDS);
  const [message] = await spot.waitBinary(1, 10000);
  t.deepEqual(notes(message!), ['7'], 'only the command queued after the post\'s reply was built');
  const all = await waitFor(async () => {
    const list = await states(gw, 84);
    return list.every((s) => s === 'delivered') ? list : undefined;
  }, 10000, 'every command to be marked delivered');
  t.is(all.length, COMMANDS + 1);
});

test('a spot that hangs up right after ending its post leaves its commands queued for its next reply', async (t) => {
  const gw = await startTestGateway(t);
  const queued = await api(gw.url, '/api/spots/85/commands', { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 9 } } });
  t.is(queued.status, 202);
  const gone = await openPost(t, gw, 85, 1);
  await gone.endPost();
  // A reset, not a FIN: the gateway sees the socket gone at once, usually before the post's append committed.
  gone.socket.resetAndDestroy();
  await answered(gw, 85, 1);
  const next = await openPost(t, gw, 85, 2);
  await next.endPost();
  const reply = await next.response();
  t.deepEqual(notes(reply.body), ['9']);
});

test('CommandLeases: a spot is held by one reply; only that reply\'s settling frees it, and a reply that went without is told', (t) => {
  const freed: string[] = [];
  const leases = new CommandLeases((serial) => freed.push(serial));
  t.true(leases.free('1'));
  leases.take('1', []);
  t.is(leases.size, 0, 'a reply without commands holds nothing');
  leases.take('1', [4, 5]);
  t.false(leases.free('1'));
  t.true(leases.free('2'), 'other spots are not held');
  leases.release('1', [4]);
  t.is(leases.size, 1, 'another reply\'s ids do not free it');
  leases.release('1', [4, 6]);
  t.is(leases.size, 1);
  leases.release('1', [4, 5]);
  t.is(leases.size, 0);
  t.deepEqual(freed, ['1']);
  leases.take('1', [6]);
  leases.release('1', [6]);
  t.deepEqual(freed, ['1'], 'nobody went without: nobody is told');
});
