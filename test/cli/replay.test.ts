// `spot-gateway replay` against a real gateway, a real Mosquitto and the real SQLite file, read
// while the gateway runs: exactly the range, in order, with the forwarder's topics, payloads and ids.
import { chownSync, existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runCli, type CliIo } from '../../gateway/src/cli/index.js';
import { missingPart, parseTime } from '../../gateway/src/cli/replay.js';
import { JSON_EVENTS, PB_EVENTS, postChunks, startTestGateway, tempDir, within } from '../helpers/gateway.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { jsonText, pbStream, presence } from '../http/events.js';
import { events as storeEvents, openTestStore } from '../store/helpers.js';
import { startConsumer, type Received } from '../upstream/consumer.js';

const HOUR = 3_600_000;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function replay(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (s) => (out += s), err: (s) => (err += s), env: { ...env }, cwd: process.cwd() };
  const code = await within(runCli(['replay', ...args], io), 30_000, `replay ${args.join(' ')}`);
  return { code, out, err };
}

function configFile(t: ExecutionContext, dataDir: string, url: string): string {
  const file = path.join(tempDir(t), 'gateway.yaml');
  writeFileSync(file, `data_dir: ${dataDir}\nmqtt:\n  url: ${url}\nbuffer:\n  retain: 1h\n`);
  return file;
}

/** The next millisecond: events received before the call are strictly before it. */
async function nextMs(): Promise<number> {
  const now = Date.now();
  await within(
    (async () => {
      while (Date.now() <= now) await new Promise((r) => setImmediate(r));
    })(),
    1000,
    'the clock to tick',
  );
  return Date.now();
}

const view = (m: Received) => ({ topic: m.topic, payload: m.payload.toString('base64'), eventId: m.eventId });
const ofSpot = (messages: Received[], spot: string) => messages.filter((m) => m.topic.startsWith(`from/${spot}/`)).map(view);

/** Spot 1001 posts JSON, 1002 PB (two messages per event); `from` numbers the events. */
async function post(port: number, from: number): Promise<void> {
  const json = Array.from({ length: 5 }, (_, i) => presence(from + i));
  const pb = Array.from({ length: 5 }, (_, i) => presence(from + 100 + i));
  const a = await postChunks(port, 1001, [jsonText(json)], { headers: JSON_EVENTS });
  const b = await postChunks(port, 1002, [pbStream(pb)], { headers: PB_EVENTS });
  if (a.status !== 200 || b.status !== 200) throw new Error(`posts answered ${a.status}, ${b.status}`);
}

async function setup(t: ExecutionContext): Promise<{ broker: Mosquitto; config: string; dataDir: string; times: number[]; original: Received[] }> {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url }, buffer: { retain: '1h' } } });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  const times = [await nextMs()];
  for (const from of [0, 1000, 2000]) {
    await post(gw.port, from);
    times.push(await nextMs());
  }
  // 3 posts of 5 JSON events (one message each) and 5 PB events (JSON and PB messages each).
  await consumer.waitFor((m) => m.length >= 45, 15_000, 'the gateway to forward every event');
  await consumer.end();
  return { broker, config: configFile(t, gw.dataDir, broker.url), dataDir: gw.dataDir, times, original: [...consumer.messages] };
}

test('replay re-sends exactly the range, in order per spot, with the topics, payloads and event ids forwarded before', async (t) => {
  const { broker, config, times, original } = await setup(t);
  const again = await startConsumer(broker.url, ['from/#'], t);
  // The second post only: received at or after times[1], before times[2].
  const run = await replay(['--upstream', 'mqtt', '--since', new Date(times[1]!).toISOString(), '--until', new Date(times[2]!).toISOString(), '--config', config]);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /^replay: sent to mqtt:\/\/127\.0\.0\.1:\d+ 10 events received from .* to .*, ids \d+\.\.\d+, every one acknowledged\n/);
  t.regex(run.out, /spot 1001: 5 events, ids \d+\.\.\d+\n/);
  t.regex(run.out, /spot 1002: 5 events, ids \d+\.\.\d+\n/);
  await again.waitFor((m) => m.length >= 15, 10_000, 'the replayed messages');
  const second = (spot: string) => ofSpot(original, spot).slice(spot === '1001' ? 5 : 10, spot === '1001' ? 10 : 20);
  t.deepEqual(ofSpot(again.messages, '1001'), second('1001'), "spot 1001's second post, as forwarded");
  t.deepEqual(ofSpot(again.messages, '1002'), second('1002'), "spot 1002's second post, JSON and PB, as forwarded");
  t.is(again.messages.length, 15, 'nothing else');
  t.true(again.messages.every((m) => m.eventId !== undefined));
});

