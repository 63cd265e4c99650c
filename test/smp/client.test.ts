// The SMP client against the stand-in over an in-memory port pair: every request gets its own
// answer or a reason, through lost, duplicated and corrupted responses and console chatter.
import test from 'ava';
import { SmpClient, type SmpClientOptions } from '../../gateway/src/smp/client.js';
import { echo, imageState, mcumgrParams, osInfo, reset, setImageState } from '../../gateway/src/smp/commands.js';
import { encodeMessage, GROUP, OP, SMP_V1 } from '../../gateway/src/smp/message.js';
import { encodePacket } from '../../gateway/src/smp/serial-frame.js';
import { portPair } from '../helpers/port-pair.js';
import { freshFlash, SmpServerStandIn, type StandInOptions } from '../helpers/smp-server.js';
import { signedImage } from './images.js';

function setup(options: StandInOptions = {}, clientOptions: SmpClientOptions = {}) {
  const { gateway, device } = portPair();
  const server = new SmpServerStandIn(device, freshFlash(signedImage('1.0.0')), options);
  const console: string[] = [];
  const client = new SmpClient(gateway, { timeoutMs: 200, tries: 3, onConsole: (line) => console.push(line.toString()), ...clientOptions });
  return { client, server, console, device };
}

test('echo returns the text the device echoed', async (t) => {
  const { client } = setup();
  t.deepEqual(await echo(client, 'hello spot'), { ok: true, value: 'hello spot' });
});

test('an echo longer than one serial line goes out in continuation frames and comes back whole', async (t) => {
  const { client } = setup();
  const text = 'x'.repeat(300);
  t.deepEqual(await echo(client, text), { ok: true, value: text });
});

test('a lost response is retried, and the retry is answered', async (t) => {
  const { client, server } = setup({ faults: { dropResponses: 2 } });
  t.deepEqual(await echo(client, 'once'), { ok: true, value: 'once' });
  t.is(client.stats.retries, 2);
  t.is(server.requests.length, 3, 'the same request went out three times');
});

test('a corrupted response is dropped and the request retried', async (t) => {
  const { client } = setup({ faults: { corruptResponses: 1 } });
  t.deepEqual(await echo(client, 'crc'), { ok: true, value: 'crc' });
  t.is(client.stats.dropped, 1);
  t.is(client.stats.retries, 1);
});

test('a duplicated response answers its own request only, never the next one', async (t) => {
  const { client } = setup({ faults: { duplicateResponses: 3 } });
  t.deepEqual(await echo(client, 'first'), { ok: true, value: 'first' });
  t.deepEqual(await echo(client, 'second'), { ok: true, value: 'second' });
  t.deepEqual(await echo(client, 'third'), { ok: true, value: 'third' });
  t.true(client.stats.strays >= 1, 'the duplicates were seen and set aside');
});

test('a device that never answers gives no-answer after the configured tries, within their timeouts', async (t) => {
  const { client, server } = setup({ faults: { dropResponses: 100 } });
  const started = Date.now();
  const result = await echo(client, 'anyone?');
  t.like(result, { ok: false, reason: 'no-answer' });
  t.regex(result.ok ? '' : result.detail, /no answer to group 0 command 0 after 3 tries \(200 ms each\)/);
  t.is(server.requests.length, 3);
  t.true(Date.now() - started < 3 * 200 + 500);
});

test('console lines on the same UART reach the console listener and do not disturb the exchange', async (t) => {
  const { client, console } = setup({ faults: { consoleNoise: true } });
  t.deepEqual(await echo(client, 'noisy'), { ok: true, value: 'noisy' });
  t.true(console.includes('[00:00:01.000] <inf> spot: console line before a response\r'));
  t.is(client.stats.dropped, 0);
});

