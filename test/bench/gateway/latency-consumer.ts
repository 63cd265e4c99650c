// Latency consumer for bench-gateway, in its own process so the load generator's event loop
// does not add to what is measured. Usage: latency-consumer.ts <mqtt url> <warm-up ms> <run ms>: events written
// within the warm-up after the first message are left out.
// Prints "ready" once subscribed, and at the end one JSON line: {"count","p50","p99","max"}.
import mqtt from 'mqtt';

const [url, fromArg, runArg] = process.argv.slice(2);
if (!url || !fromArg || !runArg) {
  console.error('usage: latency-consumer.ts <mqtt url> <warm-up ms> <run ms>');
  process.exit(2);
}
const warmupMs = Number(fromArg);
let measureFrom = Infinity;
const latencies: number[] = [];
const client = await mqtt.connectAsync(url, { clean: true });
client.on('message', (_topic, payload) => {
  const now = performance.timeOrigin + performance.now();
  if (measureFrom === Infinity) measureFrom = now + warmupMs;
  const m = /"bench_t":([0-9.]+)/.exec(payload.toString('latin1'));
  if (m && Number(m[1]) >= measureFrom) latencies.push(now - Number(m[1]));
});
await client.subscribeAsync('from/+/json/#', { qos: 0 });
console.log('ready');
await new Promise((r) => setTimeout(r, Number(runArg)));
await client.endAsync();
latencies.sort((a, b) => a - b);
const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]! : NaN);
console.log(JSON.stringify({ count: latencies.length, p50: at(0.5), p99: at(0.99), max: at(1) }));
