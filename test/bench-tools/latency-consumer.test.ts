// The C latency consumer against a real Mosquitto, fed stamped messages by mqtt.js.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { within } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startBenchTool } from '../bench/gateway/loadgen.js';

test.before(() => {
  execFileSync('make', ['-s', 'bench-tools'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'pipe', timeout: 120_000 });
});

const nowStamp = () => (performance.timeOrigin + performance.now()).toFixed(3);

interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

test('counts the messages stamped after the warm-up, whole or split across reads, and gives sane percentiles', async (t) => {
  const broker = await startMosquitto({ t });
  let ready!: () => void;
  const subscribed = new Promise<void>((r) => (ready = r));
  const consumer = startBenchTool('latency-consumer', [broker.url, '1000', '9000'], {
    timeoutMs: 30_000,
    onStdout: (out) => out.includes('ready\n') && ready(),
  });
  t.teardown(() => consumer.kill());
  await within(Promise.race([subscribed, consumer.done]), 10_000, 'the latency consumer to print "ready"');
  const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  t.teardown(() => publisher.endAsync(true));

  // The first message starts the warm-up: what is stamped within the next second is left out.
  await publisher.publishAsync('from/4711/json/presence', '["presence","create",{}]');
  for (let i = 0; i < 50; i++) await publisher.publishAsync('from/4711/json/presence', `["presence","create",{"bench_t":${nowStamp()}}]`);
  const longAgo = (Date.now() - 60_000).toFixed(3);
  for (let i = 0; i < 30; i++) await publisher.publishAsync('from/4711/json/hit', `["hit","create",{"bench_t":${longAgo}}]`);
  // The warm-up is a span of time: what follows must be stamped after it ends (1 s after the first
  // message arrived, with room for a slow machine). Not a wait for a condition.
  await new Promise((r) => setTimeout(r, 2500));

  // Many small ones at once (several per read), and large ones (split across reads, over the
  // consumer's first buffer), with the stamp in the middle of the payload.
  for (let batch = 0; batch < 4; batch++) {
    const small = Array.from({ length: 500 }, () => publisher.publishAsync('from/4712/json/presence', `["presence","update",{"bench_t":${nowStamp()}}]`));
    await Promise.all(small);
  }
  const pad = 'x'.repeat(150_000);
  for (let i = 0; i < 10; i++) await publisher.publishAsync('from/4713/json/config', `["config","update",{"a":"${pad}","bench_t":${nowStamp()},"b":"${pad}"}]`);
  // Not subscribed to: not counted.
  await publisher.publishAsync('from/4713/pb/config', `{"bench_t":${nowStamp()}}`);

  const run = await consumer.done;
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  t.is(lines[0], 'ready');
  const summary = JSON.parse(lines.at(-1)!) as Summary;
  t.is(summary.count, 2010);
  for (const v of [summary.p50, summary.p99, summary.max]) t.true(Number.isFinite(v) && v >= 0 && v < 10_000, `latency ${v} ms`);
  t.true(summary.p50 <= summary.p99 && summary.p99 <= summary.max);
});

test('no stamped message: count 0 and null percentiles', async (t) => {
  const broker = await startMosquitto({ t });
  const run = await startBenchTool('latency-consumer', [broker.url, '0', '500'], { timeoutMs: 15_000 }).done;
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.stdout.trim().split('\n'), ['ready', '{"count":0,"p50":null,"p99":null,"max":null}']);
});

test('a refused connection: exit code 1 and the broker\'s code', async (t) => {
  // A broker that refuses everyone: CONNACK with return code 5 (not authorised).
  const broker = net.createServer((socket) => socket.once('data', () => socket.end(Buffer.from([0x20, 2, 0, 5]))));
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => broker.close());
  const port = (broker.address() as net.AddressInfo).port;
  const run = await startBenchTool('latency-consumer', [`mqtt://127.0.0.1:${port}`, '0', '5000'], { timeoutMs: 15_000 }).done;
  t.is(run.code, 1);
  t.regex(run.stderr, /broker refused the connection \(code 5\)/);
  t.is(run.stdout, '');
});

test('no broker: exit code 1 and the address it tried', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const run = await startBenchTool('latency-consumer', [`mqtt://127.0.0.1:${port}`, '0', '5000'], { timeoutMs: 15_000 }).done;
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`cannot connect to the broker at 127\\.0\\.0\\.1:${port}`));
});

for (const [args, named] of [
  [[], 'expected 3 or 4 arguments'],
  [['mqtt://127.0.0.1:1883', '0', '1000', 'often'], '<report ms>'],
  [['http://127.0.0.1:1883', '0', '1000'], '<mqtt url>'],
  [['mqtt://127.0.0.1:99999', '0', '1000'], '<mqtt url>'],
  [['mqtt://127.0.0.1:1883', 'soon', '1000'], '<warm-up ms>'],
  [['mqtt://127.0.0.1:1883', '0', '-1'], '<run ms>'],
] as const) {
  test(`bad arguments: ${args.join(' ') || '(none)'} -> exit code 1 naming ${named}`, async (t) => {
    const run = await startBenchTool('latency-consumer', [...args], { timeoutMs: 10_000 }).done;
    t.is(run.code, 1);
    t.true(run.stderr.includes(named), run.stderr);
  });
}
