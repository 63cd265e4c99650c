// Diagnostic (not part of make bench-gateway): the latency phase alone, printing every second
// the latency of what arrived and the gateway's upstream status. RATE and SPOTS set the load;
// BENCH_GATEWAY_NODE_ARGS passes node flags (e.g. --cpu-prof) to the gateway.
import mqtt from 'mqtt';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { getJson, SITE_BROKER_CONFIG, startGateway, stopGateway } from './gateway-process.js';
import { runLoad } from './loadgen.js';

const broker = await startMosquitto({ extraConfig: SITE_BROKER_CONFIG });
const gw = await startGateway(broker.url);
const consumer = await mqtt.connectAsync(broker.url, { clean: true });
let latencies: number[] = [];
consumer.on('message', (_topic, payload) => {
  const m = /"bench_t":([0-9.]+)/.exec(payload.toString('latin1'));
  if (m) latencies.push(performance.timeOrigin + performance.now() - Number(m[1]));
});
await consumer.subscribeAsync('from/+/json/#', { qos: 0 });
const report = setInterval(async () => {
  const status = await getJson(gw.port, '/api/status');
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? latencies[Math.floor(latencies.length * q)]!.toFixed(1) : '-');
  console.log(`n=${latencies.length} p50=${at(0.5)} p99=${at(0.99)} status=${JSON.stringify(status.upstreams?.mqtt ?? {}).slice(0, 300)}`);
  latencies = [];
}, 1000);
try {
  const load = await runLoad({
    host: '127.0.0.1',
    port: gw.port,
    spots: Number(process.env.SPOTS ?? 200),
    durationMs: 8000,
    rate: Number(process.env.RATE ?? 20000),
    postWindowMs: 1000,
    firstSerial: 1000,
    stampEvents: true,
  });
  console.log(JSON.stringify(load));
  await new Promise((r) => setTimeout(r, 2000));
} finally {
  clearInterval(report);
  await stopGateway(gw);
  await consumer.endAsync();
  await broker.stop();
}
