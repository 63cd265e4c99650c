// make bench-scale: a gateway that has seen many distinct spots, idle but for one pending event.
// Real posts (one event from each of BENCH_SCALE_SPOTS serials) to a gateway (child process)
// forwarding to a real Mosquitto; once all is forwarded the broker stops and one more event is
// posted, so it stays pending. Then: the gateway's CPU over BENCH_SCALE_IDLE_SECONDS, the latency
// of /healthz and /metrics, its RSS. Before that, the same with the same posts from 100 spots (the
// baseline: what the load costs without the spots). Prints one summary line last.
import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';
import { SITE_BROKER_CONFIG, startGateway, stopGateway } from '../gateway/gateway-process.js';

const SPOTS = Number(process.env.BENCH_SCALE_SPOTS ?? 100_000);
const IDLE_SECONDS = Number(process.env.BENCH_SCALE_IDLE_SECONDS ?? 10);
/** First the same posts from this many spots, as the baseline (0: skip it). */
const BASELINE_SPOTS = Number(process.env.BENCH_SCALE_BASELINE_SPOTS ?? 100);
/** Posts in flight at once while the spots are made. */
const CONCURRENCY = 32;
const FIRST_SERIAL = 1_000_000;
/** Every request of the bench is bounded; before this work /metrics took up to 22 s. */
const REQUEST_TIMEOUT_MS = 120_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: body === undefined ? {} : { 'Content-Type': 'text/x-intellifi-events', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function eventBody(i: number): string {
  const code = (0xe2801170_0000_0000n + BigInt(i)).toString(16).padStart(24, '0');
  return `["presence","create",{"item_code":"${code}","proximity":"near"}]\n\n`;
}

async function post(port: number, serial: number, i: number): Promise<void> {
  const res = await request(port, 'POST', `/api/spots/${serial}/events/`, eventBody(i));
  if (res.status !== 200) throw new Error(`spot ${serial}: post answered ${res.status}: ${res.text}`);
}

async function status(port: number): Promise<any> {
  return JSON.parse((await request(port, 'GET', '/api/status')).text);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Median and p95 of `n` sequential requests, in ms. */
async function latency(port: number, path: string, n: number): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await request(port, 'GET', path);
    times.push(performance.now() - t0);
    if (res.status !== 200 && res.status !== 404) throw new Error(`GET ${path} answered ${res.status}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)]!, p95: times[Math.min(n - 1, Math.ceil(n * 0.95) - 1)]! };
}

interface Figures {
  known: number;
  seedS: number;
  idleCpuPct: number;
  healthz: { median: number; p95: number };
  metrics: { median: number; p95: number };
  statusMedian: number;
  spotsFirstMedian: number;
  spotsMiddleMedian: number;
  floorMedian: number;
  rssMb: number;
  hwmMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
}

/** A gateway with a broker of its own: `posts` one-event posts from `spots` serials in turn, then one pending event, then the figures. */
async function measure(spots: number, posts: number): Promise<Figures> {
  const broker = await startMosquitto({ extraConfig: SITE_BROKER_CONFIG });
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gw = await startGateway(broker.url);
    const { port } = gw;
    const pid = gw.child.pid!;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < posts) {
          const i = next++;
          await post(port, FIRST_SERIAL + (i % spots), i);
        }
      }),
    );
    const seedS = (performance.now() - t0) / 1000;
    await waitFor(async () => Number((await status(port)).upstreams?.mqtt?.lag ?? 1) === 0, 600_000, 'bench-scale: every event forwarded', 500);
    // The broker goes away: the next event stays pending, as through any outage.
    await broker.stop();
    await post(port, FIRST_SERIAL, posts);
    await waitFor(async () => Number((await status(port)).upstreams?.mqtt?.spotsPending ?? 0) === 1, 60_000, 'bench-scale: one spot pending', 500);
    // Every spot offline (spots.offline_after_s, 10 s) and their disconnected states dealt with.
    await waitFor(async () => Number((await status(port)).spots?.online ?? 1) === 0, 120_000, 'bench-scale: every spot offline', 500);
    const known = Number((await status(port)).spots?.known ?? NaN);

    const cpu0 = cpuSeconds(pid);
    const w0 = performance.now();
    // The span the idle CPU is measured over: the figure itself, not a wait for a condition.
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - w0) / 1000)) * 100;

    // The floor: an unknown path, answered 404 by the same HTTP server without touching the store.
    const floor = await latency(port, '/no-such-path', 20);
    const healthz = await latency(port, '/healthz', 20);
    const metrics = await latency(port, '/metrics', 10);
    const statusMs = await latency(port, '/api/status', 10);
    // A page of the spot list (the default: up to 1000 spots), the first and one from the middle.
    const spotsFirst = await latency(port, '/api/spots', 10);
    const spotsMiddle = await latency(port, `/api/spots?after=${FIRST_SERIAL + Math.floor(spots / 2)}`, 10);
    // V8's heap as the gateway reports it (prom-client's process metrics): what of the RSS is heap.
    const text = (await request(port, 'GET', '/metrics')).text;
    const gauge = (name: string) => Number(new RegExp(`^spot_gateway_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
    const figures = {
      heapTotalMb: gauge('nodejs_heap_size_total_bytes'),
      heapUsedMb: gauge('nodejs_heap_size_used_bytes'),
      known,
      seedS,
      idleCpuPct,
      healthz,
      metrics,
      statusMedian: statusMs.median,
      spotsFirstMedian: spotsFirst.median,
      spotsMiddleMedian: spotsMiddle.median,
      floorMedian: floor.median,
      rssMb: memoryMb(pid, 'VmRSS'),
      hwmMb: memoryMb(pid, 'VmHWM'),
    };
    await stopGateway(gw);
    gw = undefined;
    return figures;
  } finally {
    if (gw) {
      gw.child.kill('SIGKILL');
      rmSync(gw.dataDir, { recursive: true, force: true });
    }
    await broker.kill();
  }
}

async function main(): Promise<void> {
  const f1 = (n: number) => n.toFixed(1);
  try {
    if (BASELINE_SPOTS > 0) {
      // The same posts from a few spots: what the load alone leaves behind (RSS above all).
      const b = await measure(BASELINE_SPOTS, SPOTS);
      console.log(
        `scale: baseline, the same ${SPOTS} posts from ${BASELINE_SPOTS} spots (${f1(b.seedS)} s): idle_cpu_pct=${f1(b.idleCpuPct)} ` +
          `healthz_ms=${f1(b.healthz.median)} metrics_ms=${f1(b.metrics.median)} rss_mb=${Math.round(b.rssMb)} (peak ${Math.round(b.hwmMb)}; ` +
          `V8 heap ${Math.round(b.heapTotalMb)} MB, ${Math.round(b.heapUsedMb)} used)`,
      );
    }
    const m = await measure(SPOTS, SPOTS);
    console.log(`scale: ${SPOTS} spots posted one event each in ${f1(m.seedS)} s (${Math.round(SPOTS / m.seedS)} posts/s)`);
    console.log(
      `scale: p95 healthz_ms=${f1(m.healthz.p95)} metrics_ms=${f1(m.metrics.p95)}; /api/status median ${f1(m.statusMedian)} ms; ` +
        `404 floor median ${f1(m.floorMedian)} ms; peak rss (VmHWM, seeding included) ${Math.round(m.hwmMb)} MB; ` +
        `V8 heap ${Math.round(m.heapTotalMb)} MB, ${Math.round(m.heapUsedMb)} used`,
    );
    console.log(`scale: GET /api/spots page of 1000 median ${f1(m.spotsFirstMedian)} ms (first), ${f1(m.spotsMiddleMedian)} ms (from the middle); 404 floor ${f1(m.floorMedian)} ms`);
    console.log(
      `scale: known_spots=${m.known} idle_cpu_pct=${f1(m.idleCpuPct)} healthz_ms=${f1(m.healthz.median)} metrics_ms=${f1(m.metrics.median)} rss_mb=${Math.round(m.rssMb)}`,
    );
  } finally {
    agent.destroy();
  }
}

main().catch((err) => {
  console.error(`bench-scale failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
