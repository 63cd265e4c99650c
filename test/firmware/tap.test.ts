// `spot-gateway tap`: the host spot's telnet stream printed, reconnected after a spot restart, and fed to a
// real gateway with --ingest (nothing lost while the gateway is stopped; spot tokens).
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { seedAuth } from '../auth/http.js';
import { api, runCli, spawnGateway, startTestGateway, tempDir, waitFor, within, type Teardown } from '../helpers/gateway.js';
import { startSpot, type SpotProcess } from './spot-process.js';

interface TapLine {
  time: string;
  serial: number | null;
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

interface StoredEvent {
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

function startTap(t: Teardown, args: string[], env: Record<string, string> = {}) {
  const tap = runCli(['tap', ...args], { env });
  t.teardown(() => {
    if (tap.child.exitCode === null && tap.child.signalCode === null) tap.child.kill('SIGKILL');
  });
  const lines = (): TapLine[] =>
    tap
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as TapLine);
  return { ...tap, lines };
}

async function telnetPort(spot: SpotProcess): Promise<number> {
  return Number(await waitFor(() => /telnet listening on port (\d+)/.exec(spot.console())?.[1], 10000, 'the telnet port'));
}

/** A comparable form of an event: kind plus data with sorted keys. */
function key(e: { resource: string; action: string; data: Record<string, unknown> }): string {
  const data = Object.fromEntries(Object.entries(e.data).sort(([a], [b]) => a.localeCompare(b)));
  return `${e.resource} ${e.action} ${JSON.stringify(data)}`;
}

const isAlive = (e: TapLine): boolean => e.resource === 'spot' && e.action === 'update' && Object.keys(e.data).length === 1;

async function stored(url: string, serial: number): Promise<StoredEvent[]> {
  return (await api<StoredEvent[]>(url, `/api/events?spot=${serial}&limit=10000`)).body;
}

test.serial('tap --json prints the spot\'s events and reconnects when the spot restarts', async (t) => {
  const spot = startSpot(t, { target: 'host', serial: 7101, telnetPort: 0, runSeconds: 60 });
  const port = await telnetPort(spot);
  const tap = startTap(t, [`127.0.0.1:${port}`, '--json']);
  await waitFor(() => tap.lines().some((e) => e.resource === 'presence'), 15000, 'a presence event from the tap');
  const first = tap.lines();
  t.deepEqual(
    first.slice(0, 2).map((e) => `${e.resource} ${e.action}`),
    ['spot create', 'config create'],
  );
  t.true(first.every((e) => e.serial === 7101), 'every line carries the serial of the spot create');
  t.false(Number.isNaN(Date.parse(first[0]!.time)));
  t.is(first[0]!.data.spot_id, 7101);

  await spot.kill();
  await waitFor(() => /disconnected \(closed by the spot\); reconnecting/.test(tap.stderr()), 10000, 'the tap to notice');
  const again = startSpot(t, { target: 'host', serial: 7101, telnetPort: port, runSeconds: 60 });
  await telnetPort(again);
  await waitFor(() => tap.lines().filter((e) => e.resource === 'spot' && e.action === 'create').length === 2, 20000, 'the second spot create');
  t.is(tap.stderr().match(/: connected/g)?.length, 2, tap.stderr());
  await waitFor(() => tap.lines().filter((e) => e.resource === 'presence').length > first.filter((e) => e.resource === 'presence').length, 15000, 'events after the reconnect');
  tap.child.kill('SIGINT');
  t.is(await within(tap.exited, 10000, 'the tap to end on SIGINT'), 0);
  t.regex(tap.stderr(), /tap: stopped\n$/);
  await again.kill();
});

test.serial('tap --ingest: the events reach /api/events; while the gateway is stopped they are kept and arrive after its restart', async (t) => {
  const dataDir = tempDir(t);
  const env = { SPOT_GATEWAY_DATA_DIR: dataDir };
  let gateway = await spawnGateway(t, { env });
  const spot = startSpot(t, { target: 'host', serial: 7102, telnetPort: 0, runSeconds: 90 });
  const tap = startTap(t, [`127.0.0.1:${await telnetPort(spot)}`, '--json', '--ingest', '--url', gateway.url]);
  await waitFor(async () => (await stored(gateway.url, 7102)).some((e) => e.resource === 'presence'), 20000, 'a presence stored');
  const early = (await stored(gateway.url, 7102)).map((e) => `${e.resource} ${e.action}`);
  t.deepEqual(early.slice(0, 2), ['spot create', 'config create']);

  t.is(await gateway.kill('SIGTERM'), 0);
  const printedBefore = tap.lines().length;
  await waitFor(() => /ingest: gateway .*: not reachable \(ECONNREFUSED\); keeping events, retrying/.test(tap.stderr()), 15000, 'the tap to find the gateway gone');
  // Events read while the gateway is away (alive signals are not forwarded).
  await waitFor(() => tap.lines().slice(printedBefore).filter((e) => !isAlive(e)).length >= 2, 20000, 'two events read while the gateway is stopped');

  gateway = await spawnGateway(t, { env: { ...env, SPOT_GATEWAY_HTTP_PORT: String(gateway.port) } });
  await waitFor(() => /takes events again/.test(tap.stderr()), 15000, 'the tap to post again');
  tap.child.kill('SIGTERM');
  t.is(await within(tap.exited, 10000, 'the tap to end'), 0);
  await spot.kill();

  const want = tap.lines().filter((e) => !isAlive(e)).map(key);
  const have = (await stored(gateway.url, 7102)).map(key);
  t.deepEqual(have, want, tap.stderr());
  t.false(have.some((k) => k === 'spot update {"online":true}'), 'alive signals are not stored');
  t.regex(tap.stderr(), /stopped; \d+ events stored by the gateway\n$/);
});

test.serial('tap --ingest with auth.spots token: refused without the spot\'s token, stored with SPOT_TOKEN', async (t) => {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { spotTokens: ['7103'] });
  const gateway = await startTestGateway(t, { dataDir, config: { auth: { spots: 'token' } } });
  const spot = startSpot(t, { target: 'host', serial: 7103, telnetPort: 0, runSeconds: 60 });
  const where = `127.0.0.1:${await telnetPort(spot)}`;

  const bare = startTap(t, [where, '--ingest', '--url', gateway.url, '--token', 'not-the-token']);
  await waitFor(() => /ingest: gateway .*: HTTP 401 .*keeping events, retrying/.test(bare.stderr()), 15000, 'the 401');
  bare.child.kill('SIGTERM');
  t.is(await within(bare.exited, 10000, 'the first tap to end'), 0);
  t.regex(bare.stderr(), /\d+ not delivered\n$/);
  t.deepEqual(await stored(gateway.url, 7103), []);

  const tap = startTap(t, [where, '--ingest', '--url', gateway.url, '--serial', '7103'], { SPOT_TOKEN: seeded.perSpot.get('7103')!.token });
  await waitFor(async () => (await stored(gateway.url, 7103)).some((e) => e.resource === 'presence'), 20000, 'a presence stored with the token');
  t.regex(tap.stdout(), /^\d\d:\d\d:\d\d\.\d{3} spot 7103 spot create spot_id=7103 /m);

  // A command queued for the spot comes back in a post's reply; the tap hands it to the spot.
  const command = { resource: 'config', action: 'update', data: { alive_ds: 7 } };
  t.is((await api(gateway.url, '/api/spots/7103/commands', { body: command })).status, 202);
  await waitFor(() => /spot 7103 config update .*\+\d+/.test(tap.stdout()), 20000, 'the spot to apply the command and say so');
  await waitFor(async () => (await stored(gateway.url, 7103)).some((e) => e.resource === 'config' && e.action === 'update' && e.data.alive_ds === 7), 20000, 'the config update stored');
  tap.child.kill('SIGTERM');
  t.is(await within(tap.exited, 10000, 'the tap to end'), 0);
  await spot.kill();
});

