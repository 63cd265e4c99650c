// `spot-gateway backup` of a gateway child under a load of posts, then `restore`: refused while it runs,
// checked, put in place with the old file kept, and a gateway started on it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { runCli } from '../../gateway/src/cli/index.js';
import { captureIo as io, closedPort } from '../helpers/cli-io.js';
import { api, JSON_EVENTS, postChunks, spawnGateway, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { probePrivileges } from '../helpers/privileges.js';
import { jsonText, presence } from '../http/events.js';

const { canChattr } = probePrivileges();



interface Row {
  id: number;
  spot: string;
  data: string;
}

function rows(file: string, where = ''): Row[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT id, spot, data FROM events ${where} ORDER BY id`).all() as Row[];
  } finally {
    db.close();
  }
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** Spots posting 20 events at a time, one loop per spot, until stopped; counts the events acknowledged. */
function load(port: number, spots: number[]): { acked: () => number; stop: () => Promise<void> } {
  let running = true;
  let acked = 0;
  const loops = spots.map(async (spot) => {
    for (let n = 0; running; n++) {
      const events = Array.from({ length: 20 }, (_, i) => presence(spot * 100_000 + n * 20 + i));
      const res = await postChunks(port, spot, [jsonText(events)], { headers: JSON_EVENTS });
      if (res.status !== 200) throw new Error(`post answered ${res.status}`);
      acked += 20;
    }
  });
  return {
    acked: () => acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

test('a backup made while spots post is consistent: integrity ok, every event id up to its last is there as stored', async (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'data');
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir } });
  const traffic = load(gw.port, [51, 52, 53, 54]);
  t.teardown(() => traffic.stop().catch(() => undefined));
  await waitFor(() => traffic.acked() >= 400, 20000, 'some load first');
  const file = path.join(dir, 'backup.db');
  const cli = io();
  t.is(await runCli(['backup', file, '--url', gw.url], cli), 0, cli.stderr());
  const printed = /^backup: (.+): (\d+) bytes, (\d+) events, event ids up to (\d+), schema version (\d+), instance ([0-9a-f-]+); integrity_check ok\n$/.exec(cli.stdout());
  t.truthy(printed, cli.stdout());
  const upTo = Number(printed![4]);
  // The load goes on past the backup point: the copy was taken under writes.
  await waitFor(() => traffic.acked() >= upTo + 200, 20000, 'more events after the backup');
  await traffic.stop();
  t.is(await gw.kill(), 0);

  t.is(integrity(file), 'ok');
  t.false(fs.existsSync(`${file}-wal`) || fs.existsSync(`${file}.partial`));
  const copy = rows(file);
  t.is(copy.length, Number(printed![3]));
  t.deepEqual(copy.map((r) => r.id), Array.from({ length: upTo }, (_, i) => i + 1), 'every id from 1 to the backup point');
  const live = rows(path.join(dataDir, 'spot-gateway.db'));
  t.deepEqual(live.filter((r) => r.id <= upTo), copy, 'the same events as the live database, byte for byte');
  t.true(live.length > copy.length + 100, `${live.length} live, ${copy.length} in the backup`);
  t.deepEqual(fs.readdirSync(dataDir).filter((n) => n.startsWith('.backup-')), [], 'the copy in the data dir is removed once sent');
  const gatewayLine = gw
    .stdout()
    .split('\n')
    .find((l) => l.includes('"backup: '));
  t.truthy(gatewayLine, 'the gateway logs the backup');
});

test('backup refuses an existing file, a missing directory, and says when no gateway answers', async (t) => {
  const dir = tempDir(t);
  const existing = path.join(dir, 'there.db');
  fs.writeFileSync(existing, 'x');
  const a = io();
  t.is(await runCli(['backup', existing, '--url', 'http://127.0.0.1:9'], a), 1);
  t.is(a.stderr(), `spot-gateway: ${existing} exists already; give a new file name (a backup never overwrites)\n`);
  const b = io();
  t.is(await runCli(['backup', path.join(dir, 'no/such/dir/b.db'), '--url', 'http://127.0.0.1:9'], b), 1);
  t.is(b.stderr(), `spot-gateway: directory ${path.join(dir, 'no/such/dir')} does not exist\n`);
  const port = await closedPort();
  const c = io({ SPOT_GATEWAY_HTTP_PORT: String(port), SPOT_GATEWAY_HTTP_HOST: '127.0.0.1' });
  t.is(await runCli(['backup', path.join(dir, 'c.db')], c), 1);
  t.true(c.stderr().startsWith(`spot-gateway: no answer from the gateway at http://127.0.0.1:${port} (ECONNREFUSED)`), c.stderr());
  t.false(fs.existsSync(path.join(dir, 'c.db.partial')));
  const d = io();
  t.is(await runCli(['backup'], d), 2);
  t.regex(d.stderr(), /backup takes one FILE/);
});

