// Diagnostic (not part of make bench-gateway): the latency phase alone, printing every second
// the latency of what arrived and the gateway's upstream status. RATE and SPOTS set the load;
// BENCH_GATEWAY_NODE_ARGS passes node flags (e.g. --cpu-prof) to the gateway. Needs `make bench-tools`.
import { startMosquitto } from '../../helpers/mosquitto.js';
import { getJson, SITE_BROKER_CONFIG, startGateway, stopGateway } from './gateway-process.js';
import { runLoad, startBenchTool } from './loadgen.js';

const LOAD_MS = 8000;
const RUN_MS = LOAD_MS + 3000;

const broker = await startMosquitto({ extraConfig: SITE_BROKER_CONFIG });
const gw = await startGateway(broker.url);
let printed = 0;
let subscribed!: () => void;
const ready = new Promise<void>((r) => (subscribed = r));
// One line a second for what was read in that second, then one for the whole run.
const consumer = startBenchTool('latency-consumer', [broker.url, '0', String(RUN_MS), '1000'], {
  timeoutMs: RUN_MS + 20_000,
  echoStderr: true,
  onStdout: (out) => {
    const lines = out.split('\n').slice(0, -1);
    if (lines[0] === 'ready') subscribed();
    for (const line of lines.slice(1 + printed)) {
      printed++;
      void getJson(gw.port, '/api/status').then(
        (status) => console.log(`${line} status=${JSON.stringify(status.upstreams?.mqtt ?? {}).slice(0, 300)}`),
        () => console.log(line),
      );
    }
  },
});
try {
  await Promise.race([ready, consumer.done.then(() => Promise.reject(new Error('latency consumer exited before subscribing')))]);
  const load = await runLoad({
    host: '127.0.0.1',
    port: gw.port,
    spots: Number(process.env.SPOTS ?? 200),
    durationMs: LOAD_MS,
    rate: Number(process.env.RATE ?? 20000),
    postWindowMs: 1000,
    firstSerial: 1000,
    stampEvents: true,
  });
  console.log(JSON.stringify(load));
  await consumer.done;
} finally {
  consumer.kill();
  await stopGateway(gw);
  await broker.stop();
}