test.serial('tap started before the spot waits for it; a PB stream, --serial over the spot\'s own, the gateway from --config', async (t) => {
  const gateway = await startTestGateway(t);
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'gateway.yaml'), `http:\n  host: 127.0.0.1\n  port: ${gateway.port}\n`);
  const port = await freePort();
  const tap = startTap(t, [`localhost:${port}`, '--json', '--ingest', '--serial', '7199', '--config', path.join(dir, 'gateway.yaml')]);
  await waitFor(() => /cannot connect \(ECONNREFUSED\); retrying/.test(tap.stderr()), 15000, 'the tap to find no spot');
  t.regex(tap.stderr(), new RegExp(`ingest: posting to http://127\\.0\\.0\\.1:${gateway.port}\\n`));
  const spot = startSpot(t, { target: 'host', serial: 7104, telnetPort: port, encoding: 'pb', runSeconds: 60 });
  await waitFor(async () => (await stored(gateway.url, 7199)).some((e) => e.resource === 'presence'), 30000, 'a presence stored under --serial');
  t.is(tap.stderr().match(/cannot connect/g)?.length, 1, 'one line per state change, not per attempt');
  t.regex(tap.stderr(), /spot localhost:\d+ says it is spot 7104; using --serial 7199/);
  const lines = tap.lines();
  t.deepEqual(lines.slice(0, 2).map((e) => `${e.resource} ${e.action}`), ['spot create', 'config create']);
  t.true(lines.every((e) => e.serial === 7199));
  const have = (await stored(gateway.url, 7199)).map((e) => `${e.resource} ${e.action}`);
  t.deepEqual(have.slice(0, 2), ['spot create', 'config create']);
  tap.child.kill('SIGTERM');
  t.is(await within(tap.exited, 10000, 'the tap to end'), 0);
  await spot.kill();
});

test.serial('tap says which bytes of the stream are no spot protocol and goes on', async (t) => {
  const server = net.createServer((socket) => socket.end('["presence","create",{"item_code":"c0ffee000001"}]\nnot an event\n["spot","update",{"online":true}]\n'));
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tap = startTap(t, [`127.0.0.1:${(server.address() as net.AddressInfo).port}`], { NO_COLOR: '' });
  await waitFor(() => /disconnected \(closed by the spot\)/.test(tap.stderr()), 15000, 'the stream to end');
  t.regex(tap.stderr(), /not a spot protocol message \(.+\)/);
  t.regex(tap.stdout(), /spot \? presence create item_code=c0ffee000001\n/);
  t.regex(tap.stdout(), /spot \? spot update online=true\n/);
  t.false(tap.stdout().includes('\x1b['), 'no colour into a pipe');
  tap.child.kill('SIGTERM');
  t.is(await within(tap.exited, 10000, 'the tap to end'), 0);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

test.serial('a reader that goes away (tap | head) ends the tap with 0 and no stack trace', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    const flood = (): void => {
      while (socket.writable && socket.write('["presence","create",{"item_code":"c0ffee000001"}]\n'));
      if (socket.writable) socket.once('drain', flood);
    };
    flood();
  });
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tap = startTap(t, [`127.0.0.1:${(server.address() as net.AddressInfo).port}`], { NO_COLOR: '' });
  await waitFor(() => tap.stdout().includes('presence create'), 15000, 'the first events printed');
  tap.child.stdout!.destroy();
  t.is(await within(tap.exited, 15000, 'the tap to end once its reader is gone'), 0);
  t.false(tap.stderr().includes('EPIPE'), tap.stderr());
});