test('the gateway answers 503 with the reason when it cannot make the copy (data dir immutable)', async (t) => {
  if (!canChattr) {
    t.log('SKIPPED: chattr +i needs root on a filesystem with attributes');
    t.pass();
    return;
  }
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'data');
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: dataDir } });
  execFileSync('chattr', ['+i', dataDir]);
  t.teardown(() => execFileSync('chattr', ['-i', dataDir]));
  const cli = io();
  t.is(await runCli(['backup', path.join(dir, 'b.db'), '--url', gw.url], cli), 1);
  t.regex(cli.stderr(), new RegExp(`^spot-gateway: the gateway at ${gw.url} refused the backup \\(503\\): .+\n$`));
  t.false(fs.existsSync(path.join(dir, 'b.db')));
  execFileSync('chattr', ['-i', dataDir]);
  t.is((await api(gw.url, '/healthz')).status, 200, 'still serving');
  t.is(await gw.kill(), 0);
});

test('backup --help, and a refusal that is not JSON is shown as text', async (t) => {
  const help = io();
  t.is(await runCli(['backup', '--help'], help), 0);
  t.regex(help.stdout(), /^Usage: spot-gateway backup FILE/);
  const server = net.createServer((socket) => socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nproxy error'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const dir = tempDir(t);
  const cli = io();
  t.is(await runCli(['backup', path.join(dir, 'b.db'), '--url', url], cli), 1);
  t.is(cli.stderr(), `spot-gateway: the gateway at ${url} refused the backup (502): proxy error\n`);
  t.deepEqual(fs.readdirSync(dir), []);
});

test('restore: refused while the gateway runs; then the backup in place, the old database kept, a gateway on it sees the events', async (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'data');
  const env = { SPOT_GATEWAY_DATA_DIR: dataDir };
  const gw = await spawnGateway(t, { env });
  t.is((await postChunks(gw.port, 61, [jsonText([presence(1), presence(2), presence(3)])], { headers: JSON_EVENTS })).status, 200);
  const file = path.join(dir, 'backup.db');
  const b = io();
  t.is(await runCli(['backup', file, '--url', gw.url], b), 0, b.stderr());
  // After the backup: events the restore gives up (kept in the file moved aside), whose ids must not come again.
  t.is((await postChunks(gw.port, 62, [jsonText([presence(4), presence(5)])], { headers: JSON_EVENTS })).status, 200);

  const db = path.join(dataDir, 'spot-gateway.db');
  const refused = io(env, dir);
  t.is(await runCli(['restore', file], refused), 1);
  t.is(refused.stderr(), `spot-gateway: ${db} is open in another process (the gateway is running): stop it first (systemctl stop spot-gateway), then restore\n`);
  t.deepEqual(fs.readdirSync(dataDir).filter((n) => n.includes('before-restore')), [], 'nothing moved');
  t.is((await api<unknown[]>(gw.url, '/api/events')).body.length, 5, 'the running gateway is untouched');

  t.is(await gw.kill(), 0);
  const done = io(env, dir);
  t.is(await runCli(['restore', file], done), 0, done.stderr());
  const aside = fs.readdirSync(dataDir).find((n) => /^spot-gateway\.db\.before-restore-\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(n));
  t.truthy(aside);
  t.is(
    done.stdout(),
    `restore: ${file} (3 events, ids up to 3, schema version ${/schema version (\d+)/.exec(b.stdout())![1]}) is now ${db}\n` +
      `the database it replaced is kept as ${path.join(dataDir, aside!)}\n` +
      'new events get ids above 5, the highest the replaced database handed out\n' +
      'start the gateway: systemctl start spot-gateway\n',
  );
  t.is(rows(path.join(dataDir, aside!)).length, 5, 'the replaced database, whole');
  t.is(integrity(db), 'ok');

  const again = await spawnGateway(t, { env });
  const events = (await api<Array<{ id: number; spot: string }>>(again.url, '/api/events')).body;
  t.deepEqual(events.map((e) => [e.id, e.spot]), [[1, '61'], [2, '61'], [3, '61']]);
  t.is((await postChunks(again.port, 63, [jsonText([presence(6)])], { headers: JSON_EVENTS })).status, 200);
  const after = (await api<Array<{ id: number; spot: string }>>(again.url, '/api/events?spot=63')).body;
  t.deepEqual(after.map((e) => e.id), [6], 'above every id the replaced database handed out');
  t.is(await again.kill(), 0);
});

