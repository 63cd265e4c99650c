// Commands whose reply is cut off before it is written out: queued for the next post, failed after 3 such replies.
import test from 'ava';
import { SpotIngest } from '../../gateway/src/ingest/index.js';
import { silentLogger } from '../../gateway/src/log.js';
import { openStore } from '../../gateway/src/store/index.js';
import type http from 'node:http';
import { api, JSON_EVENTS, SpotConnection, startTestGateway, tempDir, waitFor, within, type TestGateway } from '../helpers/gateway.js';
import { heldStore, startIngestServer } from '../helpers/ingest-server.js';
import { jsonText, presence } from './events.js';

interface ApiCommand {
  id: number;
  state: string;
  timeDelivered: number | null;
  timeFailed: number | null;
}

// Ten commands of ~0.9 MB each: a reply of ~9 MB does not fit in the loopback socket buffers of a spot that
// does not read (a few MB), so hanging up leaves the reply unwritten.
const COMMANDS = 10;
/** Replies large enough to carry all ten at once. */
const BIG_REPLIES = { commands: { max_reply_bytes: 16 * 1024 * 1024 } };
const blob = (i: number) => ({ control_schema: { note: `command ${i} `.padEnd(900_000, 'x') } });

/**
 * Straight into the store: no command the API accepts is this large (a spot holds at most 255 bytes of
 * control_schema), but commands queued by an older gateway can be, and they are what a reply cut off needs.
 */
async function queueBigCommands(gw: TestGateway, serial: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const command = { resource: 'config', action: 'update', data: JSON.stringify(blob(i)), source: 'api' };
    ids.push((await gw.running.store.commands.enqueue(String(serial), command)).id);
  }
  return ids;
}

/** Every command of the spot, paged (a page ends after about 1 MiB of commands). */
async function states(gw: TestGateway, serial: number): Promise<ApiCommand[]> {
  const all: ApiCommand[] = [];
  for (let after = 0; all.length <= COMMANDS; ) {
    const page = (await api<ApiCommand[]>(gw.url, `/api/spots/${serial}/commands?after=${after}`)).body;
    if (page.length === 0) break;
    all.push(...page);
    after = page[page.length - 1]!.id;
  }
  return all;
}

/** A post whose spot reads nothing of the reply and hangs up once the gateway has started writing it. */
async function postAndHangUp(gw: TestGateway, serial: number, n: number): Promise<void> {
  const conn = new SpotConnection(gw.port);
  conn.socket.pause();
  await conn.startPost(serial, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(n)]));
  await conn.endPost();
  // The post is counted in the registry in the same tick as the reply is written (ingest-route.ts).
  await waitFor(async () => (await api<{ posts: number }>(gw.url, `/api/spots/${serial}`)).body.posts === n || undefined, 10000, `post ${n} to be answered`);
  conn.close();
}

/** The gateway noticed n cut-off replies (it sees a hang-up asynchronously). */
async function repliesCut(gw: TestGateway, n: number): Promise<void> {
  await waitFor(async () => (await api<{ ingest: { commandRepliesCut: number } }>(gw.url, '/api/status')).body.ingest.commandRepliesCut === n || undefined, 10000, `${n} cut-off replies to be counted`);
}

test('a reply cut off before it is written 3 times makes its commands failed, with time_failed; they are not sent again', async (t) => {
  const gw = await startTestGateway(t, { config: BIG_REPLIES });
  const ids = await queueBigCommands(gw, 70);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await postAndHangUp(gw, 70, attempt);
    if (attempt < 3) {
      await repliesCut(gw, attempt);
      t.true((await states(gw, 70)).every((c) => c.state === 'queued'), `still queued after ${attempt} cut-off replies`);
    }
  }
  const failed = await waitFor(async () => {
    const list = await states(gw, 70);
    return list.every((c) => c.state === 'failed') ? list : undefined;
  }, 10000, 'the commands to be marked failed');
  t.deepEqual(failed.map((c) => c.id).sort((a, b) => a - b), ids);
  t.true(failed.every((c) => typeof c.timeFailed === 'number' && c.timeDelivered === null));
  const { body: status } = await api<{ ingest: { commandRepliesCut: number; commandsFailed: number; commandsDelivered: number } }>(gw.url, '/api/status');
  t.deepEqual([status.ingest.commandRepliesCut, status.ingest.commandsFailed, status.ingest.commandsDelivered], [3, COMMANDS, 0]);
  const metrics = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  t.regex(metrics, new RegExp(`^spot_gateway_commands_failed_total ${COMMANDS}$`, 'm'));
  t.regex(metrics, /^spot_gateway_command_replies_cut_total 3$/m);

  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const next = await conn.post(70, jsonText([presence(9)]), { headers: JSON_EVENTS });
  t.is(next.status, 200);
  t.is(next.body.length, 0, 'failed commands are not sent again');
});

test('after 2 cut-off replies the commands are still queued and the next whole reply delivers them', async (t) => {
  const gw = await startTestGateway(t, { config: BIG_REPLIES });
  const ids = await queueBigCommands(gw, 71);
  await postAndHangUp(gw, 71, 1);
  await postAndHangUp(gw, 71, 2);
  await repliesCut(gw, 2);
  t.true((await states(gw, 71)).every((c) => c.state === 'queued'), 'still queued after 2 cut-off replies');
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  await conn.startPost(71, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(3)]));
  await conn.endPost();
  const whole = await conn.response(30000);
  t.is(whole.status, 200);
  const commands = whole.body
    .toString()
    .split('\n\n')
    .filter((part) => part.length > 0)
    .map((part) => JSON.parse(part) as [string, string, { control_schema: { note: string } }]);
  t.deepEqual(
    commands.map(([r, a, d]) => [r, a, d.control_schema.note.slice(0, 12)]),
    ids.map((_, i) => ['config', 'update', `command ${i} `.padEnd(12, 'x')]),
  );
  const delivered = await waitFor(async () => {
    const list = await states(gw, 71);
    return list.every((c) => c.state === 'delivered') ? list : undefined;
  }, 10000, 'the commands to be marked delivered');
  t.true(delivered.every((c) => c.timeFailed === null && typeof c.timeDelivered === 'number'));
});