test('--spot restricts the replay to that spot; --dry-run sends nothing', async (t) => {
  const { broker, config, times, original } = await setup(t);
  const again = await startConsumer(broker.url, ['from/#'], t);
  const dry = await replay(['--upstream', 'mqtt', '--since', new Date(times[0]!).toISOString(), '--spot', '1001', '--dry-run', '--config', config]);
  t.is(dry.code, 0, dry.err);
  t.regex(dry.out, /^replay: would send 15 events received from .* to now of spot 1001, ids \d+\.\.\d+\n {2}spot 1001: 15 events/);
  const run = await replay(['--upstream', 'mqtt', '--since', '-1h', '--spot', '1001', '--config', config]);
  t.is(run.code, 0, run.err);
  await again.waitFor((m) => m.length >= 15, 10_000, "spot 1001's replayed messages");
  t.deepEqual(again.messages.map(view), ofSpot(original, '1001'), 'only spot 1001, all of it, in order');
});

test('a range reaching below what the buffer holds is refused, naming the part that is gone', async (t) => {
  const dataDir = tempDir(t);
  const start = Date.now() - 3 * HOUR;
  const clock = { t: start };
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR, now: () => clock.t });
  await store.append(storeEvents('7', 3));
  store.advanceCursor('mqtt', '7', 3);
  clock.t = start + HOUR;
  await store.append(storeEvents('7', 3));
  await store.flush();
  t.is(store.status().historyFrom, start, 'the first commit was pruned');
  const config = configFile(t, dataDir, 'mqtt://127.0.0.1:1');
  const since = new Date(start - HOUR).toISOString();
  const run = await replay(['--upstream', 'mqtt', '--since', since, '--config', config]);
  t.is(run.code, 1);
  t.is(
    run.err,
    `spot-gateway replay: events received from ${since} to ${new Date(start + 1).toISOString()} are gone: they were older than buffer.retain (3600 s) and pruned; the buffer holds every event received from ${new Date(start + 1).toISOString()}: use --since ${new Date(start + 1).toISOString()} or later\n`,
  );
  t.is(run.out, '');
});

test('what is missing: retain 0, a buffer from before retain, the size cap, retain', (t) => {
  const now = Date.UTC(2026, 11, 7, 10);
  const base = { instanceId: 'i', createdAt: now - 48 * HOUR };
  t.regex(missingPart({ ...base, retainMs: 0, historyFrom: null }, now - HOUR, now, now)!, /buffer keeps no history: buffer.retain was 0/);
  t.regex(missingPart({ ...base, retainMs: null, historyFrom: null }, now - HOUR, now, now)!, /not set \(a buffer from before retain\)/);
  t.regex(missingPart({ ...base, retainMs: 24 * HOUR, historyFrom: now - 2 * HOUR }, now - 3 * HOUR, now, now)!, /the size cap removed them/);
  t.regex(missingPart({ ...base, retainMs: HOUR, historyFrom: now - 2 * HOUR }, now - 3 * HOUR, now, now)!, /they were older than buffer.retain \(3600 s\) and pruned/);
  t.is(missingPart({ ...base, retainMs: HOUR, historyFrom: 0 }, now - 3 * HOUR, now, now), null, 'a new file lacks nothing');
  t.is(missingPart({ ...base, retainMs: 24 * HOUR, historyFrom: now - 2 * HOUR }, now - 2 * HOUR + 1, now, now), null);
});

test('times: ISO 8601 and relative; anything else is refused with the reason', (t) => {
  const now = Date.UTC(2026, 11, 7, 10);
  t.deepEqual(parseTime('-2h', now), { ok: true, ms: now - 2 * HOUR });
  t.deepEqual(parseTime('-90', now), { ok: true, ms: now - 90_000 });
  t.deepEqual(parseTime('2026-12-07T08:00:00Z', now), { ok: true, ms: Date.UTC(2026, 11, 7, 8) });
  t.deepEqual(parseTime('2026-12-07T09:30:00.250+01:00', now), { ok: true, ms: Date.UTC(2026, 11, 7, 8, 30, 0, 250) });
  t.like(parseTime('yesterday', now), { ok: false });
  t.like(parseTime('-2 weeks', now), { ok: false });
});