test('restore into an empty data dir, and refusals of what is not a spot-gateway backup', async (t) => {
  const dir = tempDir(t);
  const dataDir = path.join(dir, 'fresh', 'data');
  const env = { SPOT_GATEWAY_DATA_DIR: dataDir };
  const restore = async (file: string): Promise<{ code: number; out: string; err: string }> => {
    const cli = io(env, dir);
    const code = await runCli(['restore', file], cli);
    return { code, out: cli.stdout(), err: cli.stderr() };
  };

  const missing = await restore(path.join(dir, 'nope.db'));
  t.deepEqual([missing.code, missing.err], [1, `spot-gateway: ${path.join(dir, 'nope.db')} does not exist\n`]);

  const text = path.join(dir, 'text.db');
  fs.writeFileSync(text, 'hello, not a database at all '.repeat(200));
  const notDb = await restore(text);
  t.is(notDb.code, 1);
  t.regex(notDb.err, new RegExp(`^spot-gateway: ${text} is not an SQLite database \\(file is not a database\\)\n$`));

  const foreign = path.join(dir, 'foreign.db');
  const f = new Database(foreign);
  f.exec('CREATE TABLE things (x)');
  f.close();
  const notOurs = await restore(foreign);
  t.deepEqual([notOurs.code, notOurs.err], [1, `spot-gateway: ${foreign} is an SQLite database but not a spot-gateway one (schema version 0, no meta/events tables)\n`]);

  // A real backup, then a copy of it from a "newer" gateway and a damaged copy.
  const gw = await spawnGateway(t, { env: { SPOT_GATEWAY_DATA_DIR: path.join(dir, 'source') } });
  t.is((await postChunks(gw.port, 71, [jsonText(Array.from({ length: 200 }, (_, i) => presence(i)))], { headers: JSON_EVENTS })).status, 200);
  const good = path.join(dir, 'good.db');
  const b = io();
  t.is(await runCli(['backup', good, '--url', gw.url], b), 0, b.stderr());
  t.is(await gw.kill(), 0);

  const newer = path.join(dir, 'newer.db');
  fs.copyFileSync(good, newer);
  const n = new Database(newer);
  n.pragma('user_version = 999');
  n.close();
  const tooNew = await restore(newer);
  t.is(tooNew.code, 1);
  t.regex(tooNew.err, new RegExp(`^spot-gateway: ${newer} has schema version 999, newer than this gateway knows \\(\\d+\\): restore it with the gateway version that made it\n$`));

  const damaged = path.join(dir, 'damaged.db');
  fs.copyFileSync(good, damaged);
  const bytes = fs.readFileSync(damaged);
  // Page 3 onwards scrambled: the header still says SQLite, the b-trees do not hold.
  const pageSize = bytes.readUInt16BE(16);
  for (let i = pageSize * 2; i < bytes.length; i += 7) bytes[i] = (bytes[i]! + 91) & 0xff;
  fs.writeFileSync(damaged, bytes);
  const bad = await restore(damaged);
  t.is(bad.code, 1);
  t.regex(bad.err, /fails SQLite's integrity check|is not an SQLite database/);
  t.false(fs.existsSync(path.join(dataDir, 'spot-gateway.db')), 'nothing installed by the refusals');

  const ok = await restore(good);
  t.is(ok.code, 0, ok.err);
  t.true(ok.out.includes('there was no database to replace\n'));
  t.is(rows(path.join(dataDir, 'spot-gateway.db')).length, 200);

  // A live database that is damaged (the reason to restore): no gateway can hold it; it goes aside too.
  fs.writeFileSync(path.join(dataDir, 'spot-gateway.db'), 'garbage, not SQLite '.repeat(300));
  const overDamaged = await restore(good);
  t.is(overDamaged.code, 0, overDamaged.err);
  t.true(overDamaged.out.includes("the replaced database could not be read (damaged): new event ids continue from the backup's\n"), overDamaged.out);
  t.is(rows(path.join(dataDir, 'spot-gateway.db')).length, 200);
  t.is(fs.readdirSync(dataDir).filter((n) => /^spot-gateway\.db\.before-restore-.*Z$/.test(n)).length, 1, 'the damaged file kept');
  const help = io();
  t.is(await runCli(['restore', '--help'], help), 0);
  t.regex(help.stdout(), /^Usage: spot-gateway restore FILE/);
  const none = io();
  t.is(await runCli(['restore'], none), 2);
});

test('one backup at a time: a second asked for while the first is made gets 409', async (t) => {
  const gw = await startTestGateway(t);
  // Enough pages that the copy takes many turns of the event loop (a hundred pages a turn).
  const big = 'x'.repeat(4000);
  for (let i = 0; i < 8; i++) {
    await gw.running.store.append(Array.from({ length: 250 }, (_, j) => ({ spot: '81', resource: 'presence', action: 'update', data: JSON.stringify({ n: i * 250 + j, big }), pb: null, encoding: 'json' as const, timeReceived: Date.now(), boot: null, seq: null })));
  }
  const both = await Promise.all([fetch(`${gw.url}/api/backup`, { method: 'POST' }), fetch(`${gw.url}/api/backup`, { method: 'POST' })]);
  const statuses = both.map((r) => r.status).sort();
  t.deepEqual(statuses, [200, 409]);
  const refused = both.find((r) => r.status === 409)!;
  t.deepEqual(await refused.json(), { error: 'conflict', reason: 'a backup is already being made; try again when it is done' });
  const sent = both.find((r) => r.status === 200)!;
  t.is(sent.headers.get('x-spot-gateway-last-event-id'), '2000');
  t.is(sent.headers.get('content-type'), 'application/vnd.sqlite3');
  const bytes = Buffer.from(await sent.arrayBuffer());
  t.is(bytes.length, Number(sent.headers.get('content-length')));
  t.is(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  await waitFor(() => fs.readdirSync(gw.dataDir).every((n) => !n.startsWith('.backup-')), 5000, 'the copy removed');
  const after = await fetch(`${gw.url}/api/backup`, { method: 'POST' });
  t.is(after.status, 200, 'free again once the first was sent');
  await after.arrayBuffer();
});
