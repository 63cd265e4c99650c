// One write of a spot's commands at a time, over WebSockets and posts: a replacing connection or another post never sends them again (docs/websocket.md, "Delivery semantics").
import test from 'ava';
import { api, JSON_EVENTS, SpotConnection, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';
import { WsSpot } from './ws-spot.js';

/**
 * Commands of about 400 KB, one per message, queued in the store before the spot connects (no command
 * the API accepts is this large, a spot holds at most a few hundred bytes of one; commands queued by an
 * older gateway can be): 12 MB in all, more than loopback's socket buffers hold (about 4 MB sent, plus
 * what the reader's side takes), so a spot that stops reading leaves a write of commands under way.
 */
const COMMANDS = 30;
const PAD = 'p'.repeat(400_000);
const REPLIES = { commands: { max_reply_bytes: 512 * 1024 } };

async function seed(gw: TestGateway, serial: string): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 0; n < COMMANDS; n++) {
    const data = JSON.stringify({ n, pad: PAD });
    ids.push((await gw.running.store.commands.enqueue(serial, { resource: 'config', action: 'update', data, source: 'test' })).id);
  }
  return ids;
}

/** The `n` of every command in a spot's binary messages (JSON replies: `[r,a,{..}]\n\n` each), in order. */
function received(spot: WsSpot): number[] {
  return spot.binary.flatMap((body) =>
    body
      .toString()
      .split('\n\n')
      .filter((text) => text !== '')
      .map((text) => {
        const data = (JSON.parse(text) as [string, string, { n?: number; rfid_power_dbm?: number }])[2];
        return data.n ?? data.rfid_power_dbm! - 10;
      }),
  );
}

