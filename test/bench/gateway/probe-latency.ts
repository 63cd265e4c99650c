// Diagnostic: latency phase only, sampling the gateway's status every second.
import mqtt from 'mqtt';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { runLoad } from './loadgen.js';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const broker = await startMosquitto({ extraConfig: 'max_inflight_messages 0\nset_tcp_nodelay true' });
import net from 'node:net';
const port = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'probe-'));
const child = spawn(process.execPath, [...(process.env.GW_ARGS ?? '').split(' ').filter(Boolean), 'gateway/bin/spot-gateway.js', 'run'], {
  env: { ...process.env, SPOT_GATEWAY_HTTP_PORT: String(port), SPOT_GATEWAY_DATA_DIR: dataDir, SPOT_GATEWAY_MQTT_URL: broker.url, SPOT_GATEWAY_LOG_LEVEL: process.env.GW_LOG ?? 'warn' },
  stdio: 'inherit',
});
await new Promise((r) => setTimeout(r, 2500));
const consumer = await mqtt.connectAsync(broker.url, { clean: true });
let lat: number[] = [];
consumer.on('message', (_t, payload) => {
  const m = /"bench_t":([0-9.]+)/.exec(payload.toString());
  if (m) lat.push(performance.timeOrigin + performance.now() - Number(m[1]));
});
await consumer.subscribeAsync('from/+/json/#', { qos: 0 });
const iv = setInterval(async () => {
  const s = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat.length ? lat[Math.floor(lat.length * q)]!.toFixed(1) : '-';
  console.log(`n=${lat.length} p50=${p(0.5)} p99=${p(0.99)} max=${p(0.999)} status=${JSON.stringify(s.upstreams?.mqtt ?? s).slice(0, 300)}`);
  lat = [];
}, 1000);
const res = await runLoad({ host: '127.0.0.1', port, spots: Number(process.env.SPOTS ?? 200), durationMs: 8000, rate: Number(process.env.RATE ?? 20000), postWindowMs: 1000, firstSerial: 1000, stampEvents: true });
console.log(JSON.stringify(res));
await new Promise((r) => setTimeout(r, 2000));
clearInterval(iv);
child.kill("SIGTERM"); await new Promise((r) => setTimeout(r, 1500));
await consumer.endAsync();
await broker.stop();