test('requests made at once are sent one after the other, each with its own sequence number', async (t) => {
  const { client, server } = setup();
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((s) => echo(client, s)));
  t.deepEqual(results.map((r) => (r.ok ? r.value : r.reason)), ['a', 'b', 'c', 'd']);
  t.deepEqual(server.requests.map((h) => h.seq), [0, 1, 2, 3]);
});

test('mcumgr params reads buf_size and buf_count; a device without the command gives null', async (t) => {
  t.deepEqual(await mcumgrParams(setup({ bufSize: 384, bufCount: 2 }).client), { ok: true, value: { bufSize: 384, bufCount: 2 } });
  t.deepEqual(await mcumgrParams(setup({ noParams: true }).client), { ok: true, value: null });
});

test('image state lists the running image with its version, hash and flags', async (t) => {
  const { client } = setup();
  const state = await imageState(client);
  t.true(state.ok);
  if (!state.ok) return;
  t.is(state.value.length, 1);
  t.like(state.value[0], { image: 0, slot: 0, version: '1.0.0', active: true, confirmed: true, pending: false });
  t.is(state.value[0]!.hash?.length, 32);
});

test('a refusal by the device is a device-error with its rc and group (SMP v2 "err")', async (t) => {
  const { client } = setup();
  const result = await setImageState(client, { hash: Buffer.alloc(32, 1), confirm: false });
  t.like(result, { ok: false, reason: 'device-error', rc: 3, group: GROUP.image });
});

test('the original protocol version is spoken when asked, and its "rc" errors are understood', async (t) => {
  const { client, server } = setup({}, { version: SMP_V1 });
  t.like(await setImageState(client, { hash: Buffer.alloc(32, 1), confirm: false }), { ok: false, reason: 'device-error', rc: 3, group: null });
  t.is(server.requests[0]!.version, SMP_V1);
});

test('a device that finds SMP v2 too new gets the request again in the original version', async (t) => {
  const { gateway, device } = portPair();
  const seen: number[] = [];
  device.on('data', (chunk: Buffer) => {
    const version = (Buffer.from(chunk.toString('latin1').slice(2, -1), 'base64')[2]! >> 3) & 3;
    seen.push(version);
    const body = version === 1 ? { rc: 13 } : { r: 'old' };
    device.write(encodePacket(encodeMessage({ op: OP.writeResponse, version: 0, flags: 0, group: 0, seq: seen.length === 1 ? 0 : 1, id: 0 }, body)));
  });
  const client = new SmpClient(gateway, { timeoutMs: 200 });
  t.deepEqual(await echo(client, 'old'), { ok: true, value: 'old' });
  t.deepEqual(seen, [1, 0]);
});

test('reset is acknowledged before the device restarts', async (t) => {
  const { client, server } = setup();
  t.deepEqual(await reset(client), { ok: true, value: { answered: true } });
  t.is(server.resets, 1);
});

test('os info returns what the device says about itself', async (t) => {
  t.deepEqual(await osInfo(setup().client), { ok: true, value: 'spot-stand-in 1.0.0 mps2-an385' });
});

test('with an injected clock: each try waits its timeout, then the next goes out, and no timer outlives the request', async (t) => {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let nextId = 1;
  const timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (id: unknown) => void pending.delete(id as number),
  };
  const writes: Buffer[] = [];
  const port = { write: (b: Buffer) => writes.push(b), on: () => undefined, off: () => undefined };
  const client = new SmpClient(port, { timeoutMs: 5000, tries: 3, timers });
  const result = echo(client, 'silence');
  for (let fired = 0; fired < 3; fired++) {
    while (pending.size === 0) await new Promise((r) => setImmediate(r));
    t.is(writes.length, fired + 1, 'one write per try, before its timer fires');
    const [id, timer] = [...pending.entries()][0]!;
    t.is(timer.ms, 5000);
    pending.delete(id);
    timer.fn();
  }
  t.like(await result, { ok: false, reason: 'no-answer' });
  t.is(writes.length, 3);
  t.is(pending.size, 0);
});