test('a spot that never reads its reply has the connection closed after http.idle_timeout_ms; the commands stay queued', async (t) => {
  const gw = await startTestGateway(t, { config: { ...BIG_REPLIES, http: { idle_timeout_ms: 300 } } });
  const ids = await queueBigCommands(gw, 72);
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  conn.socket.pause();
  await conn.startPost(72, { headers: JSON_EVENTS });
  await conn.chunk(jsonText([presence(1)]));
  await conn.endPost();
  await repliesCut(gw, 1);
  conn.socket.resume(); // a paused socket does not notice the close
  await conn.closedByServer();
  t.true((await states(gw, 72)).every((c) => c.state === 'queued' && ids.includes(c.id)), 'still queued, for the next post');
});

test('SpotIngest alone: cut-off replies count per command in the store, the Nth marks it failed, a delivered one is done', async (t) => {
  const store = openStore({ dataDir: tempDir(t), now: () => 5 });
  t.teardown(() => store.close());
  const ids = (await Promise.all([1, 2, 3].map((i) => store.commands.enqueue('4', { resource: 'config', action: 'update', data: `{"n":${i}}`, source: 'api' })))).map((c) => c.id);
  const [c1, c2, c3] = ids as [number, number, number];
  const lines: string[] = [];
  const log = (_: object, msg: string) => lines.push(msg);
  const ingest = new SpotIngest({ store, now: () => 5, logger: { info: log, warn: log, debug: log }, maxEventBytes: 65536, maxRejectedPerPost: 100, heard: () => {}, maxCommandAttempts: 3 });
  ingest.undelivered('4', [c1, c2]);
  ingest.undelivered('4', [c1, c2, c3]);
  t.deepEqual(ids.map((id) => store.commands.get(id)!.cutReplies), [2, 2, 1]);
  ingest.delivered('4', [c2]);
  ingest.undelivered('4', [c1, c2, c3]);
  t.is(store.commands.get(c1)!.state, 'failed', 'command 1 was cut off 3 times');
  t.is(store.commands.get(c1)!.timeFailed, 5);
  t.is(store.commands.get(c2)!.state, 'delivered', 'a delivered command no longer counts');
  t.is(store.commands.get(c2)!.cutReplies, 2);
  t.is(store.commands.get(c3)!.state, 'queued');
  ingest.undelivered('4', [c3]);
  t.is(store.commands.get(c3)!.state, 'failed');
  t.is(ingest.counters.commandsFailed, 2);
  t.is(ingest.counters.commandRepliesCut, 4);
  t.true(lines.some((l) => /spot 4: 1 command\(s\) failed: 3 replies carrying them were cut off/.test(l)), lines.join('\n'));
});

test('the count of cut-off replies survives a restart: 2 before it and 1 after make the command failed', async (t) => {
  const dataDir = tempDir(t);
  const first = openStore({ dataDir, now: () => 5 });
  const { id } = await first.commands.enqueue('4', { resource: 'config', action: 'update', data: '{}', source: 'api' });
  const deps = { now: () => 5, logger: silentLogger(), maxEventBytes: 65536, maxRejectedPerPost: 100, heard: () => {}, maxCommandAttempts: 3 };
  const before = new SpotIngest({ ...deps, store: first });
  before.undelivered('4', [id]);
  before.undelivered('4', [id]);
  await first.close();
  const second = openStore({ dataDir, now: () => 6 });
  t.teardown(() => second.close());
  t.is(second.commands.get(id)!.cutReplies, 2);
  t.is(second.commands.get(id)!.state, 'queued');
  new SpotIngest({ ...deps, store: second }).undelivered('4', [id]);
  t.is(second.commands.get(id)!.state, 'failed');
});

test('a spot gone before its post was answered: the reply never started, not a cut reply, and its command goes in the next reply', async (t) => {
  const store = openStore({ dataDir: tempDir(t) });
  const gate = heldStore(store);
  const { port, ingest, server } = await startIngestServer(t, { store: gate.store, closeStore: store });
  const { id } = await store.commands.enqueue('75', { resource: 'config', action: 'update', data: '{"send_hits":true}', source: 'api' });
  const answers: http.ServerResponse[] = [];
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => answers.push(res));
  const gone = new SpotConnection(port);
  await gone.startPost(75, { headers: JSON_EVENTS });
  await gone.chunk(jsonText([presence(1)]));
  await gone.endPost();
  // The post's events wait for the store; the spot hangs up meanwhile.
  const res = await waitFor(() => answers[0], 5000, 'the post to reach the gateway');
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
  gone.close();
  await within(closed, 5000, 'the gateway to see the spot gone');
  gate.release();
  // The post is counted in the registry in the turn its reply is built (and given up, the spot being gone).
  await waitFor(() => store.spots.get('75')?.posts === 1, 5000, 'the first post to end');
  const next = new SpotConnection(port);
  t.teardown(() => next.close());
  const answer = await next.post(75, jsonText([presence(2)]), { headers: JSON_EVENTS });
  t.is(answer.body.toString(), '["config","update",{"send_hits":true}]\n\n');
  await waitFor(() => store.commands.get(id)?.state === 'delivered', 5000, 'the command delivered');
  t.is(store.commands.get(id)!.cutReplies, 0);
  t.is(ingest.counters.commandRepliesCut, 0);
});