test('bad arguments exit 2 with the reason; an unreachable broker exits 1 naming it', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--since', '-1h'], /--upstream is required/],
    [['--upstream', 'kafka', '--since', '-1h'], /--upstream "kafka": replay sends to mqtt only/],
    [['--upstream', 'mqtt'], /--since is required/],
    [['--upstream', 'mqtt', '--since', 'soon'], /--since "soon" is neither an ISO 8601 time/],
    [['--upstream', 'mqtt', '--since', '-1h', '--until', '-2h'], /--until \(.*\) must be after --since/],
    [['--upstream', 'mqtt', '--since', '-1h', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, reason] of cases) {
    const run = await replay(args);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.err, reason);
  }
  const help = await replay(['--help']);
  t.is(help.code, 0);
  t.regex(help.out, /^Usage: spot-gateway replay --upstream mqtt --since TIME/);

  // A buffer that exists, a broker that does not.
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR });
  await store.append(storeEvents('7', 2));
  await store.flush();
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const noBroker = await replay(['--upstream', 'mqtt', '--since', '2000-01-01T00:00:00Z', '--config', configFile(t, dataDir, `mqtt://127.0.0.1:${port}`)]);
  t.is(noBroker.code, 1, noBroker.err);
  t.regex(noBroker.err, /^spot-gateway replay: note: the buffer was created at .*; it holds nothing received before\n/);
  t.regex(noBroker.err, new RegExp(`\nspot-gateway replay: cannot connect to the broker at mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  const noBuffer = await replay(['--upstream', 'mqtt', '--since', '-1m', '--config', configFile(t, tempDir(t), `mqtt://127.0.0.1:${port}`)]);
  t.is(noBuffer.code, 1);
  t.regex(noBuffer.err, /cannot open the buffer .*spot-gateway\.db read-only/);
  const badConfig = await replay(['--upstream', 'mqtt', '--since', '-1m'], { SPOT_GATEWAY_BUFFER_RETAIN: 'a while' });
  t.is(badConfig.code, 2);
  t.regex(badConfig.err, /^spot-gateway replay: SPOT_GATEWAY_BUFFER_RETAIN \(buffer\.retain\): "a while" is not /);
  const noUrl = await replay(['--upstream', 'mqtt', '--since', '-1m'], { SPOT_GATEWAY_DATA_DIR: dataDir });
  t.is(noUrl.code, 2);
  t.regex(noUrl.err, /mqtt\.url is not set/);
});

test('a broker that drops the connection mid-replay, and a file that is not a buffer, exit 1 with the reason', async (t) => {
  // A message over max_packet_size makes Mosquitto close the connection.
  const broker = await startMosquitto({ t, extraConfig: 'max_packet_size 1000' });
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR });
  await store.append(storeEvents('7', 3));
  await store.append(storeEvents('7', 1, { data: JSON.stringify({ pad: 'p'.repeat(2000) }) }));
  await store.append(storeEvents('7', 3));
  await store.flush();
  const run = await replay(['--upstream', 'mqtt', '--since', '2000-01-01T00:00:00Z', '--config', configFile(t, dataDir, broker.url)]);
  t.is(run.code, 1, run.out);
  t.regex(run.err, /spot-gateway replay: (the broker closed the connection|publishing event \d+ of spot 7 failed: .*); [0-3] of the events received from 2000-01-01T00:00:00\.000Z to now were acknowledged before it\n$/);
  t.is(run.out, '');

  const notBuffer = tempDir(t);
  writeFileSync(path.join(notBuffer, 'spot-gateway.db'), 'not a database, just text that is long enough to be read as a header '.repeat(20));
  const garbage = await replay(['--upstream', 'mqtt', '--since', '-1h', '--config', configFile(t, notBuffer, broker.url)]);
  t.is(garbage.code, 1);
  t.regex(garbage.err, /spot-gateway\.db is not a spot-gateway buffer: file is not a database/);
});

test('with the gateway stopped, the -wal and -shm files the read-only replay makes get the buffer\'s owner', async (t) => {
  const dataDir = tempDir(t);
  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'], retainMs: HOUR });
  await store.append(storeEvents('7', 2));
  // Stored before ingest refused such names: no topic, so the forwarder skips it, and replay too.
  await store.append(storeEvents('7', 1, { resource: 'bad/level' }));
  await store.close();
  const db = path.join(dataDir, 'spot-gateway.db');
  t.false(existsSync(`${db}-wal`), 'a clean close leaves no WAL');
  // The buffer belongs to another user (the service's); replay runs as this one (root in CI).
  const other = process.getuid?.() === 0 ? 4242 : null;
  if (other === null) {
    t.log('not root: the files are this user\'s anyway; checking that replay reads the stopped buffer');
  } else chownSync(db, other, other);
  const run = await replay(['--upstream', 'mqtt', '--since', '2000-01-01T00:00:00Z', '--dry-run', '--config', configFile(t, dataDir, 'mqtt://127.0.0.1:1')]);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /would send 2 events/);
  t.regex(run.out, /\nskipped 1 events whose serial, resource or action cannot be a topic level/);
  for (const suffix of ['-wal', '-shm']) {
    if (!existsSync(db + suffix)) continue;
    t.is(statSync(db + suffix).uid, statSync(db).uid, `${suffix} has the buffer's owner`);
  }
});
