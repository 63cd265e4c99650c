// `spot-gateway tap`, in-process: arguments, the printed line, and the --ingest forwarder against a real gateway.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { runCli, type CliIo } from '../../gateway/src/cli/index.js';
import { eventLine, keyFields, wantColour } from '../../gateway/src/cli/tap/format.js';
import { Forwarder, MAX_PENDING_EVENTS } from '../../gateway/src/cli/tap/forward.js';
import { isAliveSignal, parseSerialOption, parseTarget } from '../../gateway/src/cli/tap/index.js';
import { api, startTestGateway, waitFor, within } from '../helpers/gateway.js';
import type { SpotEvent } from '../../gateway/src/protocol/index.js';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (s) => (out += s), err: (s) => (err += s), env, cwd: process.cwd(), stdout: () => out, stderr: () => err };
}

const presence = (n: number): SpotEvent => ({
  resource: 'presence',
  action: 'create',
  data: { item_code: `e2801170000002${String(n).padStart(10, '0')}`, item_codetype: 'EPC Gen2', proximity: 'near', time_started: '2026-01-01T00:00:00.000Z' },
  offset: 0,
  index: n,
});

test('tap names what is wrong with its arguments and exits 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /the spot HOST\[:PORT\] is missing/],
    [['a', 'b'], /one spot only, got "a b"/],
    [['host:99999'], /port "99999" of "host:99999" is not 1\.\.65535/],
    [['a:b:c'], /"a:b:c" is not HOST\[:PORT\]/],
    [['host', '--serial', 'x1'], /--serial "x1" is not a positive integer/],
    [['host', '--token', 'x'], /--url and --token go with --ingest/],
    [['host', '--bogus'], /Unknown option '--bogus'/],
    [['host', '--ingest', '--config', '/nonexistent/gateway.yaml'], /nonexistent/],
  ];
  for (const [args, message] of cases) {
    const cli = io();
    t.is(await runCli(['tap', ...args], cli), 2, args.join(' '));
    t.regex(cli.stderr(), message);
  }
  const help = io();
  t.is(await runCli(['tap', '--help'], help), 0);
  t.regex(help.stdout(), /Usage: spot-gateway tap HOST\[:PORT\]/);
  const main = io();
  t.is(await runCli(['--help'], main), 0);
  t.regex(main.stdout(), /spot-gateway tap HOST\[:PORT\] \[--ingest\]/);
});

test('targets, serials and the alive signal', (t) => {
  t.deepEqual(parseTarget('spot.local'), { host: 'spot.local', port: 23 });
  t.deepEqual(parseTarget('10.0.0.5:2323'), { host: '10.0.0.5', port: 2323 });
  t.deepEqual(parseTarget('[::1]:24'), { host: '::1', port: 24 });
  t.deepEqual(parseTarget('[fe80::1]'), { host: 'fe80::1', port: 23 });
  t.is(parseTarget('host:0'), 'port "0" of "host:0" is not 1..65535');
  t.is(parseSerialOption('4711'), 4711);
  t.is(parseSerialOption('0'), '--serial "0" is not a positive integer');
  t.true(isAliveSignal({ resource: 'spot', action: 'update', data: { online: true }, offset: 0, index: 0 }));
  t.false(isAliveSignal({ resource: 'spot', action: 'update', data: { online: false }, offset: 0, index: 0 }));
  t.false(isAliveSignal({ resource: 'spot', action: 'update', data: { online: true, output_1: true }, offset: 0, index: 0 }));
});

test('the printed line: time, serial, event, key fields; colour only on request; JSON', (t) => {
  const at = new Date('2026-03-04T05:06:07.089Z');
  const event = presence(1);
  t.is(eventLine(event, 4711, at, { json: false, colour: false }), '05:06:07.089 spot 4711 presence create item_code=e28011700000020000000001 item_codetype=EPC Gen2 proximity=near +1\n');
  t.is(eventLine(event, undefined, at, { json: false, colour: false }).slice(13, 19), 'spot ?');
  const coloured = eventLine({ ...event, action: 'delete' }, 4711, at, { json: false, colour: true });
  t.true(coloured.includes('\x1b[1;33mpresence delete\x1b[0m'), coloured);
  t.true(eventLine({ ...event, action: 'other' }, 4711, at, { json: false, colour: true }).includes('\x1b[1;35m'));
  t.deepEqual(JSON.parse(eventLine(event, 4711, at, { json: true, colour: true })), {
    time: '2026-03-04T05:06:07.089Z',
    serial: 4711,
    resource: 'presence',
    action: 'create',
    data: event.data,
  });
  t.is(keyFields({ rfid_swr: [1, 2], antenna: 2 }), 'antenna=2 +1');
  t.true(wantColour(true, {}));
  t.false(wantColour(true, { NO_COLOR: '1' }));
  t.true(wantColour(true, { NO_COLOR: '' }), 'an empty NO_COLOR does not count (no-color.org)');
  t.false(wantColour(false, {}));
});