/** A list of numbers as its runs of consecutive ones ("0-64,66-199"): short enough to read in a failure. */
function runs(list: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
    out.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function states(gw: TestGateway, ids: number[]): string[] {
  return ids.map((id) => gw.running.store.commands.get(id)?.state ?? 'gone');
}

/** The first spot stops reading at once: the gateway's write of commands to it stays under way. */
async function stalledSpot(gw: TestGateway, serial: string, ids: number[]): Promise<{ spot: WsSpot; inFlight: number }> {
  const spot = await WsSpot.open(gw.port, serial);
  spot.ws.pause();
  // Each write that the OS takes at once is marked delivered before the next one starts: the first still queued is being written.
  const inFlight = states(gw, ids).indexOf('queued');
  if (inFlight < 0) throw new Error(`all ${COMMANDS} commands were written at once: the socket buffers are larger than this test assumes`);
  return { spot, inFlight };
}

test.serial('a newer connection replacing one still writing a command does not send that command again; the spot gets each command once, in order', async (t) => {
  const gw = await startTestGateway(t, { config: REPLIES });
  const ids = await seed(gw, '71');
  const { spot: first, inFlight } = await stalledSpot(gw, '71', ids);
  t.teardown(() => first.close());

  const second = await WsSpot.open(gw.port, '71');
  t.teardown(() => second.close());
  // The replaced spot reads again: the write under way ends whole, then the 4001 close.
  first.ws.resume();
  t.is(await first.waitClose(10_000), 4001);
  await waitFor(() => states(gw, ids).every((s) => s === 'delivered'), 20_000, () => `all commands delivered (${states(gw, ids).filter((s) => s === 'delivered').length} so far)`);
  await waitFor(() => received(first).length + received(second).length >= COMMANDS, 20_000, () => `${COMMANDS} commands received (first ${received(first).length}, second ${received(second).length})`);

  const onFirst = received(first);
  const onSecond = received(second);
  t.true(onFirst.includes(inFlight), 'the command under way reached the replaced connection');
  t.false(onSecond.includes(inFlight), 'and was not sent again on the newer one');
  t.is(runs([...onFirst, ...onSecond]), `0-${COMMANDS - 1}`, 'every command once, in order, over the two connections');
});

test.serial('a write of commands cut off by the replaced connection closing: the newer connection sends those commands, counted as one cut reply', async (t) => {
  const gw = await startTestGateway(t, { config: REPLIES });
  const ids = await seed(gw, '72');
  const { spot: first, inFlight } = await stalledSpot(gw, '72', ids);
  const second = await WsSpot.open(gw.port, '72');
  t.teardown(() => second.close());
  // The replaced spot goes away without reading: the write under way never ends whole.
  first.close();
  await waitFor(() => states(gw, ids).every((s) => s === 'delivered'), 20_000, () => `all commands delivered (${states(gw, ids).filter((s) => s === 'delivered').length} so far)`);
  await waitFor(() => received(second).length >= COMMANDS - inFlight, 20_000, () => `${COMMANDS - inFlight} commands received (${runs(received(second))} so far; in flight ${inFlight}; states ${JSON.stringify(states(gw, ids).slice(inFlight - 2, inFlight + 3))})`);
  const onSecond = received(second);
  t.is(runs(onSecond), `${inFlight}-${COMMANDS - 1}`, 'the newer connection sends from the cut command on, each once, in order');
  t.is(gw.running.store.commands.get(ids[inFlight]!)?.cutReplies, 1);
  t.is(gw.running.store.commands.get(ids[0]!)?.cutReplies, 0);
});

test.serial('a post answered while a WebSocket write of commands is under way carries none of them: HTTP and WebSocket hand a command to one write', async (t) => {
  const gw = await startTestGateway(t, { config: REPLIES });
  const ids = await seed(gw, '73');
  const { spot, inFlight } = await stalledSpot(gw, '73', ids);
  t.teardown(() => spot.close());
  const conn = new SpotConnection(gw.port);
  t.teardown(() => conn.close());
  const posted = await conn.post(73, jsonText([presence(1)]), { headers: JSON_EVENTS });
  t.is(posted.status, 200);
  t.is(posted.body.length, 0, 'the reply carries no command');
  spot.ws.resume();
  await waitFor(() => received(spot).length >= COMMANDS, 20_000, () => `${COMMANDS} commands received (${received(spot).length} so far)`);
  t.is(runs(received(spot)), `0-${COMMANDS - 1}`, 'all of them on the WebSocket, once, in order');
  t.true(states(gw, ids).every((s) => s === 'delivered'));
  t.true(inFlight > 0);
});

test.serial('two posts of one spot: while the first reply is being written, the second carries none of its commands', async (t) => {
  const gw = await startTestGateway(t, { config: { commands: { max_reply_bytes: 16 * 1024 * 1024 } } });
  const ids = await seed(gw, '74');
  const slow = new SpotConnection(gw.port);
  t.teardown(() => slow.close());
  slow.socket.pause();
  await slow.startPost(74, { headers: JSON_EVENTS });
  await slow.chunk(jsonText([presence(1)]));
  await slow.endPost();
  // The reply of all the commands (12 MB) is written as the post is counted, in the same turn; it outgrows the socket buffers.
  await waitFor(() => gw.running.store.spots.get('74')?.posts === 1, 10_000, 'the first post to be answered');
  t.true(states(gw, ids).every((s) => s === 'queued'), 'the first reply is still being written');
  const fast = new SpotConnection(gw.port);
  t.teardown(() => fast.close());
  const second = await fast.post(74, jsonText([presence(2)]), { headers: JSON_EVENTS });
  t.is(second.status, 200);
  t.is(second.body.length, 0, 'the second reply carries no command');
  slow.socket.resume();
  const first = await slow.response(20_000);
  const inFirst = first.body.toString().split('\n\n').filter((text) => text !== '').map((text) => (JSON.parse(text) as [string, string, { n: number }])[2].n);
  t.is(runs(inFirst), `0-${COMMANDS - 1}`);
  await waitFor(() => states(gw, ids).every((s) => s === 'delivered'), 10_000, 'all commands delivered');
  t.is((await fast.post(74, jsonText([presence(3)]), { headers: JSON_EVENTS })).body.length, 0, 'and not sent again');
});

/** A command through the API (the command signal tells the spot's socket); `n` as its rfid_power_dbm, read back as `n`. */
async function queue(gw: TestGateway, serial: string, n: number): Promise<number> {
  const res = await api<{ id: number }>(gw.url, `/api/spots/${serial}/commands`, { body: { resource: 'config', action: 'update', data: { rfid_power_dbm: 10 + n } } });
  if (res.status !== 202) throw new Error(`command not queued: ${res.status}`);
  return res.body.id;
}

test.serial('commands written but not marked delivered (the store failed) hold nothing back: the next command goes out with them', async (t) => {
  const gw = await startTestGateway(t);
  const spot = await WsSpot.open(gw.port, '76');
  t.teardown(() => spot.close());
  const commands = gw.running.store.commands;
  const markDelivered = commands.markDelivered.bind(commands);
  let failures = 0;
  // A disk that fails the delivered mark: the command was written, the gateway cannot record it.
  commands.markDelivered = () => {
    failures++;
    throw new Error('disk I/O error');
  };
  const first = await queue(gw, '76', 0);
  await spot.waitBinary(1);
  await waitFor(() => failures >= 1 || undefined, 5000, 'the delivered mark to fail');
  commands.markDelivered = markDelivered;
  const second = await queue(gw, '76', 1);
  await waitFor(() => states(gw, [first, second]).every((s) => s === 'delivered'), 5000, 'both commands delivered');
  t.is(runs(received(spot)), '0,0-1', 'the unmarked command once more, with the next one');
  t.is(failures, 1, 'the same commands are not written again at once');
});
