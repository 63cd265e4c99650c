// Latency consumer for bench-gateway, in its own process so the load generator's event loop
// does not add to what is measured. Usage: latency-consumer.ts <mqtt url> <warm-up ms> <run ms>: events written
// within the warm-up after the first message are left out.
// Prints "ready" once subscribed, and at the end one JSON line: {"count","p50","p99","max"}.
//
// A bare MQTT 3.1.1 subscriber (CONNECT, SUBSCRIBE QoS 0, PUBLISH frames read off the socket):
// the instrument must not be what is slow. mqtt.js spent ~10 us per message here, 20-30 % of a
// core at 20000 messages/s, on a 2-core machine shared with the gateway it measures.
import net from 'node:net';

const [url, fromArg, runArg] = process.argv.slice(2);
if (!url || !fromArg || !runArg) {
  console.error('usage: latency-consumer.ts <mqtt url> <warm-up ms> <run ms>');
  process.exit(2);
}
const warmupMs = Number(fromArg);
const { hostname, port } = new URL(url);
let measureFrom = Infinity;
const latencies: number[] = [];
const STAMP = Buffer.from('"bench_t":');

function mqttString(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function packet(type: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

function onPublish(payload: Buffer, now: number): void {
  if (measureFrom === Infinity) measureFrom = now + warmupMs;
  const at = payload.indexOf(STAMP);
  if (at < 0) return;
  let end = at + STAMP.length;
  while (end < payload.length && ((payload[end]! >= 0x30 && payload[end]! <= 0x39) || payload[end] === 0x2e)) end++;
  const stamp = Number(payload.toString('latin1', at + STAMP.length, end));
  if (stamp >= measureFrom) latencies.push(now - stamp);
}

const socket = net.connect({ host: hostname, port: Number(port) });
socket.setNoDelay(true);
const connect = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0x02, 0, 120]), mqttString(`bench-latency-${process.pid}`)]);
socket.write(packet(0x10, connect));
socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), mqttString('from/+/json/#'), Buffer.from([0])])));

let pending = Buffer.alloc(0);
socket.on('data', (chunk: Buffer) => {
  const now = performance.timeOrigin + performance.now();
  const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
  let i = 0;
  while (i < buf.length) {
    let rest = 0;
    let scale = 1;
    let k = i + 1;
    let complete = false;
    while (k < buf.length && k < i + 5) {
      const b = buf[k++]!;
      rest += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        complete = true;
        break;
      }
    }
    if (!complete || k + rest > buf.length) break;
    const type = buf[i]! & 0xf0;
    if (type === 0x30) {
      const topicLen = buf.readUInt16BE(k);
      onPublish(buf.subarray(k + 2 + topicLen, k + rest), now); // QoS 0: no packet id
    } else if (type === 0x90) {
      console.log('ready');
    } else if (type === 0x20 && buf[k + 1] !== 0) {
      console.error(`latency consumer: broker refused the connection (code ${buf[k + 1]})`);
      process.exit(1);
    }
    i = k + rest;
  }
  pending = i < buf.length ? Buffer.from(buf.subarray(i)) : Buffer.alloc(0);
});
socket.on('error', (err) => {
  console.error(`latency consumer: ${err.message}`);
  process.exit(1);
});

setTimeout(() => {
  socket.end(Buffer.from([0xe0, 0]));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]! : NaN);
  console.log(JSON.stringify({ count: latencies.length, p50: at(0.5), p99: at(0.99), max: at(1) }));
  process.exit(0);
}, Number(runArg));