test('the forwarder keeps at most MAX_PENDING_EVENTS, posts them in both encodings once the serial is known, and says what it dropped', async (t) => {
  const gateway = await startTestGateway(t);
  const said: string[] = [];
  const forwarder = new Forwarder({ url: gateway.url, say: (l) => said.push(l), onReply: () => t.fail('no commands were queued') });
  t.teardown(() => forwarder.stop());
  for (let n = 1; n <= MAX_PENDING_EVENTS + 2; n++) forwarder.push(presence(n), n > MAX_PENDING_EVENTS - 3 ? 'pb' : 'json');
  t.is(forwarder.pendingCount, MAX_PENDING_EVENTS);
  t.deepEqual(said, [`ingest: ${MAX_PENDING_EVENTS} events waiting for the gateway; dropping the oldest`]);
  forwarder.setSerial(4801);
  await waitFor(() => forwarder.pendingCount === 0, 60000, 'everything posted');
  t.is(forwarder.stored, MAX_PENDING_EVENTS);
  t.true(said.includes('ingest: 2 events were dropped while the gateway was away'), said.join('\n'));
  const { body } = await api<Array<{ data: { item_code: string } }>>(gateway.url, '/api/events?spot=4801&limit=10000');
  t.is(body.length, MAX_PENDING_EVENTS);
  t.is(body[0]!.data.item_code, presence(3).data.item_code as string, 'the two oldest were dropped');
  t.is(body.at(-1)!.data.item_code, presence(MAX_PENDING_EVENTS + 2).data.item_code as string, 'the PB-encoded tail arrived');
});

test('the forwarder polls on an alive signal, hands the reply (queued commands) on, and on stop posts what is pending', async (t) => {
  const gateway = await startTestGateway(t);
  const replies: string[] = [];
  const forwarder = new Forwarder({ url: gateway.url, say: () => undefined, onReply: (b) => replies.push(Buffer.from(b).toString()) });
  t.is((await api(gateway.url, '/api/spots/4802/commands', { body: { resource: 'config', action: 'update', data: { alive_ds: 5 } } })).status, 202);
  forwarder.setSerial(4802);
  // An alive signal with nothing pending: an empty post, which keeps the spot online and fetches its commands.
  forwarder.alive('json');
  await waitFor(() => replies.length === 1, 10000, 'the reply');
  t.regex(replies[0]!, /\["config","update",\{"alive_ds":5\}\]/);
  t.is((await api<unknown[]>(gateway.url, '/api/events?spot=4802')).body.length, 0, 'the alive signal is not stored');
  t.is((await api<{ spots: { online: number } }>(gateway.url, '/api/status')).body.spots.online, 1);
  forwarder.push(presence(1), 'json');
  forwarder.push(presence(2), 'json');
  await within(forwarder.stop(), 10000, 'the forwarder to stop');
  t.is(forwarder.pendingCount, 0);
  t.is((await api<unknown[]>(gateway.url, '/api/events?spot=4802')).body.length, 2);
});

test('the forwarder names a refusal that is not the gateway\'s JSON by the start of its body', async (t) => {
  const server = http.createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('proxy: upstream down'));
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const said: string[] = [];
  const forwarder = new Forwarder({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, say: (l) => said.push(l), onReply: () => undefined });
  forwarder.setSerial(4804);
  forwarder.push(presence(1), 'json');
  await waitFor(() => said.length > 0, 10000, 'the refusal');
  t.regex(said[0]!, /: HTTP 502 proxy: upstream down; keeping events, retrying$/);
  await within(forwarder.stop(), 5000, 'the forwarder to stop');
  t.is(forwarder.pendingCount, 1);
});

test('the forwarder stops at once when the gateway is away and keeps the events counted', async (t) => {
  const gateway = await startTestGateway(t);
  const url = gateway.url;
  await gateway.stop();
  const said: string[] = [];
  const forwarder = new Forwarder({ url, say: (l) => said.push(l), onReply: () => undefined });
  forwarder.setSerial(4803);
  forwarder.push(presence(1), 'json');
  await waitFor(() => said.some((l) => /not reachable \(ECONNREFUSED\)/.test(l)), 10000, 'the refusal');
  await within(forwarder.stop(), 5000, 'the forwarder to stop');
  t.is(forwarder.pendingCount, 1);
  t.is(forwarder.stored, 0);
});
